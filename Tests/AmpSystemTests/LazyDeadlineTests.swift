import Glibc
import Testing

@testable import AmpSystem

@Suite("LazyDeadlineTests")
struct LazyDeadlineTests {
    @Test func theFirstLookFixesTheDeadlineAndLaterLooksCountDown() {
        var deadline = LazyDeadline()
        #expect(!deadline.isStarted)
        let first = deadline.nanosecondsLeft(after: .seconds(10)) ?? 0
        #expect(deadline.isStarted)
        #expect(first > 9_000_000_000 && first <= 10_000_000_000)
        // A later look with another duration keeps the first deadline: time only runs down.
        let second = deadline.nanosecondsLeft(after: .seconds(1_000)) ?? .max
        #expect(second <= first)
    }

    @Test func aPassedDeadlineLeavesNothing() {
        var deadline = LazyDeadline()
        #expect(deadline.nanosecondsLeft(after: .zero) == nil)
        #expect(deadline.isStarted)
        #expect(deadline.nanosecondsLeft(after: .seconds(10)) == nil, "fixed at the first look, already passed")
        var short = LazyDeadline()
        #expect(short.nanosecondsLeft(after: .milliseconds(1)) != nil)
        var slept = timespec(tv_sec: 0, tv_nsec: 3_000_000)
        _ = nanosleep(&slept, nil)
        #expect(short.nanosecondsLeft(after: .seconds(10)) == nil)
    }
}

import AmpSystem
import Foundation
import Glibc
import Testing

@testable import AmpRemote

/// `MessageLoop.block(timeout:until:)`, the wait a blocking rpmsg send runs inside a callback: only essential
/// timers (the heartbeat) run, the doorbell's bits are kept for the loop, and a stop request ends the wait.
@Suite struct RpmsgBlockingWaitTests {
    typealias Fixture = MessageLoopTests.Fixture

    @Test func onlyEssentialTimersRunWhileBlockedUntilTheTimeout() throws {
        let fixture = try Fixture()
        let loop = fixture.loop
        var beats = 0
        var ordinary = 0
        loop.every(.milliseconds(5), essential: true) { beats += 1 }
        loop.every(.milliseconds(5)) { ordinary += 1 }
        let start = MonotonicClock.nanoseconds()
        #expect(try loop.block(timeout: .milliseconds(100)) { false } == .timedOut)
        let elapsed = MonotonicClock.nanoseconds() - start
        #expect(elapsed >= 100_000_000)
        #expect(beats >= 5 && UInt64(beats) <= elapsed / 5_000_000, "\(beats) beats in \(elapsed / 1_000_000) ms")
        #expect(ordinary == 0)
    }

    @Test func aRingWakesTheWaitAndItsBitsAreDispatchedAfterwards() throws {
        let fixture = try Fixture()
        let loop = fixture.loop
        var dispatched: [UInt32] = []
        loop.onAnyNotify { dispatched.append($0) }
        var checks = 0
        let ringer = try Doorbell(segment: fixture.segment, mailboxOffset: 0x180, kind: .futex)
        let thread = Thread {
            usleep(20_000)
            try? ringer.ring(notifyID: 3)
        }
        thread.start()
        // A long recheck period: only the ring can end the wait in time.
        let outcome = try loop.block(timeout: .seconds(5), recheckEvery: .seconds(5)) {
            checks += 1
            return checks == 2
        }
        #expect(outcome == .conditionMet)
        #expect(checks == 2)
        #expect(dispatched == [])
        loop.post { loop.quit() }
        #expect(try loop.run() == .quit)
        #expect(dispatched == [0x8])
    }

    @Test func aStopRequestEndsTheWaitButAMetConditionWins() throws {
        let fixture = try Fixture()
        let loop = fixture.loop
        fixture.stop = true
        #expect(try loop.block(timeout: .seconds(5)) { false } == .stopRequested)
        #expect(try loop.block(timeout: .seconds(5)) { true } == .conditionMet)
    }

    @Test func theRecheckPeriodBoundsTheSleepWithoutARing() throws {
        let fixture = try Fixture()
        let loop = fixture.loop
        let start = MonotonicClock.nanoseconds()
        let outcome = try loop.block(timeout: .seconds(5), recheckEvery: .milliseconds(10)) {
            MonotonicClock.nanoseconds() - start >= 30_000_000
        }
        #expect(outcome == .conditionMet)
        #expect(MonotonicClock.nanoseconds() - start < 1_000_000_000)
    }
}

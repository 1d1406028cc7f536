import Glibc
import Synchronization
import Testing

@testable import AmpSystem

/// The polling wait: work found in shared memory instead of rung, and the arm step before sleeping.
@Suite("DoorbellPollingTests")
struct DoorbellPollingTests {
    @Test func pollingFindsWorkWithoutARing() throws {
        let fixture = try DoorbellTests.Fixture("dbpoll")
        let doorbell = try Doorbell(segment: fixture.segment, mailboxOffset: 0, kind: .futex)
        // Work already there: the first poll finds it, nothing is armed.
        var arms = 0
        var mask = try doorbell.wait(timeout: .seconds(1), polledMask: 0x4, poll: { true }, arm: { arms += 1; return false })
        #expect(mask == 0x4 && arms == 0)
        // Pending bits come first, with the polled mask only when polling found something.
        try doorbell.ring(notifyID: 1)
        mask = try doorbell.wait(timeout: .seconds(1), polledMask: 0x4, poll: { true }, arm: { false })
        #expect(mask == 0x2)
        // Work that shows up while spinning or at the arm step: found without sleeping.
        var polls = 0
        mask = try doorbell.wait(timeout: .seconds(1), polledMask: 0x4, poll: { polls += 1; return polls == 3 }, arm: { false })
        #expect(mask == 0x4 || (doorbell.spinBudgetNanoseconds == 0 && mask == 0))
        mask = try doorbell.wait(timeout: .seconds(1), polledMask: 0x10, poll: { false }, arm: { arms += 1; return true })
        #expect(mask == 0x10 && arms == 1)
    }

    @Test func armedWaiterSleepsUntilRungOrTimeout() throws {
        let fixture = try DoorbellTests.Fixture("dbpoll2")
        let doorbell = try Doorbell(segment: fixture.segment, mailboxOffset: 0, kind: .futex)
        var arms = 0
        let mask = try doorbell.wait(timeout: .milliseconds(20), polledMask: 0x4, poll: { false }, arm: { arms += 1; return false })
        #expect(mask == 0 && arms == 1)
    }
}

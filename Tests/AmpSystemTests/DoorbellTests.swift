import Dispatch
import Glibc
import Synchronization
import Testing

@testable import AmpSystem

/// Doorbell semantics inside one process (both ends mapped here); the cross-process runs are in
/// DoorbellProcessTests.
@Suite("DoorbellTests")
struct DoorbellTests {
    /// A segment with one mailbox pair at offset 0, unlinked at the end of each test.
    final class Fixture: Sendable {
        let segment: SharedMemorySegment
        init(_ label: String) throws {
            segment = try SharedMemorySegment.create(name: try TestSupport.uniqueSegmentName(label), size: 4096)
        }
        deinit {
            try? segment.unlink()
        }
        func word(_ offset: Int) throws -> UInt32 { try segment.atomicWord(at: offset).load() }
    }

    @Test func layoutOffsetsAndNotifyBits() {
        #expect(MailboxLayout.size == 64)
        #expect(MailboxLayout.alignment == 64)
        #expect(MailboxLayout.pendingOffset == 0)
        #expect(MailboxLayout.sequenceOffset == 4)
        #expect(MailboxLayout.sleepersOffset == 8)
        #expect(MailboxLayout.pairSize == 128)
        #expect(MailboxLayout.hostToRemoteOffset == 0)
        #expect(MailboxLayout.remoteToHostOffset == 64)
        #expect(MailboxLayout.bit(forNotifyID: 0) == 0x0000_0001)
        #expect(MailboxLayout.bit(forNotifyID: 5) == 0x0000_0020)
        #expect(MailboxLayout.bit(forNotifyID: 30) == 0x4000_0000)
        #expect(MailboxLayout.bit(forNotifyID: 31) == 0x8000_0000)
        #expect(MailboxLayout.bit(forNotifyID: 32) == 0x8000_0000)
        #expect(MailboxLayout.bit(forNotifyID: 1000) == 0x8000_0000)
        #expect(Doorbell.wakeBit == 0x8000_0000)
    }

    @Test func spinBudgetIsZeroOnASingleCPU() {
        #expect(Doorbell.effectiveSpinBudget(.microseconds(30), usableCPUs: 1) == 0)
        #expect(Doorbell.effectiveSpinBudget(.microseconds(30), usableCPUs: 2) == 30_000)
        #expect(Doorbell.effectiveSpinBudget(.zero, usableCPUs: 8) == 0)
        #expect(CPUAffinity.usableCPUCount() >= 1)
    }

    @Test func ringSetsTheDocumentedWordsAndWaitTakesThem() throws {
        let fixture = try Fixture("ring")
        let bell = try Doorbell(segment: fixture.segment, mailboxOffset: 64, kind: .futex)
        try bell.ring(notifyID: 3)
        try bell.ring(notifyID: 3)
        try bell.ring(notifyID: 40)
        #expect(try fixture.word(64) == 0x8000_0008)  // pending
        #expect(try fixture.word(68) == 3)  // sequence
        #expect(try fixture.word(72) == 0)  // sleepers
        #expect(try fixture.word(0) == 0)  // the other direction is untouched
        #expect(try bell.wait(timeout: .seconds(1)) == 0x8000_0008)
        #expect(try fixture.word(64) == 0)
        #expect(bell.takePending() == 0)
    }

    @Test(arguments: ["futex", "eventfd"])
    func waitTimesOutWithZero(kind: String) throws {
        let fixture = try Fixture("timeout")
        let eventFD = try EventFD()
        let bell = try Doorbell(
            segment: fixture.segment, mailboxOffset: 0, kind: kind == "futex" ? .futex : .eventfd(eventFD))
        let start = MonotonicClock.nanoseconds()
        #expect(try bell.wait(timeout: .milliseconds(30)) == 0)
        let elapsed = TestSupport.milliseconds(since: start)
        #expect(elapsed >= 30 && elapsed < 1000)
        #expect(try bell.wait(timeout: .zero) == 0)
        #expect(try fixture.word(8) == 0, "sleepers must be back to 0")
    }

    @Test(arguments: ["futex", "eventfd"])
    func spuriousWakeupsAndDuplicateRingsAreHarmless(kind: String) throws {
        let fixture = try Fixture("spurious")
        let eventFD = try EventFD()
        let bell = try Doorbell(
            segment: fixture.segment, mailboxOffset: 0, kind: kind == "futex" ? .futex : .eventfd(eventFD),
            spinBudget: .zero)
        let sequence = try fixture.segment.atomicWord(at: 4)
        // While the waiter sleeps: wake it without setting any pending bit, several times.
        let noise = TestSupport.background {
            for _ in 0..<5 {
                usleep(5_000)
                sequence.wrappingAdd(1)
                _ = Sys.futexWake(sequence.address, Int32.max)
                try? eventFD.signal()
            }
        }
        let start = MonotonicClock.nanoseconds()
        #expect(try bell.wait(timeout: .milliseconds(60)) == 0)
        #expect(TestSupport.milliseconds(since: start) >= 60)
        noise.wait()
        // Duplicate rings coalesce into one bit; the stale eventfd count only causes a spurious loop.
        try bell.ring(notifyID: 7)
        try bell.ring(notifyID: 7)
        try eventFD.signal(9)
        #expect(try bell.wait(timeout: .seconds(1)) == 0x80)
        #expect(try bell.wait(timeout: .milliseconds(10)) == 0)
        #expect(try fixture.word(8) == 0)
    }

    @Test(arguments: ["futex", "eventfd"], [0, 30])
    func ringFromAnotherThreadWakesASleepingWaiter(kind: String, spinMicroseconds: Int) throws {
        let fixture = try Fixture("thread")
        let eventFD = try EventFD()
        let bell = try Doorbell(
            segment: fixture.segment, mailboxOffset: 0, kind: kind == "futex" ? .futex : .eventfd(eventFD),
            spinBudget: .microseconds(spinMicroseconds))
        let sleepers = try fixture.segment.atomicWord(at: 8)
        let ringer = TestSupport.background {
            // Ring only once the waiter is registered as asleep, so the wake syscall path runs.
            let deadline = MonotonicClock.nanoseconds() + 2_000_000_000
            while sleepers.load() == 0 && MonotonicClock.nanoseconds() < deadline { usleep(200) }
            try? bell.ring(notifyID: 12)
        }
        #expect(try bell.wait(timeout: .seconds(5)) == 1 << 12)
        ringer.wait()
        #expect(sleepers.load() == 0)
    }

    /// The spin reads the clock only after its first looks, and the timeout counts from that reading: a wait
    /// still lasts at least its timeout, spinning or not.
    @Test(arguments: [0, 30])
    func anUnrungWaitLastsItsTimeout(spinMicroseconds: Int) throws {
        let fixture = try Fixture("timeout")
        let bell = try Doorbell(
            segment: fixture.segment, mailboxOffset: 0, kind: .futex, spinBudget: .microseconds(spinMicroseconds))
        for milliseconds in [0, 1, 5] {
            let start = MonotonicClock.nanoseconds()
            #expect(try bell.wait(timeout: .milliseconds(milliseconds)) == 0)
            #expect(MonotonicClock.nanoseconds() - start >= UInt64(milliseconds) * 1_000_000)
            var polls = 0
            let polled = try bell.wait(timeout: .milliseconds(milliseconds), polledMask: 4, poll: { polls += 1; return false }, arm: { false })
            #expect(polled == 0 && polls >= 1)
        }
    }

    /// The coarse clock is never ahead of the precise one and lags it by less than the documented bound.
    @Test func coarseClockLagsThePreciseOneWithinItsBound() {
        #expect(MonotonicClock.coarseLagNanoseconds > 0)
        for _ in 0..<1000 {
            // Read between two precise readings, so a preemption anywhere cannot fail the checks.
            let before = MonotonicClock.nanoseconds()
            let coarse = MonotonicClock.coarseNanoseconds()
            let after = MonotonicClock.nanoseconds()
            #expect(coarse <= after)
            #expect(Int64(before) - Int64(coarse) < Int64(MonotonicClock.coarseLagNanoseconds))
        }
    }

    @Test func wakeInterruptsAWaiterWithoutTimeout() throws {
        let fixture = try Fixture("wake")
        let bell = try Doorbell(segment: fixture.segment, mailboxOffset: 0, kind: .futex)
        let result = Mutex<UInt32>(0)
        let waiter = TestSupport.background {
            let mask = (try? bell.wait(timeout: nil)) ?? 0
            result.withLock { $0 = mask }
        }
        usleep(20_000)
        try bell.wake()
        waiter.wait()
        #expect(result.withLock { $0 } == Doorbell.wakeBit)
    }

    @Test func ringMakesTheWakeSyscallOnlyWhenSomeoneSleeps() throws {
        let fixture = try Fixture("syscall")
        let bell = try Doorbell(segment: fixture.segment, mailboxOffset: 0, kind: .futex)
        let plan = SyscallFaultPlan(["futex_wake": [EFAULT, EFAULT]])
        try SyscallFaults.$plan.withValue(plan) {
            try bell.ring(notifyID: 1)  // nobody asleep: no futex_wake, so no injected failure
            #expect(plan.injectedCount("futex_wake") == 0)
            try fixture.segment.atomicWord(at: 8).store(1)  // pretend a waiter sleeps
            let error = #expect(throws: SystemError.self) { try bell.ring(notifyID: 2) }
            #expect(error?.call == "futex_wake")
            #expect(error?.errno == EFAULT)
            #expect(plan.injectedCount("futex_wake") == 1)
        }
        #expect(try fixture.word(0) == 0b110)
    }

    @Test func externalSleepBracketRegistersAndDrains() throws {
        let fixture = try Fixture("bracket")
        let eventFD = try EventFD()
        let bell = try Doorbell(segment: fixture.segment, mailboxOffset: 0, kind: .eventfd(eventFD))
        #expect(bell.registerSleeper() == 0)
        #expect(try fixture.word(8) == 1)
        try bell.ring(notifyID: 4)  // sleepers > 0: writes the eventfd
        let epoll = try Epoll()
        try epoll.add(eventFD.fileDescriptor, events: .readable)
        #expect(try epoll.wait(timeout: .seconds(1)) == [Epoll.Ready(fd: eventFD.fileDescriptor, events: .readable)])
        #expect(try bell.unregisterSleeper() == 0x10)
        #expect(try fixture.word(8) == 0)
        #expect(try eventFD.drain() == 0, "unregisterSleeper drains the eventfd")
        // A ring before registering is returned by registerSleeper itself.
        try bell.ring(notifyID: 2)
        #expect(bell.registerSleeper() == 0x4)
        #expect(try bell.unregisterSleeper() == 0)
    }

    @Test func misplacedMailboxesAreRejected() throws {
        let fixture = try Fixture("placement")
        let misaligned = #expect(throws: SystemError.self) {
            try Doorbell(segment: fixture.segment, mailboxOffset: 32, kind: .futex)
        }
        #expect(misaligned?.code == .invalidArgument)
        #expect(misaligned?.subject == fixture.segment.name)
        let outside = #expect(throws: SystemError.self) {
            try Doorbell(segment: fixture.segment, mailboxOffset: 4096, kind: .futex)
        }
        #expect(outside?.code == .outOfRange)
        try fixture.segment.write([1, 2, 3], at: 64)
        try MailboxLayout.reset(in: fixture.segment, at: 64)
        #expect(try fixture.segment.read(at: 64, count: 4) == [0, 0, 0, 0])
    }
}

import AmpSystem
import AmpWire
import Foundation
import Glibc
import Testing

@testable import AmpRemote

/// The message loop in this process, sleeping on a doorbell in a private segment.
@Suite struct MessageLoopTests {
    /// A loop over the to-remote mailbox of a fresh segment, and a stop flag it checks.
    final class Fixture {
        let segment: SharedMemorySegment
        let doorbell: Doorbell
        var stop = false
        private(set) lazy var loop = MessageLoop(doorbell: doorbell, stopRequested: { [unowned self] in self.stop })

        init() throws {
            let name = try SegmentNames.make(instance: "rt-loop", rproc: "r\(UInt32.random(in: 0...UInt32.max))").path
            segment = try SharedMemorySegment.create(name: name, size: 4096)
            // Callbacks capture the loop and fixture (cycles are fine in a test), so do not wait for deinit to
            // remove the name: the mapping stays valid without it.
            try segment.unlink()
            doorbell = try Doorbell(segment: segment, mailboxOffset: 0x180, kind: .futex)
        }
    }

    @Test func oneShotTimersFireInDeadlineOrder() throws {
        let fixture = try Fixture()
        let loop = fixture.loop
        var events: [String] = []
        loop.after(.milliseconds(30)) { events.append("c") }
        loop.after(.milliseconds(10)) { events.append("a") }
        loop.after(.milliseconds(20)) { events.append("b") }
        loop.after(.milliseconds(10)) { events.append("a2") }
        let cancelled = loop.after(.milliseconds(15)) { events.append("cancelled") }
        cancelled.cancel()
        #expect(!cancelled.isActive)
        loop.after(.milliseconds(40)) { loop.quit() }
        let start = MonotonicClock.nanoseconds()
        #expect(try loop.run() == .quit)
        #expect(events == ["a", "a2", "b", "c"])
        #expect(MonotonicClock.nanoseconds() - start >= 40_000_000)
    }

    @Test func periodicTimerRepeatsUntilCancelled() throws {
        let fixture = try Fixture()
        let loop = fixture.loop
        var count = 0
        var handle: MessageLoop.TimerHandle?
        handle = loop.every(.milliseconds(5)) {
            count += 1
            if count == 3 { handle?.cancel() }
        }
        #expect(handle?.isActive == true)
        loop.after(.milliseconds(60)) { loop.quit() }
        #expect(try loop.run() == .quit)
        #expect(count == 3)
        #expect(handle?.isActive == false)
    }

    @Test func tasksYieldBetweenStepsAndPostedWorkRunsOnce() throws {
        let fixture = try Fixture()
        let loop = fixture.loop
        var events: [String] = []
        var stepsA = 0
        loop.task {
            stepsA += 1
            events.append("A\(stepsA)")
            return stepsA == 3 ? .done : .more
        }
        var stepsB = 0
        loop.task {
            stepsB += 1
            events.append("B\(stepsB)")
            return stepsB == 2 ? .done : .more
        }
        loop.post { events.append("C") }
        loop.after(.milliseconds(20)) { loop.quit() }
        #expect(try loop.run() == .quit)
        #expect(events == ["A1", "B1", "C", "A2", "B2", "A3"])
    }

    @Test func timersRunBetweenTaskSteps() throws {
        let fixture = try Fixture()
        let loop = fixture.loop
        var timerFired = false
        var stepsBeforeTimer = 0
        loop.after(.milliseconds(5)) { timerFired = true }
        loop.task {
            if timerFired { return .done }
            stepsBeforeTimer += 1
            return .more
        }
        loop.after(.milliseconds(30)) { loop.quit() }
        #expect(try loop.run() == .quit)
        #expect(timerFired)
        #expect(stepsBeforeTimer > 1)
    }

    @Test func notifyHandlersGetTheirBitsAndBit31CallsEveryone() throws {
        let fixture = try Fixture()
        let loop = fixture.loop
        var three: [UInt32] = []
        var five: [UInt32] = []
        var any: [UInt32] = []
        loop.onNotify(3) { three.append($0) }
        loop.onNotify(5) { five.append($0) }
        loop.onAnyNotify { any.append($0) }
        try fixture.doorbell.ring(notifyID: 3)
        loop.after(.milliseconds(10)) { try? fixture.doorbell.ring(notifyID: ControlBlock.controlNotifyID) }
        loop.after(.milliseconds(30)) { loop.quit() }
        #expect(try loop.run() == .quit)
        #expect(three == [0x8, 0x8000_0000])
        #expect(five == [0x8000_0000])
        #expect(any == [0x8, 0x8000_0000])
    }

    /// Specific handlers run before the catch-all ones, each kind in registration order, whatever the order of
    /// registration between kinds; a handler registered by a handler runs from the next ring on.
    @Test func notifyHandlersRunSpecificFirstAndLateRegistrationsFromTheNextRing() throws {
        let fixture = try Fixture()
        let loop = fixture.loop
        var calls: [String] = []
        loop.onAnyNotify { _ in calls.append("any 1") }
        loop.onNotify(3) { _ in
            calls.append("three")
            if !calls.contains("registered") {
                calls.append("registered")
                loop.onAnyNotify { _ in calls.append("late") }
            }
        }
        loop.onAnyNotify { _ in calls.append("any 2") }
        loop.onNotify(3) { _ in calls.append("three again") }
        try fixture.doorbell.ring(notifyID: 3)
        loop.after(.milliseconds(10)) { try? fixture.doorbell.ring(notifyID: 3) }
        loop.after(.milliseconds(30)) { loop.quit() }
        #expect(try loop.run() == .quit)
        #expect(calls == [
            "three", "registered", "three again", "any 1", "any 2",
            "three", "three again", "any 1", "any 2", "late",
        ])
    }

    @Test func sleepingLoopWakesOnARingFromAnotherThread() throws {
        let fixture = try Fixture()
        let loop = fixture.loop
        var received: UInt32 = 0
        loop.onNotify(7) {
            received = $0
            loop.quit()
        }
        let doorbell = fixture.doorbell
        let ringer = Thread {
            usleep(50_000)
            try? doorbell.ring(notifyID: 7)
        }
        ringer.start()
        let start = MonotonicClock.nanoseconds()
        let cpuStart = Self.threadCPUNanoseconds()
        #expect(try loop.run() == .quit)
        #expect(received == 0x80)
        #expect(MonotonicClock.nanoseconds() - start >= 40_000_000)
        // Slept in the kernel rather than spinning: far less CPU than the 50 ms wall time.
        #expect(Self.threadCPUNanoseconds() - cpuStart < 10_000_000)
    }

    @Test func stopRequestEndsTheRunAndStopHandlersRunOnceInOrder() throws {
        let fixture = try Fixture()
        let loop = fixture.loop
        var events: [String] = []
        loop.onStop { events.append("first") }
        loop.onStop { events.append("second") }
        loop.onAnyNotify { events.append("notify \($0)") }
        loop.after(.milliseconds(10)) {
            fixture.stop = true
            try? fixture.doorbell.ring(notifyID: ControlBlock.controlNotifyID)
        }
        #expect(try loop.run() == .stopRequested)
        // The stop is seen before the kick that announced it is dispatched.
        #expect(events == [])
        loop.runStopHandlers()
        loop.runStopHandlers()
        #expect(events == ["first", "second"])
    }

    @Test func conditionEndsTheRunAndTakenBitsAreDeliveredLater() throws {
        let fixture = try Fixture()
        let loop = fixture.loop
        var released = false
        loop.after(.milliseconds(5)) {
            released = true
            try? fixture.doorbell.ring(notifyID: 2)
        }
        #expect(try loop.run(until: { released }) == .conditionMet)
        var bits: [UInt32] = []
        loop.onAnyNotify {
            bits.append($0)
            loop.quit()
        }
        loop.after(.milliseconds(100)) { loop.quit() }
        #expect(try loop.run() == .quit)
        #expect(bits == [0x4])
    }

    static func threadCPUNanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}

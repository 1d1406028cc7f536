import Glibc
import Testing

@testable import AmpSystem

/// EINTR (and other errors) injected into the syscall layer prove the retry loops and error paths.
@Suite("FaultInjectionTests")
struct FaultInjectionTests {
    @Test func readFileRetriesEINTR() throws {
        let expected = try FileIO.readFile("/proc/self/cmdline")
        let plan = SyscallFaultPlan(["open": [EINTR], "read": [EINTR, EINTR]])
        let contents = try SyscallFaults.$plan.withValue(plan) { try FileIO.readFile("/proc/self/cmdline") }
        #expect(contents == expected)
        #expect(plan.injectedCount("open") == 1)
        #expect(plan.injectedCount("read") == 2)
        #expect(plan.remaining("read") == 0)
    }

    @Test func otherErrorsAreThrownNamingCallAndFile() throws {
        let plan = SyscallFaultPlan(["read": [EINTR, EIO]])
        let error = #expect(throws: SystemError.self) {
            try SyscallFaults.$plan.withValue(plan) { try FileIO.readFile("/proc/self/cmdline") }
        }
        #expect(error == SystemError(call: "read", subject: "/proc/self/cmdline", errno: EIO))
    }

    @Test func faultsAreScopedToTheTask() throws {
        let plan = SyscallFaultPlan(["read": [EIO]])
        SyscallFaults.$plan.withValue(plan) {}
        #expect(try FileIO.readFile("/proc/self/cmdline").isEmpty == false)
        #expect(plan.remaining("read") == 1)
    }

    @Test func eventFDDrainAndSignalRetryEINTR() throws {
        let eventFD = try EventFD()
        let plan = SyscallFaultPlan(["write": [EINTR], "read": [EINTR, EINTR, EINTR]])
        try SyscallFaults.$plan.withValue(plan) {
            try eventFD.signal(4)
            #expect(try eventFD.drain() == 4)
        }
        #expect(plan.injectedCount("write") == 1)
        #expect(plan.injectedCount("read") == 3)
    }

    @Test func futexDoorbellWaitRetriesEINTR() throws {
        let segment = try SharedMemorySegment.create(name: try TestSupport.uniqueSegmentName("eintr"), size: 4096)
        defer { try? segment.unlink() }
        let bell = try Doorbell(segment: segment, mailboxOffset: 0, kind: .futex, spinBudget: .zero)
        // Timeout path: the interrupted sleeps must not end the wait early.
        let plan = SyscallFaultPlan(["futex_wait": [EINTR, EINTR, EINTR]])
        let start = MonotonicClock.nanoseconds()
        let mask = try SyscallFaults.$plan.withValue(plan) { try bell.wait(timeout: .milliseconds(30)) }
        #expect(mask == 0)
        #expect(TestSupport.milliseconds(since: start) >= 30)
        #expect(plan.injectedCount("futex_wait") == 3)

        // Ring path: interrupted sleeps, then the real ring arrives.
        let again = SyscallFaultPlan(["futex_wait": [EINTR, EINTR]])
        let ringer = TestSupport.background {
            usleep(20_000)
            try? bell.ring(notifyID: 6)
        }
        let rung = try SyscallFaults.$plan.withValue(again) { try bell.wait(timeout: .seconds(5)) }
        ringer.wait()
        #expect(rung == 1 << 6)
        #expect(again.injectedCount("futex_wait") == 2)
        #expect(try segment.atomicWord(at: 8).load() == 0)
    }

    @Test func eventfdDoorbellWaitRetriesEINTRAndReportsOtherErrors() throws {
        let segment = try SharedMemorySegment.create(name: try TestSupport.uniqueSegmentName("eintr-efd"), size: 4096)
        defer { try? segment.unlink() }
        let eventFD = try EventFD()
        let bell = try Doorbell(segment: segment, mailboxOffset: 0, kind: .eventfd(eventFD), spinBudget: .zero)
        let plan = SyscallFaultPlan(["ppoll": [EINTR, EINTR]])
        let start = MonotonicClock.nanoseconds()
        #expect(try SyscallFaults.$plan.withValue(plan) { try bell.wait(timeout: .milliseconds(20)) } == 0)
        #expect(TestSupport.milliseconds(since: start) >= 20)
        #expect(plan.injectedCount("ppoll") == 2)

        let broken = SyscallFaultPlan(["ppoll": [ENOMEM]])
        let error = #expect(throws: SystemError.self) {
            try SyscallFaults.$plan.withValue(broken) { try bell.wait(timeout: .seconds(1)) }
        }
        #expect(error?.call == "ppoll")
        #expect(error?.code == .noMemory)
        #expect(try segment.atomicWord(at: 8).load() == 0, "a failed sleep still unregisters")
    }

    @Test func childWaitRetriesEINTRInPollAndWaitpid() throws {
        let child = try ChildProcess.spawn(executable: try TestSupport.peerPath(), arguments: ["exit", "5"])
        let plan = SyscallFaultPlan(["ppoll": [EINTR, EINTR], "waitpid": [EINTR]])
        let status = try SyscallFaults.$plan.withValue(plan) { try child.waitForExit(timeout: .seconds(5)) }
        #expect(status == .exited(5))
        #expect(plan.injectedCount("ppoll") == 2)
        #expect(plan.injectedCount("waitpid") == 1)
    }

    @Test func epollWaitRetriesEINTR() throws {
        let epoll = try Epoll()
        let eventFD = try EventFD()
        try epoll.add(eventFD.fileDescriptor, events: .readable)
        try eventFD.signal()
        let plan = SyscallFaultPlan(["epoll_wait": [EINTR, EINTR]])
        let ready = try SyscallFaults.$plan.withValue(plan) { try epoll.wait(timeout: .seconds(1)) }
        #expect(ready == [Epoll.Ready(fd: eventFD.fileDescriptor, events: .readable)])
        #expect(plan.injectedCount("epoll_wait") == 2)
        let failing = SyscallFaultPlan(["epoll_wait": [EBADF]])
        let error = #expect(throws: SystemError.self) {
            try SyscallFaults.$plan.withValue(failing) { try epoll.wait(timeout: .seconds(1)) }
        }
        #expect(error?.call == "epoll_wait")
        #expect(error?.code == .badFileDescriptor)
    }

    @Test func signalFDReadRetriesEINTR() throws {
        let signals = try SignalFD(signals: [SIGUSR2])
        defer { try? SignalFD.unblockInCurrentThread([SIGUSR2]) }
        raise(SIGUSR2)
        let plan = SyscallFaultPlan(["read": [EINTR]])
        #expect(try SyscallFaults.$plan.withValue(plan) { try signals.readPending() } == [SIGUSR2])
        #expect(plan.injectedCount("read") == 1)
    }

    @Test func segmentCreateFailureUnlinksTheNewName() throws {
        let name = try TestSupport.uniqueSegmentName("ftruncate")
        let plan = SyscallFaultPlan(["shm_open": [EINTR], "ftruncate": [ENOSPC]])
        let error = #expect(throws: SystemError.self) {
            try SyscallFaults.$plan.withValue(plan) { try SharedMemorySegment.create(name: name, size: 4096) }
        }
        #expect(error == SystemError(call: "ftruncate", subject: name, errno: ENOSPC))
        #expect(plan.injectedCount("shm_open") == 1)
        #expect(!TestSupport.segmentExists(name))
    }
}

import Glibc
import Testing

@testable import AmpSystem

@Suite("EventLoopTests")
struct EventLoopTests {
    @Test func eventFDCountsAndDrains() throws {
        let eventFD = try EventFD()
        #expect(try eventFD.drain() == 0)
        #expect(try eventFD.waitReadable(timeout: .milliseconds(5)) == false)
        try eventFD.signal(2)
        try eventFD.signal(3)
        #expect(try eventFD.waitReadable(timeout: .seconds(1)) == true)
        #expect(try eventFD.drain() == 5)
        #expect(try eventFD.drain() == 0)
        let flags = fcntl(eventFD.fileDescriptor, F_GETFD)
        #expect(flags & FD_CLOEXEC != 0)
    }

    @Test func adoptingAClosedDescriptorFailsWithEBADF() throws {
        let error = #expect(throws: SystemError.self) { try EventFD(adopting: 999_999) }
        #expect(error?.code == .badFileDescriptor)
    }

    @Test func epollReportsExactlyTheReadyDescriptors() throws {
        let epoll = try Epoll()
        let first = try EventFD()
        let second = try EventFD()
        try epoll.add(first.fileDescriptor, events: .readable)
        try epoll.add(second.fileDescriptor, events: .readable)
        #expect(try epoll.wait(timeout: .milliseconds(5)) == [])

        try second.signal()
        #expect(try epoll.wait(timeout: .seconds(1)) == [Epoll.Ready(fd: second.fileDescriptor, events: .readable)])
        try second.drain()

        try epoll.modify(first.fileDescriptor, events: [.readable, .writable])
        let both = try epoll.wait(timeout: .seconds(1))
        #expect(both == [Epoll.Ready(fd: first.fileDescriptor, events: .writable)])

        try epoll.remove(first.fileDescriptor)
        try first.signal()
        #expect(try epoll.wait(timeout: .milliseconds(5)) == [])
        let duplicate = #expect(throws: SystemError.self) { try epoll.add(second.fileDescriptor, events: .readable) }
        #expect(duplicate?.code == .fileExists)
        #expect(Epoll.Events.edgeTriggered.rawValue == 0x8000_0000)
        #expect(Epoll.Events.readHangUp.rawValue == 0x2000)
    }

    @Test func epollSeesAChildExitThroughItsPidfd() throws {
        let epoll = try Epoll()
        let child = try ChildProcess.spawn(executable: try TestSupport.peerPath(), arguments: ["exit", "3"])
        try epoll.add(child.pidfd, events: .readable)
        let ready = try epoll.wait(timeout: .seconds(5))
        #expect(ready.map(\.fd) == [child.pidfd])
        #expect(ready.first?.events.contains(.readable) == true)
        #expect(try child.waitForExit(timeout: .zero) == .exited(3))
    }

    @Test func signalFDReadsBlockedSignalsAsData() throws {
        // SIGUSR2 is raised at this thread only (raise() is thread-directed), and blocked here first.
        let signals = try SignalFD(signals: [SIGUSR2])
        defer { try? SignalFD.unblockInCurrentThread([SIGUSR2]) }
        #expect(try signals.readPending() == [])
        let epoll = try Epoll()
        try epoll.add(signals.fileDescriptor, events: .readable)
        raise(SIGUSR2)
        #expect(try epoll.wait(timeout: .seconds(1)) == [Epoll.Ready(fd: signals.fileDescriptor, events: .readable)])
        #expect(try signals.readPending() == [SIGUSR2])
        #expect(try signals.readPending() == [])
        #expect(signals.signals == [SIGUSR2])
    }

    @Test func monotonicClockAndDurations() {
        let first = MonotonicClock.nanoseconds()
        usleep(2_000)
        let second = MonotonicClock.nanoseconds()
        #expect(second - first >= 2_000_000)
        #expect(MonotonicClock.nanoseconds(of: .milliseconds(1)) == 1_000_000)
        #expect(MonotonicClock.nanoseconds(of: .microseconds(30)) == 30_000)
        #expect(MonotonicClock.nanoseconds(of: .seconds(2) + .nanoseconds(5)) == 2_000_000_005)
        #expect(MonotonicClock.nanoseconds(of: .seconds(-1)) == 0)
        #expect(MonotonicClock.nanoseconds(of: .zero) == 0)
        #expect(MonotonicClock.nanoseconds(of: .seconds(Int64.max)) == UInt64.max / 2)
        #expect(MonotonicClock.remaining(until: nil) == -1)
        #expect(MonotonicClock.remaining(until: 0) == 0)
    }

    @Test func pipesAreCloseOnExec() throws {
        let pipe = try PipePair.create()
        defer { close(pipe.read); close(pipe.write) }
        #expect(fcntl(pipe.read, F_GETFD) & FD_CLOEXEC != 0)
        #expect(fcntl(pipe.write, F_GETFD) & FD_CLOEXEC != 0)
    }

    @Test func namedErrnoValues() {
        #expect(Errno.fileExists.rawValue == EEXIST)
        #expect(Errno.interrupted.rawValue == EINTR)
        #expect(SystemError(call: "open", subject: "/x", code: .noSuchFile).description == "/x: open: No such file or directory")
        #expect(SystemError(call: "eventfd", subject: "", errno: EMFILE).code == .tooManyOpenFiles)
        #expect(SystemError(call: "eventfd", subject: "", errno: EMFILE).description == "eventfd: Too many open files")
    }
}

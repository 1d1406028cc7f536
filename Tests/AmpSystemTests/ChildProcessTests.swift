import Glibc
import Testing

@testable import AmpSystem

@Suite("ChildProcessTests")
struct ChildProcessTests {
    @Test func exitCodeIsReportedAndTheChildIsReaped() throws {
        let child = try ChildProcess.spawn(executable: try TestSupport.peerPath(), arguments: ["exit", "7"])
        #expect(child.pid > 0)
        #expect(try child.waitForExit(timeout: .seconds(5)) == .exited(7))
        #expect(!TestSupport.processExists(child.pid), "reaped: not even a zombie remains")
        #expect(try child.exitStatus == .exited(7))
        #expect(try child.waitForExit(timeout: .zero) == .exited(7))
        #expect(try child.terminate(grace: .seconds(1)) == .exited(7))
        let error = #expect(throws: SystemError.self) { try child.signal(SIGTERM) }
        #expect(error?.code == .noSuchProcess)
    }

    @Test func deathBySignalIsReported() throws {
        let child = try ChildProcess.spawn(executable: try TestSupport.peerPath(), arguments: ["kill-self", "\(SIGUSR1)"])
        #expect(try child.waitForExit(timeout: .seconds(5)) == .signaled(SIGUSR1))
        #expect(ChildProcess.ExitStatus.signaled(SIGUSR1).description == "killed by signal \(SIGUSR1)")
        #expect(ChildProcess.ExitStatus.exited(3).description == "exited with code 3")
    }

    @Test func exitStatusPollsWithoutBlocking() throws {
        let child = try ChildProcess.spawn(executable: try TestSupport.peerPath(), arguments: ["sleep"])
        #expect(try child.exitStatus == nil)
        let start = MonotonicClock.nanoseconds()
        #expect(try child.waitForExit(timeout: .milliseconds(40)) == nil)
        #expect(TestSupport.milliseconds(since: start) >= 40)
        try child.signal(SIGUSR2)
        #expect(try child.waitForExit(timeout: .seconds(5)) == .signaled(SIGUSR2))
        #expect(!TestSupport.processExists(child.pid))
    }

    @Test func terminateUsesSIGTERMWhenItWorks() throws {
        let child = try ChildProcess.spawn(executable: try TestSupport.peerPath(), arguments: ["sleep"])
        let start = MonotonicClock.nanoseconds()
        #expect(try child.terminate(grace: .seconds(5)) == .signaled(SIGTERM))
        #expect(TestSupport.milliseconds(since: start) < 4000)
        #expect(!TestSupport.processExists(child.pid))
    }

    @Test func terminateFallsBackToSIGKILLAfterTheGrace() throws {
        let ready = try TestSupport.makePipe()
        defer { close(ready.read) }
        let child = try ChildProcess.spawn(
            executable: try TestSupport.peerPath(), arguments: ["ignore-term", "3"], inheritFDs: [(from: ready.write, to: 3)])
        close(ready.write)
        #expect(try TestSupport.readLines(ready.read, count: 1) == ["ready"])
        let start = MonotonicClock.nanoseconds()
        #expect(try child.terminate(grace: .milliseconds(200)) == .signaled(SIGKILL))
        let elapsed = TestSupport.milliseconds(since: start)
        #expect(elapsed >= 200 && elapsed < 3000)
        #expect(!TestSupport.processExists(child.pid))
    }

    @Test func deinitKillsAndReapsARunningChild() throws {
        var pid: pid_t = 0
        do {
            let child = try ChildProcess.spawn(executable: try TestSupport.peerPath(), arguments: ["sleep"])
            pid = child.pid
            #expect(TestSupport.processExists(pid))
        }
        #expect(pid > 0)
        #expect(!TestSupport.processExists(pid))
    }

    @Test func missingExecutableGivesAClearError() throws {
        let path = "/nonexistent/ampsoc-\(UInt32.random(in: 0...UInt32.max))"
        let error = #expect(throws: SystemError.self) { try ChildProcess.spawn(executable: path) }
        #expect(error?.code == .noSuchFile)
        #expect(error?.call == "posix_spawn")
        #expect(error?.subject == path)
        #expect(error?.description == "\(path): posix_spawn: No such file or directory")
    }

    @Test func inheritedDescriptorsArriveAtTheRequestedNumbersAndNothingElseLeaks() throws {
        let first = try TestSupport.makePipe()
        let second = try TestSupport.makePipe()
        let unrelated = try EventFD()  // open here, close-on-exec: must not exist in the child
        defer { for fd in [first.read, second.read] { close(fd) } }
        let leakCheck = [5, 7].contains(unrelated.fileDescriptor) ? [] : [unrelated.fileDescriptor]
        let child = try ChildProcess.spawn(
            executable: try TestSupport.peerPath(),
            arguments: ["fds", "open=5,7", "closed=" + leakCheck.map(String.init).joined(separator: ",")],
            inheritFDs: [(from: first.write, to: 5), (from: second.write, to: 7)])
        close(first.write)
        close(second.write)
        #expect(try child.waitForExit(timeout: .seconds(5)) == .exited(0))
        #expect(try TestSupport.readLines(first.read, count: 1) == ["fd 5"])
        #expect(try TestSupport.readLines(second.read, count: 1) == ["fd 7"])
    }

    @Test func swappedDescriptorPairsDoNotClobberEachOther() throws {
        let first = try TestSupport.makePipe()
        let second = try TestSupport.makePipe()
        defer { for fd in [first.read, second.read, first.write, second.write] { close(fd) } }
        // first.write becomes second.write's number in the child and vice versa.
        let child = try ChildProcess.spawn(
            executable: try TestSupport.peerPath(), arguments: ["fds", "open=\(first.write),\(second.write)"],
            inheritFDs: [(from: first.write, to: second.write), (from: second.write, to: first.write)])
        #expect(try child.waitForExit(timeout: .seconds(5)) == .exited(0))
        #expect(try TestSupport.readLines(first.read, count: 1) == ["fd \(second.write)"])
        #expect(try TestSupport.readLines(second.read, count: 1) == ["fd \(first.write)"])
    }

    @Test func environmentIsPassedWhenGiven() throws {
        let child = try ChildProcess.spawn(
            executable: try TestSupport.peerPath(), arguments: ["env", "AMPSOC_TEST_VALUE", "x=1 y"],
            environment: ["AMPSOC_TEST_VALUE": "x=1 y", "OTHER": "2"])
        #expect(try child.waitForExit(timeout: .seconds(5)) == .exited(0))
        let inherited = try ChildProcess.spawn(
            executable: try TestSupport.peerPath(), arguments: ["env", "AMPSOC_TEST_VALUE", "x=1 y"])
        #expect(try inherited.waitForExit(timeout: .seconds(5)) == .exited(69))
    }

    @Test func childStartsWithAnEmptyMaskAndDefaultDispositions() throws {
        // Block signals in this thread and ignore SIGPIPE process-wide: the child must see neither.
        try SignalFD.blockInCurrentThread([SIGTERM, SIGUSR2, SIGCHLD])
        defer { try? SignalFD.unblockInCurrentThread([SIGTERM, SIGUSR2, SIGCHLD]) }
        let previous = signal(SIGPIPE, SIG_IGN)
        defer { signal(SIGPIPE, previous) }
        let child = try ChildProcess.spawn(executable: try TestSupport.peerPath(), arguments: ["sigmask"])
        #expect(try child.waitForExit(timeout: .seconds(5)) == .exited(0))
    }

    @Test func grandchildDiesWhenItsParentIsKilled() throws {
        let ready = try TestSupport.makePipe()
        defer { close(ready.read) }
        let parent = try ChildProcess.spawn(
            executable: try TestSupport.peerPath(), arguments: ["spawn-orphan", "3"], inheritFDs: [(from: ready.write, to: 3)])
        close(ready.write)
        let lines = try TestSupport.readLines(ready.read, count: 1)
        let grandchildPID = try #require(lines.first.flatMap { pid_t($0) }, "grandchild pid line, got \(lines)")
        let pidfd = Sys.pidfdOpen(grandchildPID)
        try #require(pidfd >= 0)
        defer { close(pidfd) }
        #expect(Sys.pollOne(pidfd, Int16(POLLIN), 0) == 0, "grandchild runs while its parent lives")

        try parent.signal(SIGKILL)
        #expect(try parent.waitForExit(timeout: .seconds(5)) == .signaled(SIGKILL))
        #expect(Sys.pollOne(pidfd, Int16(POLLIN), 5_000_000_000) & Int32(POLLIN) != 0, "grandchild must die")
    }

    @Test func childWhoseParentAlreadyDiedKillsItself() throws {
        let ready = try TestSupport.makePipe()
        defer { close(ready.read) }
        // Expecting pid 1 as parent while our pid is the real one: the "parent already gone" branch.
        let child = try ChildProcess.spawn(
            executable: try TestSupport.peerPath(), arguments: ["orphan", "1"], inheritFDs: [(from: ready.write, to: 3)])
        close(ready.write)
        #expect(try child.waitForExit(timeout: .seconds(5)) == .signaled(SIGKILL))
        #expect(try TestSupport.readLines(ready.read, count: 1, timeout: .milliseconds(100)) == [])
    }
}

import AmpSystem
import AmpTestSupport
import AmpWire
import Glibc
import Testing

/// The runtime in real firmware processes over real shared memory, with the test playing the host.
@Suite(.serialized) struct RemoteRuntimeTests {
    static let banner = "ampsoc-fw-basic: boot on dsp0 (generation 5)"
    static let attached = ControlBlock.RemoteState.attached.rawValue
    static let running = ControlBlock.RemoteState.running.rawValue
    static let stopped = ControlBlock.RemoteState.stopped.rawValue
    static let halted = ControlBlock.RemoteState.halted.rawValue

    @Test func attachWaitsForReleaseThenRunsAndStops() throws {
        let host = try TestHost(heartbeatMs: 10, hostState: .loading)
        let remote = try host.spawn("ampsoc-fw-basic")
        #expect(try eventually { try host.remoteState() == Self.attached })
        // Held in "attached" until released: the heartbeat already runs, the firmware's code does not.
        #expect(try eventually { try host.heartbeat() >= 3 })
        #expect(try host.remoteState() == Self.attached)
        #expect(try host.traceBuffer().written == 0)

        try host.setU32(ControlBlock.hostStateOffset, ControlBlock.HostState.released.rawValue)
        try remote.toRemote.ring(notifyID: ControlBlock.controlNotifyID)
        #expect(try eventually { try host.remoteState() == Self.running })
        // The release kick (bit 31) was taken while waiting; it is still delivered to the firmware's handlers.
        let started = [Self.banner, "notify: bits 0x80000000"]
        #expect(try eventually { try host.traceLines() == started })

        try host.requestStop(remote)
        #expect(try remote.waitForExit() == .exited(0))
        #expect(try host.remoteState() == Self.stopped)
        #expect(try host.traceLines() == started + ["ampsoc-fw-basic: stopping after 0 ticks"])
        // The stop rang bit 31 to the host.
        #expect(try remote.toHost.wait(timeout: .seconds(1)) & MailboxLayout.overflowBit != 0)
        #expect(try host.crashRecord().reported == 0)
        #expect(remote.standardError() == "")
    }

    @Test func noLeftoverSegmentOrProcess() throws {
        var name = ""
        var pid: pid_t = 0
        do {
            let host = try TestHost()
            name = host.segment.name
            let remote = try host.spawn("ampsoc-fw-basic")
            pid = remote.child.pid
            #expect(try eventually { try host.remoteState() == Self.running })
            try host.requestStop(remote)
            #expect(try remote.waitForExit() == .exited(0))
        }
        #expect(!segmentExists(name))
        #expect(access("/proc/\(pid)", F_OK) != 0)
    }

    @Test func heartbeatAdvancesEveryPeriod() throws {
        let host = try TestHost(heartbeatMs: 10)
        let remote = try host.spawn("ampsoc-fw-basic")
        #expect(try eventually { try host.remoteState() == Self.running })
        let first = try host.heartbeat()
        let start = MonotonicClock.nanoseconds()
        usleep(300_000)
        let beats = try host.heartbeat() - first
        let elapsedMs = (MonotonicClock.nanoseconds() - start) / 1_000_000
        // About one beat per 10 ms; allow a loaded machine to lag, never to run ahead.
        #expect(beats >= 10 && beats <= elapsedMs / 10 + 1, "\(beats) beats in \(elapsedMs) ms")
        try host.requestStop(remote)
        #expect(try remote.waitForExit() == .exited(0))
    }

    @Test func idleFirmwareSleeps() throws {
        let host = try TestHost(heartbeatMs: 10)
        let remote = try host.spawn("ampsoc-fw-basic")
        #expect(try eventually { try host.remoteState() == Self.running })
        usleep(50_000)
        let before = try TestProcessCheck.cpuTicks(remote.child.pid)
        usleep(500_000)
        let used = try TestProcessCheck.cpuTicks(remote.child.pid) - before
        // A busy-waiting loop would use ~50 ticks (100 Hz) in 0.5 s; 50 heartbeat wake-ups cost well under 5.
        #expect(used <= 5, "firmware used \(used) clock ticks in 0.5 s while idle")
        try host.requestStop(remote)
        #expect(try remote.waitForExit() == .exited(0))
    }

    @Test func tracesTicksAndNotificationsOverEventFDDoorbells() throws {
        let host = try TestHost()
        let remote = try host.spawn("ampsoc-fw-basic", arguments: ["--tick-ms", "20"], doorbell: .eventfd)
        #expect(try eventually { try host.traceLines().contains("tick 2") })
        try remote.toRemote.ring(notifyID: 3)
        #expect(try eventually { try host.traceLines().contains("notify: bits 0x8") })
        try host.requestStop(remote)
        #expect(try remote.waitForExit() == .exited(0))
        let lines = try host.traceLines()
        #expect(lines.first == Self.banner)
        let ticks = lines.filter { $0.hasPrefix("tick ") }
        #expect(ticks == (1...ticks.count).map { "tick \($0)" })
        #expect(lines.last == "ampsoc-fw-basic: stopping after \(ticks.count) ticks")
        #expect(lines.count == ticks.count + 3)
        #expect(try host.remoteState() == Self.stopped)
    }

    @Test func traceWrapsInASmallBuffer() throws {
        let host = try TestHost(traceLength: 64)
        let remote = try host.spawn("ampsoc-fw-basic", arguments: ["--tick-ms", "2"])
        #expect(try eventually { try host.traceBuffer().written >= 300 })
        try host.requestStop(remote)
        #expect(try remote.waitForExit() == .exited(0))

        let (written, bytes) = try host.traceBuffer()
        let start = Int(written % 64)
        let tail = String(decoding: Array(bytes[start...] + bytes[..<start]), as: UTF8.self)
        let lastLine = try #require(tail.split(separator: "\n").last)
        let ticks = try #require(Int(lastLine.dropFirst("ampsoc-fw-basic: stopping after ".count).dropLast(" ticks".count)))
        var stream = Self.banner + "\n"
        for tick in 0..<ticks { stream += "tick \(tick + 1)\n" }
        stream += "ampsoc-fw-basic: stopping after \(ticks) ticks\n"
        #expect(written == UInt64(stream.utf8.count))
        #expect(tail == String(decoding: Array(stream.utf8.suffix(64)), as: UTF8.self))
    }

    @Test func withoutTraceEntryTraceIsANoOpNotedOnce() throws {
        let host = try TestHost(withTrace: false)
        let remote = try host.spawn("ampsoc-fw-basic", arguments: ["--tick-ms", "5"])
        #expect(try eventually { try host.remoteState() == Self.running })
        usleep(50_000)
        try host.requestStop(remote)
        #expect(try remote.waitForExit() == .exited(0))
        #expect(remote.standardError()
            == "ampsoc-remote[dsp0]: trace: the resource table has no trace entry; trace output is discarded\n")
        #expect(try host.u64(ControlBlock.traceRecordOffset(0) + 8) == 0)
    }

    // MARK: Crashes

    @Test func fatalErrorWritesCrashRecordAndRingsHost() throws {
        let host = try TestHost()
        let remote = try host.spawn("ampsoc-fw-faulty", arguments: ["--crash", "fatal", "--after", "0.05"])
        let bits = try remote.toHost.wait(timeout: .seconds(5))
        #expect(bits == MailboxLayout.overflowBit)
        let record = try host.crashRecord()
        #expect(record.reported == 1)
        #expect(record.type == ControlBlock.CrashType.fatalError.rawValue)
        #expect(record.faultAddress == 0)
        #expect(record.message == "ampsoc-fw-faulty: injected fatal error after 0 ticks")
        #expect(try host.remoteState() == Self.halted)
        #expect(try host.traceLines().last == "crash (fatal error): ampsoc-fw-faulty: injected fatal error after 0 ticks")
        // Halted, not exited: the host ends it.
        #expect(try remote.child.waitForExit(timeout: .milliseconds(100)) == nil)
        #expect(try remote.child.terminate(grace: .seconds(2)) == .signaled(SIGTERM))
        #expect(remote.standardError().hasSuffix(
            "ampsoc-remote[dsp0]: crash (fatal error): ampsoc-fw-faulty: injected fatal error after 0 ticks\n"))
    }

    @Test func invalidAccessReportsMMUFault() throws {
        let host = try TestHost()
        let remote = try host.spawn("ampsoc-fw-faulty", arguments: ["--crash", "mmufault", "--after", "0"])
        #expect(try remote.toHost.wait(timeout: .seconds(5)) == MailboxLayout.overflowBit)
        let record = try host.crashRecord()
        #expect(record.reported == 1)
        #expect(record.type == ControlBlock.CrashType.mmuFault.rawValue)
        #expect(record.faultAddress == 0xDEAD_0000)
        #expect(record.message == "mmu fault: 4 bytes at device address 0xdead0000 are outside every memory region")
        #expect(try host.remoteState() == Self.halted)
        #expect(try remote.child.terminate(grace: .seconds(2)) == .signaled(SIGTERM))
    }

    @Test(arguments: [("exit", ChildProcess.ExitStatus.exited(3)), ("segv", .signaled(SIGSEGV))])
    func dyingFirmwareEndsTheProcess(crash: String, status: ChildProcess.ExitStatus) throws {
        let host = try TestHost()
        let remote = try host.spawn("ampsoc-fw-faulty", arguments: ["--crash", crash, "--after", "0.02"])
        #expect(try remote.waitForExit() == status)
        #expect(try host.remoteState() == Self.running)
        #expect(try host.crashRecord().reported == 0)
    }

    @Test func hangStopsHeartbeatAndIgnoresStop() throws {
        let host = try TestHost(heartbeatMs: 5)
        let remote = try host.spawn("ampsoc-fw-faulty", arguments: ["--crash", "hang", "--after", "0.05"])
        #expect(try eventually { try host.traceLines().last == "ampsoc-fw-faulty: hanging" })
        let beat = try host.heartbeat()
        usleep(100_000)
        #expect(try host.heartbeat() == beat)
        try host.requestStop(remote)
        #expect(try remote.child.waitForExit(timeout: .milliseconds(100)) == nil)
        #expect(try host.remoteState() == Self.running)
        #expect(try remote.child.terminate(grace: .seconds(2)) == .signaled(SIGTERM))
    }

    @Test func onceMarkerMisbehavesOnlyOnce() throws {
        let marker = "/tmp/ampsoc-rt-marker-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { unlink(marker) }
        let arguments = ["--crash", "exit", "--after", "0", "--once-marker", marker]
        let first = try TestHost()
        #expect(try first.spawn("ampsoc-fw-faulty", arguments: arguments).waitForExit() == .exited(3))
        #expect(access(marker, F_OK) == 0)

        let second = try TestHost()
        let remote = try second.spawn("ampsoc-fw-faulty", arguments: arguments + ["--tick-ms", "5"])
        #expect(try eventually { try second.traceLines().contains("tick 3") })
        try second.requestStop(remote)
        #expect(try remote.waitForExit() == .exited(0))
        #expect(try second.traceLines().first == "ampsoc-fw-faulty: boot on dsp0 (generation 5), runs normally")
    }

    @Test func badOptionsExitWithStatus2() throws {
        let host = try TestHost()
        let remote = try host.spawn("ampsoc-fw-faulty", arguments: ["--crash", "melt"])
        #expect(try remote.waitForExit() == .exited(2))
        #expect(remote.standardError().hasPrefix(
            "ampsoc-fw-faulty: --crash \"melt\" is not one of fatal|mmufault|exit|hang|segv\nusage: ampsoc-fw-faulty"))
        #expect(try host.remoteState() == 0)
    }

    // MARK: Refusing to attach

    @Test func wrongGenerationIsRefused() throws {
        let host = try TestHost()
        let remote = try host.spawn("ampsoc-fw-basic", overrides: ["AMPSOC_GENERATION": "6"])
        #expect(try remote.waitForExit() == .exited(76))
        #expect(remote.standardError() == "ampsoc-remote[dsp0]: cannot attach: control block generation: is 5, but "
            + "AMPSOC_GENERATION is 6: the segment belongs to another boot\n")
        #expect(try host.remoteState() == 0)
    }

    @Test func badMagicIsRefused() throws {
        let host = try TestHost()
        try host.segment.write(Array("AMPSOC99".utf8), at: 0)
        let remote = try host.spawn("ampsoc-fw-basic")
        #expect(try remote.waitForExit() == .exited(76))
        #expect(remote.standardError() == "ampsoc-remote[dsp0]: cannot attach: control block magic: is 414d50534f433939 "
            + "(\"AMPSOC99\"), expected \"AMPSOC01\": not an ampsoc segment\n")
        #expect(try host.remoteState() == 0)
    }

    @Test func missingEnvironmentIsRefused() throws {
        let host = try TestHost()
        let remote = try host.spawn("ampsoc-fw-basic", overrides: ["AMPSOC_SEGMENT": nil])
        #expect(try remote.waitForExit() == .exited(78))
        #expect(remote.standardError() == "ampsoc-remote: cannot attach: AMPSOC_SEGMENT: is not set (remote-core firmware "
            + "is started by the ampsoc host, which sets the AMPSOC_* variables)\n")
    }

    @Test func missingSegmentIsRefused() throws {
        let host = try TestHost()
        let remote = try host.spawn("ampsoc-fw-basic", overrides: ["AMPSOC_SEGMENT": "/ampsoc.rt-test.1-1.absent"])
        #expect(try remote.waitForExit() == .exited(71))
        #expect(remote.standardError() == "ampsoc-remote[dsp0]: cannot attach: /ampsoc.rt-test.1-1.absent: "
            + "shm_open: No such file or directory\n")
    }

    @Test func eventFDThatIsNotAnEventFDIsRefused() throws {
        let host = try TestHost()
        let remote = try host.spawn("ampsoc-fw-basic", overrides: ["AMPSOC_DOORBELL": "eventfd:2,0"])
        #expect(try remote.waitForExit() == .exited(78))
        #expect(remote.standardError().hasPrefix("ampsoc-remote[dsp0]: cannot attach: AMPSOC_DOORBELL: descriptor 2 is not an eventfd (it is pipe:["))
    }

    @Test func wrongParentIsKilled() throws {
        let host = try TestHost()
        let remote = try host.spawn("ampsoc-fw-basic", overrides: ["AMPSOC_HOST_PID": "1"])
        #expect(try remote.waitForExit() == .signaled(SIGKILL))
        #expect(try host.remoteState() == 0)
    }
}

/// Process facts from /proc for the tests.
enum TestProcessCheck {
    /// utime + stime of `pid` in clock ticks (/proc/<pid>/stat fields 14 and 15).
    static func cpuTicks(_ pid: pid_t) throws -> UInt64 {
        let bytes = try FileIO.readFile("/proc/\(pid)/stat", limit: 1 << 16)
        let close = try #require(bytes.lastIndex(of: UInt8(ascii: ")")))
        let fields = bytes[(close + 1)...].split(separator: UInt8(ascii: " "))
        // fields[0] is field 3, so fields 14 and 15 are fields[11] and fields[12].
        let user = try #require(UInt64(String(decoding: fields[11], as: UTF8.self)))
        let system = try #require(UInt64(String(decoding: fields[12], as: UTF8.self)))
        return user + system
    }
}

import AmpProfiles
import AmpRemoteproc
import AmpSystem
import AmpWire
import Foundation
import Testing

/// Remote processors as real processes under an in-process host: boot/shutdown refcounts, dependencies,
/// crash detection of every kind, recovery, coredumps and trace.
@Suite(.serialized) struct LifecycleTests {
    @Test func bootAndShutdownFollowPowerReferences() throws {
        let directory = try Integration.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let profile = try Integration.writeProfile(
            [Integration.remote("ipu", extra: ["autoBoot": false])], in: directory)
        let test = try TestHost(profilePath: profile, label: "refs", coredumps: directory)
        let ipu = try test.rproc("ipu")
        #expect(ipu.state == .offline)

        try test.host.boot("ipu")
        #expect(ipu.state == .running)
        let pid = try #require(ipu.pid)
        try test.host.boot("ipu")
        #expect(ipu.powerCount == 2)
        #expect(ipu.pid == pid)

        try test.host.shutdown("ipu")
        #expect(ipu.state == .running)
        #expect(ipu.powerCount == 1)
        #expect(Integration.processExists(pid))

        try test.host.shutdown("ipu")
        #expect(ipu.state == .offline)
        #expect(!Integration.processExists(pid))
        #expect(Integration.segments(of: test.instance).isEmpty)
        #expect(throws: RemoteprocError.self) { try test.host.shutdown("ipu") }
        #expect(test.events.events.filter { if case .state = $0 { true } else { false } }
            == [.state(rproc: "ipu", state: .running), .state(rproc: "ipu", state: .offline)])
        test.finish(pids: [pid])
    }

    @Test func dependenciesBootFirstAndStayReferenced() throws {
        let directory = try Integration.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let profile = try Integration.writeProfile(
            [
                Integration.remote("modem", extra: ["bootAfter": ["adsp"]]),
                Integration.remote("adsp", extra: ["autoBoot": false]),
            ], in: directory)
        let test = try TestHost(profilePath: profile, label: "deps", coredumps: directory)
        #expect(test.host.bootAutomatically().isEmpty)
        let states = test.events.events.compactMap { event -> String? in
            if case .state(let rproc, let state) = event { return "\(rproc):\(state)" }
            return nil
        }
        #expect(states == ["adsp:running", "modem:running"])
        #expect(try test.rproc("adsp").powerCount == 1)

        try test.host.shutdown("modem")
        #expect(try test.rproc("adsp").state == .offline)
        test.finish()
    }

    @Test func killedRemoteIsDetectedDumpedAndRecovered() throws {
        let directory = try Integration.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let profile = try Integration.writeProfile(
            [Integration.remote("ipu", extra: ["coredump": "enabled"])], in: directory)
        let test = try TestHost(profilePath: profile, label: "kill", coredumps: directory)
        test.host.bootAutomatically()
        let ipu = try test.rproc("ipu")
        let firstPid = try #require(ipu.pid)
        // Let the firmware reach its main loop (trace banner) before killing it.
        #expect(try test.run(until: { !$0.traceLines(of: "ipu").isEmpty }))
        kill(firstPid, SIGKILL)

        #expect(try test.run(until: { _ in ipu.crashCount == 1 && ipu.state == .running && ipu.pid != firstPid }))
        let crash = try #require(test.crashes(of: "ipu").first)
        #expect(crash.type == "exit")
        #expect(crash.detail == "killed by signal 9")
        let dump = try #require(test.events.events.compactMap { event -> String? in
            if case .coredump("ipu", let path) = event { return path }
            return nil
        }.first)
        let core = try ELFFile.parse([UInt8](Data(contentsOf: URL(fileURLWithPath: dump))))
        #expect(core.header.type == ELFHeader.ET_CORE)
        #expect(core.programHeaders.map(\.vaddr) == [0x0000_0000, 0x9F00_0000])  // carveouts only, as Linux
        #expect(core.programHeaders.allSatisfy { $0.flags == 7 && $0.vaddr == $0.paddr })
        #expect(!Integration.processExists(firstPid))
        test.finish(pids: [firstPid])
    }

    @Test func hungRemoteTripsTheWatchdog() throws {
        let directory = try Integration.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let marker = directory.appendingPathComponent("hung-once").path
        let profile = try Integration.writeProfile(
            [
                Integration.remote(
                    "dsp", firmware: Integration.product("ampsoc-fw-faulty"),
                    arguments: ["--crash", "hang", "--after", "0.2", "--once-marker", marker],
                    extra: ["watchdogMs": 600])
            ], in: directory)
        let test = try TestHost(profilePath: profile, label: "wdt", coredumps: directory)
        test.host.bootAutomatically()
        let dsp = try test.rproc("dsp")
        #expect(try test.run(until: { _ in dsp.crashCount == 1 && dsp.state == .running }))
        #expect(test.crashes(of: "dsp").map(\.type) == ["watchdog"])
        // After recovery the firmware runs normally (the marker exists): no second crash while it beats.
        try test.run(until: { _ in false }, limit: 1.5)
        #expect(dsp.crashCount == 1)
        test.finish()
    }

    @Test func firmwareReportedFatalErrorAndMMUFault() throws {
        let directory = try Integration.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let profile = try Integration.writeProfile(
            [
                Integration.remote(
                    "ipu", firmware: Integration.product("ampsoc-fw-faulty"),
                    arguments: ["--crash", "fatal", "--after", "0.1", "--once-marker", directory.appendingPathComponent("f").path]),
                Integration.remote(
                    "dsp", firmware: Integration.product("ampsoc-fw-faulty"),
                    arguments: ["--crash", "mmufault", "--after", "0.1", "--once-marker", directory.appendingPathComponent("m").path],
                    extra: ["doorbell": "eventfd"]),
            ], in: directory)
        let test = try TestHost(profilePath: profile, label: "fatal", coredumps: directory)
        #expect(test.host.bootAutomatically().isEmpty)
        #expect(try test.run(until: { $0.crashes(of: "ipu").count == 1 && $0.crashes(of: "dsp").count == 1 }))
        #expect(test.crashes(of: "ipu").first?.type == "fatal error")
        #expect(test.crashes(of: "dsp").first?.type == "mmufault")
        #expect(test.crashes(of: "dsp").first?.detail.contains("invalid access at device address 0x") == true)
        #expect(try test.run(until: { host in (try? host.rproc("ipu").state) == .running && (try? host.rproc("dsp").state) == .running }))
        test.finish()
    }

    @Test func recoveryDisabledLeavesTheProcessorCrashed() throws {
        let directory = try Integration.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let profile = try Integration.writeProfile(
            [
                Integration.remote(
                    "ipu", firmware: Integration.product("ampsoc-fw-faulty"), arguments: ["--crash", "exit", "--after", "0.1"],
                    extra: ["recovery": false])
            ], in: directory)
        let test = try TestHost(profilePath: profile, label: "norecov", coredumps: directory)
        test.host.bootAutomatically()
        let ipu = try test.rproc("ipu")
        let pid = try #require(ipu.pid)
        #expect(try test.run(until: { _ in ipu.state == .crashed }))
        try test.run(until: { _ in false }, limit: 0.5)
        #expect(ipu.state == .crashed)
        #expect(ipu.crashCount == 1)
        #expect(test.crashes(of: "ipu").first?.detail == "exited with code 3")
        // A user-triggered recovery brings it back (and it crashes again later, which is fine).
        ipu.recover()
        #expect(ipu.state == .running)
        test.finish(pids: [pid])
    }

    @Test func traceTextArrives() throws {
        let directory = try Integration.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let profile = try Integration.writeProfile([Integration.remote("ipu")], in: directory)
        let test = try TestHost(profilePath: profile, label: "trace", coredumps: directory)
        test.host.bootAutomatically()
        #expect(try test.run(until: { $0.traceLines(of: "ipu").contains { $0.contains("tick 1") } }))
        #expect(test.traceLines(of: "ipu").first?.contains("ipu") == true)
        test.finish()
    }
}

import AmpJSON
import AmpWire
import Foundation
import Testing

/// `ampsoc run` as users run it: a real host process, every exit path, nothing left behind.
@Suite(.serialized) struct RunCommandTests {
    func profile(_ remotes: [[String: Any]], in directory: URL) throws -> String {
        try Integration.writeProfile(remotes, in: directory)
    }

    func expectNothingLeft(_ instance: String) {
        let gone = AmpsocProcess.pollUntil(limit: 5) {
            Integration.firmwareProcesses(of: instance).isEmpty && Integration.segments(of: instance).isEmpty
        }
        #expect(gone, "left behind: processes \(Integration.firmwareProcesses(of: instance)), segments \(Integration.segments(of: instance))")
    }

    @Test func runsForADurationAndShutsDownCleanly() throws {
        let directory = try Integration.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = try profile(
            [Integration.remote("ipu"), Integration.remote("dsp", extra: ["doorbell": "eventfd"])], in: directory)
        let instance = Integration.uniqueInstance("dur")
        let run = try AmpsocProcess(["run", path, "--duration", "1.5", "--events", "json", "--name", instance])
        #expect(run.waitForExit() == 0, "stderr: \(run.stderr)")
        #expect(run.hasEvent(["event": "state", "rproc": "ipu", "state": "running"]))
        #expect(run.hasEvent(["event": "state", "rproc": "dsp", "state": "running"]))
        #expect(run.hasEvent(["event": "state", "rproc": "ipu", "state": "offline"]))
        #expect(run.events.contains { $0["event"] == "trace" && $0["rproc"] == "dsp" })
        expectNothingLeft(instance)
    }

    @Test(arguments: [SIGINT, SIGTERM])
    func stopsCleanlyOnSignal(_ signal: Int32) throws {
        let directory = try Integration.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = try profile([Integration.remote("ipu")], in: directory)
        let instance = Integration.uniqueInstance("sig")
        let run = try AmpsocProcess(["run", path, "--events", "json", "--name", instance])
        #expect(run.wait { run.hasEvent(["event": "state", "rproc": "ipu", "state": "running"]) })
        kill(run.process.processIdentifier, signal)
        #expect(run.waitForExit() == 0, "stderr: \(run.stderr)")
        #expect(run.hasEvent(["event": "state", "rproc": "ipu", "state": "offline"]))
        #expect(!run.events.contains { $0["event"] == "crash" })
        expectNothingLeft(instance)
    }

    @Test func killedHostTakesItsRemotesAlongAndTheNextStartCleansUp() throws {
        let directory = try Integration.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = try profile([Integration.remote("ipu"), Integration.remote("dsp")], in: directory)
        let instance = Integration.uniqueInstance("kill9")
        let run = try AmpsocProcess(["run", path, "--events", "json", "--name", instance])
        #expect(run.wait { run.hasEvent(["event": "state", "rproc": "dsp", "state": "running"]) })
        kill(run.process.processIdentifier, SIGKILL)
        _ = run.waitForExit()
        #expect(AmpsocProcess.pollUntil(limit: 5) { Integration.firmwareProcesses(of: instance).isEmpty })
        #expect(Integration.segments(of: instance).count == 2)

        let again = try AmpsocProcess(["run", path, "--duration", "0.3", "--events", "json", "--name", instance])
        #expect(again.waitForExit() == 0, "stderr: \(again.stderr)")
        #expect(again.events.filter { ($0["message"].flatMap { if case .string(let s) = $0 { s } else { nil } } ?? "")
            .hasPrefix("removed stale shared-memory segment") }.count >= 2)
        expectNothingLeft(instance)
    }

    @Test func malformedProfileNamesTheJSONPath() throws {
        let directory = try Integration.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = try profile([Integration.remote("ipu", extra: ["watchdogMs": "soon"])], in: directory)
        let run = try AmpsocProcess(["run", path, "--duration", "0.2"])
        #expect(run.waitForExit() == 1)
        #expect(run.stderr.hasPrefix("error: \(path): $.remoteprocs[0].watchdogMs"), "stderr: \(run.stderr)")
    }

    @Test func badFirmwareIsReportedAndTheOtherRemotesKeepRunning() throws {
        let directory = try Integration.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let malformed = directory.appendingPathComponent("malformed.elf")
        try BadFirmware.malformedTable().write(to: malformed)
        let overlapping = directory.appendingPathComponent("overlap.elf")
        try BadFirmware.overlappingCarveouts().write(to: overlapping)
        for file in [malformed, overlapping] {
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: file.path)
        }
        // Room for the sample's fixed trace and carveout, not for 512 buffers of 64 KiB.
        let tinyMemory: [[String: Any]] = [
            ["name": "ipc", "kind": "carveout", "da": "0x9F000000", "pa": "0x9D200000", "size": "0x90000"]
        ]
        let path = try profile(
            [
                Integration.remote("good"),
                Integration.remote("missing", firmware: directory.appendingPathComponent("nope.elf").path),
                Integration.remote("malformed", firmware: malformed.path),
                Integration.remote("overlap", firmware: overlapping.path),
                Integration.remote("tiny", memory: tinyMemory, extra: ["rpmsgBufferSize": 65536]),
            ], in: directory)
        let instance = Integration.uniqueInstance("bad")
        let run = try AmpsocProcess(["run", path, "--duration", "1", "--events", "json", "--name", instance])
        #expect(run.waitForExit() == 1)
        #expect(run.hasEvent(["event": "state", "rproc": "good", "state": "running"]))
        let errors = Dictionary(
            run.events.compactMap { event -> (String, String)? in
                guard event["event"] == "error", case .string(let rproc)? = event["rproc"],
                    case .string(let message)? = event["message"]
                else { return nil }
                return (rproc, message)
            }, uniquingKeysWith: { first, _ in first })
        #expect(errors["missing"]?.contains("nope.elf") == true, "\(errors)")
        #expect(errors["malformed"]?.contains("resource_table.ver") == true, "\(errors)")
        #expect(errors["overlap"]?.contains("overlaps") == true, "\(errors)")
        #expect(errors["tiny"]?.contains("too small") == true, "\(errors)")
        #expect(errors["good"] == nil)
        expectNothingLeft(instance)
    }
}

extension AmpsocProcess {
    static func pollUntil(limit: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(limit)
        while !condition() {
            if Date() > deadline { return false }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return true
    }
}

/// Synthetic native firmware images with broken resource tables, built with the wire layer.
enum BadFirmware {
    static func image(table: [UInt8]) -> Data {
        let builder = ELFImageBuilder(
            class: .elf64, order: .host, type: ELFHeader.ET_EXEC, machine: ELFHeader.EM_X86_64, entry: 0x1000,
            segments: [.init(type: ELFProgramHeader.PT_LOAD, flags: 5, vaddr: 0x1000, paddr: 0x1000, memsz: 16, align: 16, data: [UInt8](repeating: 0xCC, count: 16))],
            sections: [.init(name: ".resource_table", addr: 0x2000, data: table)])
        return Data(builder.build())
    }

    static func malformedTable() -> Data {
        var table = ResourceTable(resources: []).serialised(order: .host)
        table[0] = 2  // version 2
        return image(table: table)
    }

    static func overlappingCarveouts() -> Data {
        let a = Resource.carveout(.init(da: 0x9F00_0000, pa: ResourceTable.addressAny, len: 0x2000, flags: 0, reserved: 0, name: "first"))
        let b = Resource.carveout(.init(da: 0x9F00_1000, pa: ResourceTable.addressAny, len: 0x2000, flags: 0, reserved: 0, name: "second"))
        return image(table: ResourceTable(resources: [a, b]).serialised(order: .host))
    }
}

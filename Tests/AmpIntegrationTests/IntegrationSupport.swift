import AmpProfiles
import AmpRemoteproc
import AmpSystem
import AmpTestSupport
import Foundation
import Testing

/// Shared helpers for tests that launch real topologies: built executables, temporary profiles, waiting for
/// events with a bound (never timing assertions), and leftover checks.
enum Integration {
    static let packageRoot = TestProducts.packageRoot

    /// The directory holding the built executables.
    static let productsDirectory = TestProducts.directory

    static func product(_ name: String) -> String { TestProducts.path(name) }

    /// A fresh temporary directory, removed by the caller with `removeTemporary`.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ampsoc-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A unique instance name, so parallel tests never share segment names.
    static func uniqueInstance(_ label: String) -> String {
        "t\(label.prefix(12))\(UInt32.random(in: 0...UInt32.max))"
    }

    /// The memory map every sample firmware fits (its table needs a carveout region over 0x9F000000).
    static var sampleMemory: [[String: Any]] { [
        ["name": "text", "kind": "carveout", "da": "0x00000000", "pa": "0x9D000000", "size": "0x100000"],
        ["name": "ipc", "kind": "carveout", "da": "0x9F000000", "pa": "0x9D200000", "size": "0x100000"],
        ["name": "l4cfg", "kind": "devmem", "da": "0xAA000000", "pa": "0x4A000000", "size": "0x10000"],
    ] }

    /// A remote-processor entry for a test profile.
    static func remote(
        _ name: String, firmware: String = product("ampsoc-fw-basic"), arguments: [String] = [],
        memory: [[String: Any]] = sampleMemory, extra: [String: Any] = [:]
    ) -> [String: Any] {
        var entry: [String: Any] = [
            "name": name, "coreType": "cortex-m3", "firmware": firmware, "firmwareArguments": arguments,
            "memory": memory,
        ]
        for (key, value) in extra { entry[key] = value }
        return entry
    }

    /// Writes a profile with these remotes into `directory` and returns its path.
    static func writeProfile(_ remotes: [[String: Any]], soc: String = "testsoc", in directory: URL) throws -> String {
        let object: [String: Any] = [
            "soc": soc, "description": "test profile", "host": ["coreType": "cortex-a9", "cores": 2],
            "remoteprocs": remotes,
        ]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        let url = directory.appendingPathComponent("\(soc)-\(UUID().uuidString.prefix(8)).json")
        try data.write(to: url)
        return url.path
    }

    /// Shared-memory segments whose name contains `instance`.
    static func segments(of instance: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/dev/shm")) ?? []).filter { $0.contains(".\(instance).") }
    }

    /// Whether a process with this pid exists (and is not a zombie).
    /// Whether a process with this pid exists and is not a zombie.
    static func processExists(_ pid: Int32) -> Bool { TestProcesses.isAlive(pid) }
}

/// A host run in-process for a test: builds the SoC from a profile file, drives the main loop in slices, and
/// guarantees teardown and leftover checks.
final class TestHost {
    let host: SoCHost
    let events = RecordingEventSink()
    let instance: String
    let coredumps: URL

    init(profilePath: String, label: String, coredumps: URL) throws {
        let profile = try ProfileDecoder.load(path: profilePath)
        instance = Integration.uniqueInstance(label)
        self.coredumps = coredumps
        host = try SoCHost(
            profile: profile, instance: instance, sink: events, coredumpDirectory: coredumps.path,
            environment: ProcessInfo.processInfo.environment, stopTimeout: .seconds(2))
        host.tickInterval = .milliseconds(10)
    }

    /// Runs the main loop until `condition` holds (checked every tick) or `limit` passes. Returns whether it held.
    @discardableResult
    func run(until condition: @escaping (TestHost) -> Bool, limit: Double = 15) throws -> Bool {
        let deadline = MonotonicClock.nanoseconds() + UInt64(limit * 1e9)
        var met = condition(self)
        while !met, MonotonicClock.nanoseconds() < deadline {
            _ = try host.run(until: min(deadline, MonotonicClock.nanoseconds() + 20_000_000))
            met = condition(self)
        }
        return met
    }

    func rproc(_ name: String) throws -> RemoteProcessor {
        try #require(host.remoteProcessor(named: name))
    }

    func has(_ event: HostEvent) -> Bool { events.events.contains(event) }

    func crashes(of rproc: String) -> [(type: String, detail: String)] {
        events.events.compactMap {
            if case .crash(let name, let type, let detail) = $0, name == rproc { return (type, detail) }
            return nil
        }
    }

    func traceLines(of rproc: String) -> [String] {
        events.events.compactMap {
            if case .trace(let name, let text) = $0, name == rproc { return text }
            return nil
        }
    }

    /// Tears down and checks nothing is left: no processes, no segments.
    func finish(pids: [Int32] = []) {
        let live = host.remoteProcessors.compactMap(\.pid)
        host.tearDown()
        for pid in pids + live { #expect(!Integration.processExists(pid), "process \(pid) survived teardown") }
        #expect(Integration.segments(of: instance).isEmpty, "segments left: \(Integration.segments(of: instance))")
    }
}

import AmpProfiles
import AmpRemoteproc
import AmpRpmsg
import AmpSystem
import AmpTestSupport
import Foundation
import Synchronization
import Testing

/// Builds and runs an omap4-like topology in-process (the approach of the lead's IntegrationSupport, not
/// shared with it): an "ipu" (futex doorbell) and a "dsp" (eventfd doorbell) with omap4's memory maps, each
/// running an rpmsg sample firmware, the host's main loop driven in slices by the test thread.
final class RpmsgTopology {
    static let packageRoot = TestProducts.packageRoot

    /// The directory holding the built executables.
    static let productsDirectory = TestProducts.directory

    static func product(_ name: String) -> String { TestProducts.path(name) }

    /// omap4's IPU memory map (docs/profiles.md) with its l4cfg device memory.
    static let ipuMemory = TestMemoryMaps.omap4IPU
        + [["name": "l4cfg", "kind": "devmem", "da": "0xAA000000", "pa": "0x4A000000", "size": "0x1000000"]]

    /// omap4's DSP memory map with its l4cfg device memory.
    static let dspMemory = TestMemoryMaps.omap4DSP
        + [["name": "l4cfg", "kind": "devmem", "da": "0x4A000000", "pa": "0x4A000000", "size": "0x1000000"]]

    let host: SoCHost
    let events = RecordingEventSink()
    let instance: String
    let directory: URL

    /// - Parameters:
    ///   - ipuFirmware / dspFirmware: product names of the firmware each remote runs.
    ///   - ipuArguments / dspArguments: their command-line arguments.
    ///   - label: part of the instance name (segment names), unique per test.
    ///   - configure: runs before anything boots (register host drivers here).
    init(
        ipuFirmware: String = "ampsoc-fw-client-sample", dspFirmware: String = "ampsoc-fw-echo",
        ipuArguments: [String] = [], dspArguments: [String] = [], label: String,
        configure: (SoCHost) throws -> Void = { _ in }
    ) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("ampsoc-rpmsg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        func remote(
            _ name: String, firmware: String, arguments: [String] = [], doorbell: String, memory: [[String: String]]
        ) -> [String: Any] {
            [
                "name": name, "coreType": name == "ipu" ? "cortex-m3" : "c64x", "firmware": Self.product(firmware),
                "firmwareArguments": arguments, "doorbell": doorbell, "recovery": true, "coredump": "disabled",
                "rpmsgBufferSize": 512, "memory": memory,
            ]
        }
        let object: [String: Any] = [
            "soc": "omap4rpmsg", "description": "omap4-like topology for rpmsg tests",
            "host": ["coreType": "cortex-a9", "cores": 2],
            "remoteprocs": [
                remote("ipu", firmware: ipuFirmware, arguments: ipuArguments, doorbell: "futex", memory: Self.ipuMemory),
                remote("dsp", firmware: dspFirmware, arguments: dspArguments, doorbell: "eventfd", memory: Self.dspMemory),
            ],
        ]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        let path = directory.appendingPathComponent("omap4rpmsg.json")
        try data.write(to: path)
        let profile = try ProfileDecoder.load(path: path.path)
        instance = "r\(label.prefix(10))\(UInt32.random(in: 0...UInt32.max))"
        host = try SoCHost(
            profile: profile, instance: instance, sink: events, coredumpDirectory: directory.path,
            environment: ProcessInfo.processInfo.environment, stopTimeout: .seconds(2))
        host.tickInterval = .milliseconds(10)
        try configure(host)
    }

    /// Runs the main loop until `condition` holds (checked after every slice) or `limit` passes.
    @discardableResult
    func run(until condition: () -> Bool, limit: Double = 30) throws -> Bool {
        try host.runSlices(until: condition, limit: limit)
    }

    func rproc(_ name: String) throws -> RemoteProcessor {
        try #require(host.remoteProcessor(named: name))
    }

    /// Channel events of `rproc`, in order, as (action, name).
    func channelEvents(of rproc: String) -> [(action: HostEvent.ChannelAction, name: String, dst: UInt32)] {
        events.events.compactMap { event in
            if case .channel(let name, let action, let channel, _, let dst) = event, name == rproc {
                return (action, channel, dst)
            }
            return nil
        }
    }

    /// Text of every driver event of `driver`, in order.
    func driverOutput(of driver: String) -> [String] {
        events.events.compactMap { event in
            if case .driver(let name, _, let text) = event, name == driver { return text }
            return nil
        }
    }

    /// Tears down and checks nothing is left: no firmware process, no segment, no temporary files.
    func finish() {
        let pids = host.remoteProcessors.compactMap(\.pid)
        host.tearDown()
        for pid in pids { #expect(!Self.processExists(pid), "process \(pid) survived teardown") }
        let segments = ((try? FileManager.default.contentsOfDirectory(atPath: "/dev/shm")) ?? [])
            .filter { $0.contains(".\(instance).") }
        #expect(segments.isEmpty, "segments left: \(segments)")
        try? FileManager.default.removeItem(at: directory)
    }

    /// Whether a process with this pid exists and is not a zombie.
    static func processExists(_ pid: Int32) -> Bool { TestProcesses.isAlive(pid) }
}

/// A host driver for "rpmsg-echo" that keeps traffic going forever: probe sends "ping 0", and each echo
/// triggers the next ping. Counts probes, removes and echoes per probe.
final class PingPongDriver: RpmsgDriver {
    let name = "ping_pong"
    var idTable: [String] { ["rpmsg-echo"] }

    private struct State {
        var probes = 0
        var removes = 0
        /// Echoes received since the latest probe.
        var echoesSinceProbe = 0
        var totalEchoes = 0
        var mismatches = 0
    }

    private let state = Mutex(State())

    var probes: Int { state.withLock { $0.probes } }
    var removes: Int { state.withLock { $0.removes } }
    var echoesSinceProbe: Int { state.withLock { $0.echoesSinceProbe } }
    var totalEchoes: Int { state.withLock { $0.totalEchoes } }
    /// Both echo counts read at one instant (the ping-pong may still be running).
    var echoCounts: (sinceProbe: Int, total: Int) { state.withLock { ($0.echoesSinceProbe, $0.totalEchoes) } }
    var mismatches: Int { state.withLock { $0.mismatches } }

    func probe(_ channel: RpmsgChannel) throws(RpmsgError) {
        state.withLock { state in
            state.probes += 1
            state.echoesSinceProbe = 0
        }
        try channel.send(Array("ping 0".utf8))
    }

    func remove(_ channel: RpmsgChannel) {
        state.withLock { $0.removes += 1 }
    }

    func callback(_ channel: RpmsgChannel, payload: [UInt8], source: UInt32) {
        let next = state.withLock { state -> Int in
            if payload != Array("ping \(state.echoesSinceProbe)".utf8) { state.mismatches += 1 }
            state.echoesSinceProbe += 1
            state.totalEchoes += 1
            return state.echoesSinceProbe
        }
        // Sends fail with .noDevice once the remote is gone; the next probe starts over.
        try? channel.send(Array("ping \(next)".utf8))
    }
}

extension SoCHost {
    /// Runs the main loop in 20 ms slices on the calling thread until `condition` holds (checked after every
    /// slice) or `limit` seconds pass; whether it held.
    func runSlices(until condition: () -> Bool, limit: Double) throws -> Bool {
        let deadline = MonotonicClock.nanoseconds() + UInt64(limit * 1e9)
        var met = condition()
        while !met, MonotonicClock.nanoseconds() < deadline {
            _ = try run(until: min(deadline, MonotonicClock.nanoseconds() + 20_000_000))
            met = condition()
        }
        return met
    }
}

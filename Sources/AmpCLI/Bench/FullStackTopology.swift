import AmpBench
import AmpProfiles
import AmpRemoteproc
import AmpSystem
import Dispatch
import Foundation
import Glibc
import Synchronization

/// Numbers the instances, so topologies started one after another (or at once, in tests) never share segment
/// names.
private let instanceCounter = Atomic<Int>(0)

/// The emulated SoC behind `ampsoc bench`'s "ampsoc" and "smd" columns: one remote processor shaped like
/// omap4's "ipu" (the same memory map, a futex doorbell, 512-byte rpmsg buffers, a 2 s watchdog) running
/// ampsoc-fw-bench, and a dedicated, long-lived thread that boots it and then runs ``SoCHost``'s main loop.
/// Its rpmsg travels over virtio (the "ampsoc" column) or over SMD edge 0 with an smem region beside the ipc
/// carveout (the "smd" column).
///
/// The thread matters: a firmware process dies with the thread that spawned it (PR_SET_PDEATHSIG follows
/// the thread), so it boots on the host thread, which lives until ``stop(timeout:)``; the same thread tears
/// the SoC down (processes stopped and reaped, segments unlinked) before it ends. Other threads only call
/// `requestStop()` (thread-safe) and send through the rpmsg endpoints (thread-safe).
///
/// Recovery is off: a crash of the remote must fail the measurement, not be papered over by a restart.
final class FullStackTopology: @unchecked Sendable {
    /// The remote processor's name.
    static let rprocName = "ipu"
    /// The firmware executable, looked for next to the running executable.
    static let firmwareName = "ampsoc-fw-bench"
    /// Environment variable that overrides where the firmware is.
    static let firmwareOverride = "AMPSOC_BENCH_FIRMWARE"
    /// Watchdog timeout of the remote (as omap4's ipu): its heartbeat is part of an idle topology's cost.
    static let watchdogMilliseconds: UInt32 = 2000
    /// The SMD edge of the remote when its rpmsg goes over SMD.
    static let smdEdge: UInt32 = 0

    /// The column's transport name for `transport` (error messages name it).
    static func transportName(_ transport: RpmsgTransportKind) -> String {
        switch transport {
        case .virtio: "ampsoc (rpmsg over virtio)"
        case .smd: "ampsoc (rpmsg over SMD)"
        }
    }

    /// The host; after ``start(timeout:)`` only the host thread touches it (and `requestStop()` from anywhere).
    let host: SoCHost
    /// What the host reported: crashes, errors and recent trace lines.
    let events = BenchEventLog()
    /// The instance name (segment names contain it).
    let instance: String
    /// What carries the remote's rpmsg.
    let transport: RpmsgTransportKind
    /// The column's transport name (``transportName(_:)``).
    let transportName: String
    private let booted = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private let outcome = Mutex(Outcome())
    private var threadStarted = false
    private var joined = false

    private struct Outcome {
        var firmwarePID: pid_t?
        var bootFailure: String?
        var runFailure: String?
    }

    /// Builds the profile and the host (nothing runs yet). `driver` is registered before anything boots.
    init(firmware: String, driver: FullStackBenchDriver, transport: RpmsgTransportKind) throws(BenchError) {
        let transportName = Self.transportName(transport)
        self.transport = transport
        self.transportName = transportName
        let profile = Self.profile(firmware: firmware, transport: transport)
        do {
            try profile.validate()
        } catch {
            throw .peerFailed(transport: transportName, detail: "bench profile: \(error)")
        }
        let number = instanceCounter.wrappingAdd(1, ordering: .relaxed).newValue
        instance = (transport == .smd ? "bench-smd" : "bench-full") + "\(number)"
        do {
            host = try SoCHost(
                profile: profile, instance: instance, sink: events, coredumpDirectory: "/tmp",
                environment: ProcessEnvironment.current(), stopTimeout: .seconds(2))
        } catch {
            throw .system(error)
        }
        // A remote that stops taking messages fails a blocked send after this long.
        host.rpmsgSendTimeout = .seconds(5)
        do {
            try host.rpmsgRegistry.register(driver)
        } catch {
            throw .peerFailed(transport: transportName, detail: "cannot register the bench driver: \(error)")
        }
    }

    /// The one-remote profile: omap4's ipu memory map, futex doorbell, `firmware` as an absolute path; over
    /// SMD also a 1 MiB smem region right after the ipc carveout (in both address spaces) and edge 0.
    static func profile(firmware: String, transport: RpmsgTransportKind) -> SoCProfile {
        func region(_ name: String, _ kind: MemoryRegionProfile.Kind, da: UInt32, pa: UInt32, size: UInt32) -> MemoryRegionProfile {
            MemoryRegionProfile(name: name, kind: kind, da: da, pa: pa, size: size)
        }
        var memory = [
            region("text", .carveout, da: 0x0000_0000, pa: 0x9D00_0000, size: 0x10_0000),
            region("data", .carveout, da: 0x8000_0000, pa: 0x9D10_0000, size: 0x10_0000),
            region("ipc", .carveout, da: 0x9F00_0000, pa: 0x9D20_0000, size: 0x10_0000),
            region("l4cfg", .devmem, da: 0xAA00_0000, pa: 0x4A00_0000, size: 0x100_0000),
        ]
        if transport == .smd {
            memory.append(region("smem", .smem, da: 0x9F10_0000, pa: 0x9D30_0000, size: 0x10_0000))
        }
        let ipu = RemoteProcessorProfile(
            name: rprocName, coreType: "cortex-m3", cores: 1, firmware: firmware, firmwareArguments: [],
            memory: memory, doorbell: .futex, bootAfter: [], autoBoot: true, recovery: false, coredump: .disabled,
            watchdogTimeoutMs: watchdogMilliseconds, rpmsgBufferSize: 512, rpmsgTransport: transport,
            smdEdge: transport == .smd ? smdEdge : nil)
        return SoCProfile(
            name: "bench", description: "ampsoc bench: one omap4-like ipu running \(firmwareName) over \(transport.rawValue)",
            host: HostProfile(coreType: "cortex-a9", cores: 2), remoteProcessors: [ipu],
            sourcePath: "(ampsoc bench)")
    }

    /// The firmware: `$AMPSOC_BENCH_FIRMWARE` if set, else `ampsoc-fw-bench` in the directory of
    /// `/proc/self/exe`. The error names `transport`'s column.
    static func locateFirmware(transport: RpmsgTransportKind) throws(BenchError) -> String {
        let path: String
        if let override = getenv(firmwareOverride).map({ String(cString: $0) }), !override.isEmpty {
            path = override
        } else {
            let own = FileIO.readLink("/proc/self/exe") ?? "./\(firmwareName)"
            let directory = own.lastIndex(of: "/").map { String(own[..<$0]) } ?? "."
            path = directory + "/" + firmwareName
        }
        guard FileIO.executableCheck(path) == nil else {
            throw .peerFailed(
                transport: transportName(transport),
                detail: "firmware \(firmwareName) not found at \(path) (build it with 'swift build', or set \(firmwareOverride))")
        }
        return path
    }

    // MARK: The host thread

    /// Starts the host thread, which boots the remote; returns the firmware's pid once it is running.
    /// Throws if the boot fails or takes longer than `timeout` (the thread is then stopped and joined).
    func start(timeout: Duration) throws(BenchError) -> pid_t {
        threadStarted = true
        let thread = Thread { [self] in hostThreadMain() }
        thread.name = "ampsoc bench host"
        thread.start()
        let seconds = Double(MonotonicClock.nanoseconds(of: timeout)) / 1e9
        guard booted.wait(timeout: .now() + seconds) == .success else {
            try? stop(timeout: .seconds(10))
            throw .peerFailed(transport: transportName, detail: "the remote did not boot within \(timeout)")
        }
        let result = outcome.withLock { $0 }
        guard let pid = result.firmwarePID else {
            try? stop(timeout: .seconds(10))
            throw .peerFailed(
                transport: transportName, detail: "boot failed: \(result.bootFailure ?? "no firmware process")")
        }
        return pid
    }

    /// Runs on the host thread: boot, main loop until ``stop(timeout:)``, teardown.
    private func hostThreadMain() {
        do {
            try host.boot(Self.rprocName)
            let pid = host.remoteProcessor(named: Self.rprocName)?.pid
            outcome.withLock { $0.firmwarePID = pid }
        } catch {
            outcome.withLock { $0.bootFailure = error.description }
        }
        booted.signal()
        if outcome.withLock({ $0.firmwarePID }) != nil {
            do {
                _ = try host.run()
            } catch {
                outcome.withLock { $0.runFailure = "the host's main loop failed: \(error)" }
            }
        }
        host.tearDown()
        finished.signal()
    }

    /// Whether the host thread's main loop stopped by itself (it failed).
    var runFailure: String? { outcome.withLock { $0.runFailure } }

    /// Asks the host thread to stop and waits up to `timeout` for it to tear the SoC down and end. Throws if it
    /// does not end in time or its main loop had failed. Idempotent.
    func stop(timeout: Duration) throws(BenchError) {
        guard threadStarted, !joined else { return }
        host.requestStop()
        let seconds = Double(MonotonicClock.nanoseconds(of: timeout)) / 1e9
        guard finished.wait(timeout: .now() + seconds) == .success else {
            throw .peerFailed(transport: transportName, detail: "the host thread did not stop within \(timeout)")
        }
        joined = true
        if let failure = runFailure {
            throw .peerFailed(transport: transportName, detail: failure)
        }
    }
}

/// The host's events as the benchmark needs them: crashes and errors (any of them fails the measurement) and
/// the latest trace lines (for error messages). Emitted on the host thread, read on the measuring thread.
final class BenchEventLog: HostEventSink, Sendable {
    /// How many trace lines are kept.
    static let traceLines = 8
    private struct Log {
        var problems: [String] = []
        var traces: [String] = []
    }

    private let log = Mutex(Log())

    func emit(_ event: HostEvent) {
        switch event {
        case .crash, .error:
            log.withLock { $0.problems.append(event.text) }
        case .trace(_, let text):
            log.withLock { log in
                log.traces.append(text)
                if log.traces.count > Self.traceLines { log.traces.removeFirst() }
            }
        default:
            break
        }
    }

    /// Crashes and errors so far, as readable lines.
    var problems: [String] { log.withLock { $0.problems } }

    /// The latest trace lines of the firmware.
    var recentTrace: [String] { log.withLock { $0.traces } }
}

import AmpProfiles
import AmpRpmsg
import AmpRpmsgSMD
import AmpRpmsgVirtio
import AmpSystem
import AmpWire
import Glibc

/// One remote processor under the host's control: Linux's `struct rproc` with its state machine.
///
/// Lifecycle, as Linux's remoteproc core: `boot()` takes a power reference and, for the first one, loads the
/// firmware and starts the core; `shutdown()` drops a reference and stops the core at zero. A crash (process
/// exit, a crash the firmware reports, a watchdog) moves a running processor to `crashed`; unless recovery is
/// disabled, it is then stopped, dumped (when coredumps are enabled), reloaded from the cached resource table
/// and started again.
///
/// Not thread-safe: every method runs on the host's main loop thread (``SoCHost``).
public final class RemoteProcessor {
    /// The profile this processor was configured from.
    public let profile: RemoteProcessorProfile
    public var name: String { profile.name }
    public private(set) var state: RemoteprocState = .offline
    /// Power references (Linux's `rproc->power`).
    public private(set) var powerCount = 0
    /// Crashes since the host started.
    public private(set) var crashCount = 0
    /// Whether a crash is followed by automatic recovery.
    public var recoveryEnabled: Bool
    public var coredumpMode: CoredumpMode
    /// Firmware as given in the profile or by the user (resolved when loading).
    public private(set) var firmware: String

    let context: HostContext
    private var session: RemoteSession?
    private var cachedFirmware: FirmwareImage?
    private var generation: UInt32 = 0
    private var recentCrashTimes: [UInt64] = []
    /// When set, recovery waits until this monotonic time (back-off for a crash loop).
    private(set) var recoveryDueAt: UInt64?

    init(profile: RemoteProcessorProfile, context: HostContext) {
        self.profile = profile
        self.context = context
        self.recoveryEnabled = profile.recovery
        self.coredumpMode = profile.coredump
        self.firmware = profile.firmware
    }

    /// The running session's process id, if any.
    public var pid: Int32? { session?.process.pid }
    /// The running session, for live views (memory, trace, table).
    var liveSession: RemoteSession? { session }
    /// The virtio rpmsg links of the current boot, one per rpmsg vdev (empty when offline).
    public var rpmsgLinks: [VirtioRpmsgLink] { (session?.rpmsg as? VirtioRpmsgSubdevice)?.links ?? [] }
    /// The SMD edge link of the current boot, for an SMD remote (nil otherwise, or when offline).
    public var smdLink: SmdRpmsgEdgeLink? { (session?.rpmsg as? SmdRpmsgSubdevice)?.link }
    /// The rpmsg cores of the current boot's links that are up (empty when offline, crashed or stopping).
    public var rpmsgBuses: [RpmsgBus] { session?.rpmsg.buses.filter(\.isUp) ?? [] }

    // MARK: Power references

    /// Takes a power reference; the first one loads the firmware and starts the processor (rproc_boot).
    public func boot() throws(RemoteprocError) {
        guard state != .deleted else { throw RemoteprocError(rproc: name, code: .noDevice, message: "processor is deleted") }
        powerCount += 1
        guard powerCount == 1 else { return }
        do {
            try start(firmwarePath: try resolveFirmware())
        } catch {
            powerCount -= 1
            throw error
        }
    }

    /// Drops a power reference; the last one stops the processor (rproc_shutdown).
    public func shutdown() throws(RemoteprocError) {
        guard state == .running || state == .crashed || state == .attached else {
            throw RemoteprocError(rproc: name, code: .invalidArgument, message: "cannot shut down: processor is \(state)")
        }
        guard powerCount > 0 else {
            throw RemoteprocError(rproc: name, code: .invalidArgument, message: "cannot shut down: no power reference")
        }
        powerCount -= 1
        guard powerCount == 0 else { return }
        context.drainRpmsgEvents()
        stop(crashed: state == .crashed, orderly: state == .running)
        context.drainRpmsgEvents()
        releaseSession()
        setState(.offline)
    }

    /// Changes the firmware; allowed only while offline (as Linux's sysfs `firmware`, else EBUSY).
    public func setFirmware(_ path: String) throws(RemoteprocError) {
        guard state == .offline else {
            throw RemoteprocError(rproc: name, code: .busy, message: "firmware can only be changed while offline (state is \(state))")
        }
        guard !path.isEmpty, !path.contains("\n") else {
            throw RemoteprocError(rproc: name, code: .invalidArgument, message: "invalid firmware name")
        }
        firmware = path
        cachedFirmware = nil
    }

    // MARK: Start and stop

    private func resolveFirmware() throws(RemoteprocError) -> String {
        var locator = FirmwareLocator.forCurrentProcess()
        locator.environment = context.environment
        do {
            return try locator.locate(firmware, profilePath: context.profilePath)
        } catch {
            throw RemoteprocError(rproc: name, code: .noEntry, message: error.description)
        }
    }

    /// Loads the firmware into a fresh segment and spawns the firmware process (rproc_fw_boot + rproc_start).
    private func start(firmwarePath: String) throws(RemoteprocError) {
        let image: FirmwareImage
        if let cached = cachedFirmware, cached.path == firmwarePath {
            image = cached
        } else {
            image = try FirmwareImage.load(path: firmwarePath, rproc: name)
            cachedFirmware = image
        }
        try image.checkExecutable(rproc: name)
        generation &+= 1
        let session = try RemoteSession.start(
            profile: profile, firmware: image, generation: generation, context: context)
        for warning in session.warnings { context.sink.emit(.info(rproc: name, message: warning)) }
        self.session = session
        setState(.running)
    }

    /// Stops the firmware process: an orderly stop request first when the remote is healthy, then SIGTERM and
    /// SIGKILL after the timeouts; a crashed remote is killed at once (its core is halted, as Linux's ops.stop).
    private func stop(crashed: Bool, orderly: Bool) {
        guard let session else { return }
        session.stop(orderly: orderly && !crashed, timeout: context.stopTimeout)
    }

    /// Reports what the firmware traced before it stopped, then releases the segment and the process.
    private func releaseSession() {
        if let session {
            for line in session.drainTraceLines() { context.sink.emit(.trace(rproc: name, text: line)) }
        }
        session?.release()
        session = nil
    }

    private func setState(_ newState: RemoteprocState) {
        guard newState != state else { return }
        state = newState
        context.sink.emit(.state(rproc: name, state: newState))
    }

    // MARK: Crashes and recovery

    /// Reports a crash of a running processor (rproc_report_crash). Ignored unless running.
    public func reportCrash(type: String, detail: String) {
        guard state == .running else { return }
        // What the remote traced and its links reported before the crash comes first.
        for line in session?.readTraceLines() ?? [] { context.sink.emit(.trace(rproc: name, text: line)) }
        context.drainRpmsgEvents()
        crashCount += 1
        setState(.crashed)
        context.sink.emit(.crash(rproc: name, type: type, detail: detail))
        // The core is halted at once (its rpmsg channels go first); recovery (now or later) restarts it.
        session?.halt()
        context.drainRpmsgEvents()
        guard recoveryEnabled else { return }
        let now = MonotonicClock.nanoseconds()
        recentCrashTimes = recentCrashTimes.filter { now - $0 < 10_000_000_000 } + [now]
        let delay = Self.recoveryDelay(recentCrashes: recentCrashTimes.count)
        recoveryDueAt = now + delay
        if delay == 0 { recover() }
    }

    /// Back-off for crash loops: immediate for isolated crashes, then 100 ms doubling up to 5 s when
    /// crashes keep coming within ten seconds.
    static func recoveryDelay(recentCrashes: Int) -> UInt64 {
        guard recentCrashes > 2 else { return 0 }
        let steps = min(recentCrashes - 3, 6)
        return min(100_000_000 << UInt64(steps), 5_000_000_000)
    }

    /// Recovers a crashed processor: stop, coredump, reload, start (rproc_trigger_recovery). Also the user's
    /// `recover` request, which Linux accepts in any state but acts on only when crashed.
    public func recover() {
        recoveryDueAt = nil
        guard state == .crashed, let session else { return }
        session.stop(orderly: false, timeout: context.stopTimeout)
        if coredumpMode != .disabled {
            do {
                let path = try session.writeCoredump(crashCount: crashCount, directory: context.coredumpDirectory)
                context.sink.emit(.coredump(rproc: name, path: path))
            } catch {
                context.sink.emit(.error(rproc: name, message: "coredump failed: \(error.message)"))
            }
        }
        releaseSession()
        do {
            try start(firmwarePath: try resolveFirmware())
        } catch {
            context.sink.emit(.error(rproc: name, message: "recovery failed: \(error.message)"))
        }
    }

    // MARK: Monitoring (called by the host's main loop)

    /// The process's pidfd while a firmware process exists, for the host's epoll set.
    var processFD: Int32? {
        guard let session, session.exitStatus == nil else { return nil }
        return session.process.pidfd
    }

    /// The firmware process ended: a crash if it was running, routine otherwise.
    func processExited() {
        guard let session, let status = session.reap() else { return }
        if state == .running {
            reportCrash(type: "exit", detail: status.description)
        }
    }

    /// Periodic checks: crash records, heartbeat watchdog, new trace text, due recoveries.
    func poll(now: UInt64) {
        if let due = recoveryDueAt, now >= due, state == .crashed { recover() }
        guard let session else { return }
        for line in session.readTraceLines() { context.sink.emit(.trace(rproc: name, text: line)) }
        guard state == .running else { return }
        if let crash = session.takeCrashReport() {
            reportCrash(type: crash.type, detail: crash.detail)
            return
        }
        if let violation = session.rpmsg.takeFailure() {
            // The host never trusts a remote: a broken virtio protocol is a fatal error of that remote.
            reportCrash(type: ControlBlock.CrashType.fatalError.name, detail: "rpmsg protocol violation: \(violation)")
            return
        }
        if profile.watchdogTimeoutMs > 0, session.heartbeatStalled(now: now, timeoutMs: profile.watchdogTimeoutMs) {
            reportCrash(type: "watchdog", detail: "no heartbeat for \(profile.watchdogTimeoutMs) ms")
        }
    }

    /// Injects a crash of the given kind as Linux's debugfs `crash` file does (for tests and the CLI).
    public func injectCrash(_ type: ControlBlock.CrashType) throws(RemoteprocError) {
        guard state == .running else {
            throw RemoteprocError(rproc: name, code: .invalidArgument, message: "cannot crash: processor is \(state)")
        }
        reportCrash(type: type.name, detail: "injected by the host")
    }

    /// Final stop when the host exits: whatever the state, the process is stopped and the segment released.
    func tearDown() {
        if session != nil {
            context.drainRpmsgEvents()
            stop(crashed: state == .crashed, orderly: state == .running)
            context.drainRpmsgEvents()
            releaseSession()
        }
        powerCount = 0
        if state != .offline { setState(.offline) }
    }
}

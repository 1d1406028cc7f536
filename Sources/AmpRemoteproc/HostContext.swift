import AmpRpmsg
import AmpSystem

/// What every remote processor of one running SoC shares: the instance name, where to report events,
/// where coredumps go, the host's timeouts, and the rpmsg driver registry every link attaches to.
final class HostContext {
    /// Instance name (segment names and, later, the control socket are derived from it).
    let instance: String
    /// The profile file, for resolving relative firmware paths.
    let profilePath: String
    /// Environment used to locate firmware (AMPSOC_FIRMWARE_PATH) and passed on to firmware processes.
    let environment: [String: String]
    let sink: HostEventSink
    let coredumpDirectory: String
    /// How long an orderly stop may take before SIGTERM, then SIGKILL.
    let stopTimeout: Duration
    /// Host rpmsg drivers and the sink of rpmsg events, shared by every link of every remote.
    let rpmsgRegistry: RpmsgDriverRegistry
    /// rpmsg events waiting for the main loop.
    let rpmsgEvents: RpmsgEventQueue
    /// How long blocking rpmsg sends wait for a buffer (Linux: 15 s).
    var rpmsgSendTimeout: Duration = .seconds(15)
    /// Makes the main loop run soon; safe from any thread.
    let wakeMainLoop: @Sendable () -> Void

    init(
        instance: String, profilePath: String, environment: [String: String], sink: HostEventSink,
        coredumpDirectory: String, stopTimeout: Duration, wakeMainLoop: @escaping @Sendable () -> Void = {}
    ) {
        self.instance = instance
        self.profilePath = profilePath
        self.environment = environment
        self.sink = sink
        self.coredumpDirectory = coredumpDirectory
        self.stopTimeout = stopTimeout
        self.wakeMainLoop = wakeMainLoop
        rpmsgEvents = RpmsgEventQueue(wake: wakeMainLoop)
        rpmsgRegistry = RpmsgDriverRegistry(events: rpmsgEvents)
    }

    /// Reports the queued rpmsg events as host events (on the main loop thread, as the sink requires).
    func drainRpmsgEvents() {
        for (rproc, event) in rpmsgEvents.drain() {
            if let hostEvent = HostEvent(rpmsg: event, rproc: rproc) { sink.emit(hostEvent) }
        }
    }
}

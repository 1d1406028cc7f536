import AmpSystem

/// What every remote processor of one running SoC shares: the instance name, where to report events,
/// where coredumps go and the host's timeouts.
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

    init(
        instance: String, profilePath: String, environment: [String: String], sink: HostEventSink,
        coredumpDirectory: String, stopTimeout: Duration
    ) {
        self.instance = instance
        self.profilePath = profilePath
        self.environment = environment
        self.sink = sink
        self.coredumpDirectory = coredumpDirectory
        self.stopTimeout = stopTimeout
    }
}

import AmpRemoteproc
import AmpRpmsg

/// How an ``EmulatedSoC`` is set up.
public struct SoCOptions: Sendable {
    /// Instance name (segment names, the control socket); default: the profile's SoC name.
    public var name: String?
    /// Where coredumps are written; default: `$TMPDIR/ampsoc-coredumps` (or /tmp/ampsoc-coredumps).
    public var coredumpDirectory: String?
    /// Environment for locating firmware (AMPSOC_FIRMWARE_PATH) and for firmware processes; default: this
    /// process's environment.
    public var environment: [String: String]?
    /// Boot the profile's auto-boot processors at launch (``EmulatedSoC/launch(profilePath:options:)``).
    public var bootAutomatically = true
    /// How long an orderly stop of a remote may take before SIGTERM, then SIGKILL.
    public var stopTimeout: Duration = .seconds(2)
    /// How long blocking rpmsg sends wait for a buffer (Linux: 15 s).
    public var rpmsgSendTimeout: Duration = .seconds(15)
    /// Directory for endpoint sockets (channels "rpmsg-raw"/"rpmsg_chrdev", endpoints made with
    /// ``EmulatedSoC/createEndpoint(rproc:name:source:destination:)``). Default: a private directory made
    /// under $TMPDIR (or /tmp) and removed at shutdown. A given directory is created (0700) if missing and left
    /// in place, emptied of the sockets this instance made.
    public var socketDirectory: String?
    /// Host rpmsg drivers of your own, registered before anything boots (docs/host-drivers.md). Names must
    /// differ from the built-in drivers' ("rpmsg_client_sample", "rpmsg_raw", "rpmsg_tty").
    public var drivers: [any RpmsgDriver] = []
    /// Also receives every event (on the host's main loop thread).
    public var onEvent: (@Sendable (HostEvent) -> Void)?

    public init(name: String? = nil) {
        self.name = name
    }
}

/// Names of the environment variables through which the host tells a remote-core process where its
/// shared memory and doorbells are (docs/shared-memory.md, "Starting a remote").
public enum RemoteEnvironmentKeys {
    /// The POSIX shared-memory segment name.
    public static let segment = "AMPSOC_SEGMENT"
    /// The remote processor's name.
    public static let rproc = "AMPSOC_RPROC"
    /// The host's pid (the expected parent).
    public static let hostPID = "AMPSOC_HOST_PID"
    /// The control block generation of this boot.
    public static let generation = "AMPSOC_GENERATION"
    /// `futex`, or `eventfd:<to-remote fd>,<to-host fd>`.
    public static let doorbell = "AMPSOC_DOORBELL"
}

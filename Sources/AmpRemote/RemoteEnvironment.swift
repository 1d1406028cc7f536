import AmpSystem
import Glibc

/// What the host tells a remote-core process through its environment (docs/shared-memory.md, "Starting a
/// remote"): where its shared memory is, who its host is, which boot this is, and how its doorbells sleep.
public struct RemoteEnvironment: Sendable, Equatable {
    /// How the two doorbells of the control block sleep and wake (`AMPSOC_DOORBELL`).
    public enum DoorbellSelection: Sendable, Equatable {
        /// FUTEX_WAIT/FUTEX_WAKE on the mailboxes' sequence words.
        case futex
        /// Inherited eventfds: the one this process waits on, and the one it signals to wake the host.
        case eventfd(toRemote: Int32, toHost: Int32)
    }

    /// `AMPSOC_SEGMENT`: the shm_open name, "/" and one path component.
    public var segmentName: String
    /// `AMPSOC_RPROC`: the remote processor's name.
    public var rprocName: String
    /// `AMPSOC_HOST_PID`: the host's process id, which must be this process's parent.
    public var hostPID: pid_t
    /// `AMPSOC_GENERATION`: the control block's `generation` for this boot.
    public var generation: UInt32
    /// `AMPSOC_DOORBELL`.
    public var doorbell: DoorbellSelection

    public init(segmentName: String, rprocName: String, hostPID: pid_t, generation: UInt32, doorbell: DoorbellSelection) {
        self.segmentName = segmentName
        self.rprocName = rprocName
        self.hostPID = hostPID
        self.generation = generation
        self.doorbell = doorbell
    }

    /// The `AMPSOC_*` variables of this process's environment (`getenv(3)`), absent ones left out.
    public static func processVariables() -> [String: String] {
        var variables: [String: String] = [:]
        let keys = [
            RemoteEnvironmentKeys.segment, RemoteEnvironmentKeys.rproc, RemoteEnvironmentKeys.hostPID,
            RemoteEnvironmentKeys.generation, RemoteEnvironmentKeys.doorbell,
        ]
        for key in keys {
            if let value = getenv(key) { variables[key] = String(cString: value) }
        }
        return variables
    }

    /// Parses the five variables out of `env`. Throws a ``RemoteAttachError`` of kind `.environment` whose
    /// subject is the variable at fault: missing, empty, not a number, out of range, or (for the doorbell)
    /// neither `futex` nor `eventfd:<to-remote fd>,<to-host fd>` with two different non-negative descriptors.
    /// Whether the descriptors are open eventfds is checked later, when attaching.
    public static func parse(_ env: [String: String]) throws(RemoteAttachError) -> RemoteEnvironment {
        let segment = try required(RemoteEnvironmentKeys.segment, in: env)
        guard segment.hasPrefix("/"), segment.count > 1, !segment.dropFirst().contains("/") else {
            throw invalid(RemoteEnvironmentKeys.segment, segment, "is not a shared-memory name (\"/\" and one path component)")
        }
        let rproc = try required(RemoteEnvironmentKeys.rproc, in: env)
        let pidText = try required(RemoteEnvironmentKeys.hostPID, in: env)
        guard let pid = pid_t(pidText), pid > 0 else {
            throw invalid(RemoteEnvironmentKeys.hostPID, pidText, "is not a process id (a positive decimal number)")
        }
        let generationText = try required(RemoteEnvironmentKeys.generation, in: env)
        guard let generation = UInt32(generationText) else {
            throw invalid(RemoteEnvironmentKeys.generation, generationText, "is not a generation number (decimal, 0...4294967295)")
        }
        let doorbell = try parseDoorbell(try required(RemoteEnvironmentKeys.doorbell, in: env))
        return RemoteEnvironment(segmentName: segment, rprocName: rproc, hostPID: pid, generation: generation, doorbell: doorbell)
    }

    /// `futex` or `eventfd:<to-remote fd>,<to-host fd>`.
    static func parseDoorbell(_ text: String) throws(RemoteAttachError) -> DoorbellSelection {
        let key = RemoteEnvironmentKeys.doorbell
        if text == "futex" { return .futex }
        let prefix = "eventfd:"
        guard text.hasPrefix(prefix) else {
            throw invalid(key, text, "must be \"futex\" or \"eventfd:<to-remote fd>,<to-host fd>\"")
        }
        let numbers = text.dropFirst(prefix.count).split(separator: ",", omittingEmptySubsequences: false)
        guard numbers.count == 2, let toRemote = Int32(numbers[0]), let toHost = Int32(numbers[1]),
              toRemote >= 0, toHost >= 0
        else {
            throw invalid(key, text, "must be \"eventfd:<to-remote fd>,<to-host fd>\" with two non-negative descriptor numbers")
        }
        guard toRemote != toHost else {
            throw invalid(key, text, "names descriptor \(toRemote) for both directions; each direction needs its own eventfd")
        }
        return .eventfd(toRemote: toRemote, toHost: toHost)
    }

    private static func required(_ key: String, in env: [String: String]) throws(RemoteAttachError) -> String {
        guard let value = env[key] else {
            throw RemoteAttachError(
                kind: .environment, subject: key,
                reason: "is not set (remote-core firmware is started by the ampsoc host, which sets the AMPSOC_* variables)")
        }
        guard !value.isEmpty else { throw RemoteAttachError(kind: .environment, subject: key, reason: "is empty") }
        return value
    }

    private static func invalid(_ key: String, _ value: String, _ reason: String) -> RemoteAttachError {
        RemoteAttachError(kind: .environment, subject: key, reason: "\"\(value)\" \(reason)")
    }
}

/// The states of a remote processor, numbered as Linux's `enum rproc_state`.
public enum RemoteprocState: Int, Sendable, CaseIterable, CustomStringConvertible {
    case offline = 0
    case suspended = 1
    case running = 2
    case crashed = 3
    case deleted = 4
    case attached = 5
    case detached = 6

    /// The name Linux's sysfs `state` file prints.
    public var description: String {
        switch self {
        case .offline: "offline"
        case .suspended: "suspended"
        case .running: "running"
        case .crashed: "crashed"
        case .deleted: "deleted"
        case .attached: "attached"
        case .detached: "detached"
        }
    }
}

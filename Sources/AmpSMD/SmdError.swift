// Errors of the SMEM heap and the SMD channels. Codes follow the errno values Linux's smem.c and
// qcom_smd.c return, so behaviour compares with the kernel; `protocolViolation` is ampsoc's own: the other
// processor wrote something into shared memory that no correct peer writes (the host treats it as a crash
// of that remote).

/// A failed SMEM/SMD operation, or a broken rule found in what the other side wrote.
public struct SmdError: Error, Equatable, Sendable, CustomStringConvertible {
    /// errno-like classification.
    public enum Code: String, Sendable, Equatable {
        /// EINVAL: a caller error (item number out of range, packet too large, unaligned word payload, ...).
        case invalidArgument
        /// EEXIST: the SMEM item is already allocated.
        case exists
        /// ENOMEM: the heap has not enough space left.
        case noSpace
        /// ENXIO: the SMEM item is not allocated.
        case notFound
        /// EPIPE: the channel is not open.
        case notOpen
        /// EBUSY: the channel is already being opened or open.
        case busy
        /// ETIMEDOUT: the remote did not answer a handshake stage within its deadline.
        case timedOut
        /// ETIMEDOUT on the heap spinlock: another processor held it for more than 1000 ms.
        case lockTimeout
        /// EPROTO: the other side wrote a value that breaks the protocol (index out of range, impossible
        /// length, unknown state, corrupted table of contents or allocation entry).
        case protocolViolation
    }

    /// What kind of failure.
    public var code: Code
    /// The channel concerned, when there is one.
    public var channel: String?
    /// The shared-memory field at fault (e.g. `rx.head`, `smem.toc[14].offset`), when there is one.
    public var field: String?
    /// What was wrong, with the values involved.
    public var message: String

    public init(_ code: Code, channel: String? = nil, field: String? = nil, _ message: String) {
        self.code = code
        self.channel = channel
        self.field = field
        self.message = message
    }

    public var description: String {
        var parts = [String]()
        if let channel { parts.append("channel '\(channel)'") }
        if let field { parts.append(field) }
        let prefix = parts.joined(separator: " ")
        return prefix.isEmpty ? message : "\(prefix): \(message)"
    }
}

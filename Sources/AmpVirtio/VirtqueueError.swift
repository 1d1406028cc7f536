/// A virtqueue operation failed, or the other side broke the ring protocol. Cases are errno-like so
/// behaviour compares with Linux's virtio core.
public struct VirtqueueError: Error, Equatable, Sendable, CustomStringConvertible {
    /// errno-like classification.
    public enum Code: String, Sendable, Equatable {
        /// No free descriptor (ENOSPC): the caller must wait for used buffers.
        case noSpace
        /// The other side wrote something that breaks the protocol (EPROTO): an index out of range, a
        /// length beyond a buffer, an address outside memory, a looping chain, an index jump.
        case protocolViolation
        /// A caller error (EINVAL): zero-length buffer, bad argument.
        case invalidArgument
    }

    public var code: Code
    /// Which queue (e.g. "vring0") and what was wrong, naming the field and value.
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}

/// An rpmsg operation failed. Codes follow the errno values Linux's rpmsg core returns, so behaviour can
/// be compared with the kernel's.
public struct RpmsgError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable, Equatable {
        /// EINVAL: bad address (ANY where a real one is needed), bad argument.
        case invalidArgument
        /// ENOMEM: no TX buffer right now (the try* variants).
        case noBuffer
        /// ETIMEDOUT: a blocking send found no TX buffer within its timeout.
        case timedOut
        /// EMSGSIZE: the payload exceeds the MTU.
        case messageTooLarge
        /// EBUSY: the address is already bound.
        case addressInUse
        /// EEXIST: a channel of that name and address already exists.
        case exists
        /// ENODEV: the device or endpoint is gone (remote stopped or crashed).
        case noDevice
        /// ENOTSUP / EOPNOTSUPP: the transport does not implement this optional operation.
        case notSupported
        /// EPIPE: the endpoint was lost while waiting.
        case brokenPipe
        /// ENOSPC: every dynamic endpoint address is bound.
        case noSpace
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}

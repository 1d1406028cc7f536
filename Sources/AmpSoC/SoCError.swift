import AmpRemoteproc
import AmpRpmsg
import AmpSystem
import Glibc

/// A failed request to an emulated SoC: the errno Linux would return for it, and a message naming the
/// processor, channel or endpoint at fault.
public struct SoCError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The errno-like classification (ENODEV, ENOENT, EINVAL, EBUSY, ETIMEDOUT, EMSGSIZE, ...).
    public var errno: Int32
    /// What failed and why.
    public var message: String

    public init(errno: Int32, _ message: String) {
        self.errno = errno
        self.message = message
    }

    public var description: String { message }

    /// The C constant's name of ``errno`` ("ENODEV"), or "errno N".
    public var errnoName: String { Errno.name(errno) }

    static func noEntry(_ message: String) -> SoCError { SoCError(errno: ENOENT, message) }
    static func invalid(_ message: String) -> SoCError { SoCError(errno: EINVAL, message) }
    static func timedOut(_ message: String) -> SoCError { SoCError(errno: ETIMEDOUT, message) }
    static func noDevice(_ message: String) -> SoCError { SoCError(errno: ENODEV, message) }

    init(_ error: RemoteprocError) {
        self.init(errno: error.code.rawValue, error.description)
    }

    init(_ error: RpmsgError, context: String) {
        let number: Int32 =
            switch error.code {
            case .invalidArgument: EINVAL
            case .noBuffer: ENOMEM
            case .timedOut: ETIMEDOUT
            case .messageTooLarge: EMSGSIZE
            case .addressInUse: EBUSY
            case .exists: EEXIST
            case .noDevice: ENODEV
            case .notSupported: EOPNOTSUPP
            case .brokenPipe: EPIPE
            case .noSpace: ENOSPC
            }
        self.init(errno: number, "\(context): \(error.message)")
    }

    init(_ error: SystemError) {
        self.init(errno: error.errno, error.description)
    }
}

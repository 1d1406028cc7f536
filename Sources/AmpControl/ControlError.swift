import AmpSoC
import AmpSystem
import Glibc

/// A failed control request or a failure to reach or set up an instance: an errno-style classification,
/// a message naming the thing at fault and, for a bad request argument, the field.
///
/// On the wire (docs/control-protocol.md) it is the `error` object of a reply:
/// `{"errno":"ENODEV","code":19,"message":"...","field":"rproc"}` (`field` only for argument errors).
public struct ControlError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The errno value (ENODEV, EINVAL, ...).
    public var code: Int32
    /// What failed and why.
    public var message: String
    /// The request member at fault, for malformed requests.
    public var field: String?

    public init(code: Int32, _ message: String, field: String? = nil) {
        self.code = code
        self.message = message
        self.field = field
    }

    /// The C constant's name of ``code`` ("ENODEV").
    public var errnoName: String { Errno.name(code) }

    public var description: String { message }

    /// A request from a failed SoC call.
    public init(_ error: SoCError) {
        self.init(code: error.errno, error.message)
    }

    /// A request from a failed system call, prefixed with what was being done.
    public init(_ error: SystemError, doing: String) {
        self.init(code: error.errno, "\(doing): \(error.description)")
    }

    /// A missing or ill-typed request member.
    static func badArgument(_ field: String, _ reason: String) -> ControlError {
        ControlError(code: EINVAL, "\(field): \(reason)", field: field)
    }

    /// The errno value of a name the protocol uses ("ENODEV" -> 19); nil for unknown names.
    static func code(named name: String) -> Int32? {
        knownCodes.first { Errno.name($0) == name }
    }

    private static let knownCodes: [Int32] = [
        EPERM, ENOENT, ESRCH, EINTR, EIO, ENOEXEC, EBADF, ECHILD, EAGAIN, ENOMEM, EACCES, EBUSY, EEXIST, ENODEV,
        ENOTDIR, EISDIR, EINVAL, EMFILE, EFBIG, ENOSPC, EPIPE, ERANGE, ENAMETOOLONG, ENOTSUP, EMSGSIZE,
        EADDRINUSE, ECONNREFUSED, ECONNRESET, ENOTCONN, ETIMEDOUT, EPROTO, EBADMSG,
    ]
}

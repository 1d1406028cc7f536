import Glibc

/// An errno value with names for the cases the system layer and its callers act on.
/// Any value is representable; the names are conveniences for matching (`error.code == .timedOut`).
public struct Errno: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: Int32

    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// EPERM: operation not permitted.
    public static let notPermitted = Errno(rawValue: EPERM)
    /// ENOENT: no such file or directory (also: missing executable, missing segment).
    public static let noSuchFile = Errno(rawValue: ENOENT)
    /// ESRCH: no such process.
    public static let noSuchProcess = Errno(rawValue: ESRCH)
    /// EINTR: interrupted by a signal; the system layer retries these itself.
    public static let interrupted = Errno(rawValue: EINTR)
    /// EIO: input/output error (also: a short read of a fixed-size record).
    public static let ioError = Errno(rawValue: EIO)
    /// EBADF: bad file descriptor.
    public static let badFileDescriptor = Errno(rawValue: EBADF)
    /// ECHILD: no child process to wait for.
    public static let noChildProcess = Errno(rawValue: ECHILD)
    /// EAGAIN: resource temporarily unavailable (would block).
    public static let wouldBlock = Errno(rawValue: EAGAIN)
    /// ENOMEM: out of memory.
    public static let noMemory = Errno(rawValue: ENOMEM)
    /// EACCES: permission denied.
    public static let permissionDenied = Errno(rawValue: EACCES)
    /// EEXIST: the file (or segment) already exists.
    public static let fileExists = Errno(rawValue: EEXIST)
    /// EISDIR: is a directory.
    public static let isDirectory = Errno(rawValue: EISDIR)
    /// EINVAL: invalid argument.
    public static let invalidArgument = Errno(rawValue: EINVAL)
    /// EMFILE: too many open files in this process.
    public static let tooManyOpenFiles = Errno(rawValue: EMFILE)
    /// EFBIG: file too large.
    public static let fileTooLarge = Errno(rawValue: EFBIG)
    /// ERANGE: an offset or length outside the valid range (used for shared-memory bounds checks).
    public static let outOfRange = Errno(rawValue: ERANGE)
    /// ENAMETOOLONG: name too long.
    public static let nameTooLong = Errno(rawValue: ENAMETOOLONG)
    /// ETIMEDOUT: timed out.
    public static let timedOut = Errno(rawValue: ETIMEDOUT)

    /// The C constant's name ("ENOENT") of an errno value, or "errno N" for values without a name here.
    public static func name(_ value: Int32) -> String {
        switch value {
        case EPERM: "EPERM"
        case ENOENT: "ENOENT"
        case ESRCH: "ESRCH"
        case EINTR: "EINTR"
        case EIO: "EIO"
        case ENOEXEC: "ENOEXEC"
        case EBADF: "EBADF"
        case ECHILD: "ECHILD"
        case EAGAIN: "EAGAIN"
        case ENOMEM: "ENOMEM"
        case EACCES: "EACCES"
        case EBUSY: "EBUSY"
        case EEXIST: "EEXIST"
        case ENODEV: "ENODEV"
        case ENOTDIR: "ENOTDIR"
        case EISDIR: "EISDIR"
        case EINVAL: "EINVAL"
        case EMFILE: "EMFILE"
        case EFBIG: "EFBIG"
        case ENOSPC: "ENOSPC"
        case EPIPE: "EPIPE"
        case ERANGE: "ERANGE"
        case ENAMETOOLONG: "ENAMETOOLONG"
        case ENOTSUP: "EOPNOTSUPP"
        case EMSGSIZE: "EMSGSIZE"
        case EADDRINUSE: "EADDRINUSE"
        case ECONNREFUSED: "ECONNREFUSED"
        case ECONNRESET: "ECONNRESET"
        case ENOTCONN: "ENOTCONN"
        case ETIMEDOUT: "ETIMEDOUT"
        case EPROTO: "EPROTO"
        case EBADMSG: "EBADMSG"
        default: "errno \(value)"
        }
    }

    /// The C constant's name of this value ("ENOENT"), or "errno N".
    public var name: String { Self.name(rawValue) }

    /// The C library's message for this value (`strerror`).
    public var description: String { String(cString: strerror(rawValue)) }
}

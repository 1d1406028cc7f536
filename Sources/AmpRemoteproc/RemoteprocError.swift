import AmpSystem
import AmpWire
import Glibc

/// Any failure of the host's remoteproc core: loading firmware, handling its resource table, building the
/// shared-memory image, reading it back, writing a coredump, or a lifecycle request that is not allowed.
///
/// A struct rather than an enum so every layer can add its own errors without touching this file: build one
/// with ``init(rproc:code:message:)`` or a factory (``firmware(rproc:path:_:)``, ``resource(rproc:entry:reason:code:)``,
/// ``memory(rproc:reason:code:)``, ``init(rproc:system:context:)``). `message` names the thing at fault (a file, a
/// table entry such as `carveout 'text' (entry 2 @ 0x30)`, a segment, a field and its offset) and why;
/// ``description`` prefixes the remote's name, so every printed error names the remote and the culprit.
/// ``code`` is the errno Linux's remoteproc core would return for the same failure.
public struct RemoteprocError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The remote processor concerned (its profile name).
    public var rproc: String
    /// The errno-like classification.
    public var code: Code
    /// What failed and why, without the remote's name (``description`` adds it).
    public var message: String
    /// The lower-level error this one wraps, if any, for callers that match on it.
    public var underlying: Underlying?

    /// The error a lower layer reported.
    public enum Underlying: Equatable, Sendable {
        /// A structure in the firmware or the segment did not parse or validate.
        case wire(WireError)
        /// A system call failed.
        case system(SystemError)
    }

    public init(rproc: String, code: Code, message: String, underlying: Underlying? = nil) {
        self.rproc = rproc
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    /// Wraps a failed system call; the code is its errno. `context` (e.g. "firmware") starts the message.
    public init(rproc: String, system error: SystemError, context: String? = nil) {
        let text = context.map { "\($0) \(error.description)" } ?? error.description
        self.init(rproc: rproc, code: Code(rawValue: error.errno), message: text, underlying: .system(error))
    }

    /// "<rproc>: <message>".
    public var description: String { "\(rproc): \(message)" }

    // MARK: Factories

    /// The firmware file at `path` is malformed: `error` names the field and its file offset. EINVAL.
    public static func firmware(rproc: String, path: String, _ error: WireError) -> RemoteprocError {
        RemoteprocError(rproc: rproc, code: .invalidArgument, message: "firmware \(path): \(error)", underlying: .wire(error))
    }

    /// The firmware file at `path` is refused for a reason of its own (`reason` completes "firmware <path> ...").
    public static func firmware(rproc: String, path: String, reason: String, code: Code = .invalidArgument) -> RemoteprocError {
        RemoteprocError(rproc: rproc, code: code, message: "firmware \(path) \(reason)")
    }

    /// A resource-table entry cannot be honoured. `entry` labels it, e.g. `carveout 'text' (entry 2 @ 0x30)`.
    public static func resource(rproc: String, entry: String, reason: String, code: Code = .invalidArgument) -> RemoteprocError {
        RemoteprocError(rproc: rproc, code: code, message: "\(entry): \(reason)")
    }

    /// The memory map (the profile's regions, or an allocation in them) is at fault.
    public static func memory(rproc: String, reason: String, code: Code = .invalidArgument) -> RemoteprocError {
        RemoteprocError(rproc: rproc, code: code, message: reason)
    }

    /// The shared-memory segment (its size, or a value read back from it) is at fault.
    public static func segment(rproc: String, name: String, reason: String, code: Code = .invalidArgument) -> RemoteprocError {
        RemoteprocError(rproc: rproc, code: code, message: "segment \(name): \(reason)")
    }
}

extension RemoteprocError {
    /// An errno value with names for the cases remoteproc reports, as Linux's remoteproc core returns them.
    /// Any value is representable (``init(rawValue:)``), so system errors keep their own errno.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }

        /// ENOENT: no such firmware file, no loaded table, no such entry.
        public static let noEntry = Code(rawValue: ENOENT)
        /// EIO: input/output error.
        public static let ioError = Code(rawValue: EIO)
        /// ENOEXEC: not an executable image.
        public static let execFormat = Code(rawValue: ENOEXEC)
        /// ENOMEM: no room in the memory map for an allocation.
        public static let noMemory = Code(rawValue: ENOMEM)
        /// EACCES: permission denied (e.g. firmware not executable).
        public static let permissionDenied = Code(rawValue: EACCES)
        /// EBUSY: the processor is busy (e.g. firmware change while running).
        public static let busy = Code(rawValue: EBUSY)
        /// EEXIST: already exists.
        public static let exists = Code(rawValue: EEXIST)
        /// ENODEV: no such processor, or it was deleted.
        public static let noDevice = Code(rawValue: ENODEV)
        /// EINVAL: invalid argument, malformed firmware or table, request not allowed in this state.
        public static let invalidArgument = Code(rawValue: EINVAL)
        /// EFBIG: too large (e.g. a coredump that does not fit an ELF32 file).
        public static let fileTooLarge = Code(rawValue: EFBIG)
        /// ENOSPC: a fixed-size table (control-block records) is full.
        public static let noSpace = Code(rawValue: ENOSPC)
        /// ERANGE: an offset or length outside the segment.
        public static let outOfRange = Code(rawValue: ERANGE)
        /// ETIMEDOUT: timed out.
        public static let timedOut = Code(rawValue: ETIMEDOUT)
        /// EOPNOTSUPP: operation not supported.
        public static let notSupported = Code(rawValue: EOPNOTSUPP)

        /// The errno of an AmpSystem ``Errno``.
        public init(_ errno: Errno) { self.init(rawValue: errno.rawValue) }

        /// The C constant's name ("ENOENT"), or "errno <n>".
        public var name: String { Errno.name(rawValue) }

        /// "ENOENT (No such file or directory)".
        public var description: String { "\(name) (\(String(cString: strerror(rawValue))))" }
    }
}

/// "0x" and lowercase hexadecimal digits, for addresses and lengths in messages.
func rprocHex<T: BinaryInteger>(_ value: T) -> String { "0x" + String(value, radix: 16) }

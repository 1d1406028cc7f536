import AmpSystem
import AmpWire
import Glibc

/// Why a remote-core process could not attach to its host, and the exit status it ends with.
///
/// Attaching never traps: every problem with the environment, the shared-memory segment or the data the host
/// published becomes one of these, printed as one line on stderr (``description``) before the process exits
/// with ``exitCode`` (see ``RemoteExitCode``).
public struct RemoteAttachError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What went wrong, which also selects the exit status.
    public enum Kind: Sendable, Equatable {
        /// An `AMPSOC_*` environment variable is missing or malformed.
        case environment
        /// A system call failed (shm_open, mmap, prctl, eventfd adoption, ...).
        case system
        /// The control block, region table or loaded resource table is invalid or belongs to another boot.
        case sharedMemory
    }

    public var kind: Kind
    /// What is at fault: an environment variable name, a control-block field, a system call's subject.
    public var subject: String
    /// Why, in a few words.
    public var reason: String

    public init(kind: Kind, subject: String, reason: String) {
        self.kind = kind
        self.subject = subject
        self.reason = reason
    }

    /// A failed system call: the subject it was made on, then the call and the errno text.
    init(_ error: SystemError) {
        let text = String(cString: strerror(error.errno))
        if error.subject.isEmpty {
            self.init(kind: .system, subject: error.call, reason: text)
        } else {
            self.init(kind: .system, subject: error.subject, reason: "\(error.call): \(text)")
        }
    }

    /// A malformed wire structure in shared memory, `structure` naming which one (offsets are from its start).
    init(_ error: WireError, in structure: String) {
        self.init(
            kind: .sharedMemory, subject: "\(structure) \(error.field)",
            reason: "at offset \(error.offset) (0x\(String(error.offset, radix: 16))): \(error.reason)")
    }

    /// The process exit status for this error.
    public var exitCode: Int32 {
        switch kind {
        case .environment: RemoteExitCode.environmentInvalid
        case .system: RemoteExitCode.systemCallFailed
        case .sharedMemory: RemoteExitCode.sharedMemoryInvalid
        }
    }

    public var description: String { "\(subject): \(reason)" }
}

/// Exit statuses of a remote-core process (values from sysexits.h). The host maps anything but 0 after a
/// stop request to "crashed" anyway; the distinct values make logs and tests precise.
public enum RemoteExitCode {
    /// Orderly stop after the host's stop request.
    public static let stopped: Int32 = 0
    /// The environment the host passed is missing or malformed (EX_CONFIG).
    public static let environmentInvalid: Int32 = 78
    /// A system call failed while attaching (EX_OSERR).
    public static let systemCallFailed: Int32 = 71
    /// The control block, region table or loaded resource table failed validation, or its generation does not
    /// match this boot (EX_PROTOCOL).
    public static let sharedMemoryInvalid: Int32 = 76
    /// Bad command-line options of a sample firmware.
    public static let usage: Int32 = 2
}

import Glibc

/// A failed system call: which call, on what, and the errno it returned.
///
/// Match on ``code`` for named cases: `catch let error where error.code == .fileExists`.
public struct SystemError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The C call that failed, e.g. "open".
    public var call: String
    /// What the call was made on (a path, a segment name, a pid), for the message.
    public var subject: String
    /// The errno value.
    public var errno: Int32

    public init(call: String, subject: String, errno: Int32) {
        self.call = call
        self.subject = subject
        self.errno = errno
    }

    /// Creates an error from a named errno value.
    public init(call: String, subject: String, code: Errno) {
        self.init(call: call, subject: subject, errno: code.rawValue)
    }

    /// The errno value as a named ``Errno``.
    public var code: Errno { Errno(rawValue: errno) }

    public var description: String {
        let text = String(cString: strerror(errno))
        return subject.isEmpty ? "\(call): \(text)" : "\(subject): \(call): \(text)"
    }
}

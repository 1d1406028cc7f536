import Glibc

/// A failed system call: which call, on what, and the errno it returned.
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

    public var description: String {
        let text = String(cString: strerror(errno))
        return subject.isEmpty ? "\(call): \(text)" : "\(subject): \(call): \(text)"
    }
}

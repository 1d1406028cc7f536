import AmpSystem
import Glibc

/// Where a command writes: standard output for results, standard error for diagnostics. Tests substitute
/// a capturing console to run commands in-process.
public struct Console: Sendable {
    public var writeOut: @Sendable (String) -> Void
    public var writeErr: @Sendable (String) -> Void

    public init(writeOut: @escaping @Sendable (String) -> Void, writeErr: @escaping @Sendable (String) -> Void) {
        self.writeOut = writeOut
        self.writeErr = writeErr
    }

    /// Writes a line to standard output.
    public func out(_ line: String) { writeOut(line + "\n") }
    /// Writes a line to standard error.
    public func err(_ line: String) { writeErr(line + "\n") }

    /// The process's own standard output and standard error, written unbuffered with write(2).
    public static let standard = Console(
        writeOut: { writeAll(STDOUT_FILENO, $0) },
        writeErr: { writeAll(STDERR_FILENO, $0) })

    private static func writeAll(_ fd: Int32, _ text: String) {
        // A closed stdout (EPIPE) or similar leaves nothing useful to do with the text.
        try? FileIO.writeAll(fd, text.utf8, subject: fd == STDOUT_FILENO ? "stdout" : "stderr")
    }
}

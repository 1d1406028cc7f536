/// A close-on-exec pipe (`pipe2(2)` with O_CLOEXEC), e.g. for a child's readiness line: pass the write end
/// through ``ChildProcess/spawn(executable:arguments:environment:inheritFDs:)`` and read the other.
/// (Named `PipePair` so it does not clash with Foundation's `Pipe`.)
public enum PipePair {
    /// Creates a pipe and returns its two descriptors; the caller owns (and closes) both.
    public static func create() throws(SystemError) -> (read: Int32, write: Int32) {
        var fds: (Int32, Int32) = (-1, -1)
        _ = try Sys.checked("pipe2", "", Sys.pipe(&fds))
        return (fds.0, fds.1)
    }
}

import Glibc

/// Whole-file reads through one syscall path: `open(2)`, `fstat(2)`, `read(2)` retried on EINTR.
public enum FileIO {
    /// Reads the whole regular file at `path`. Refuses directories and files over `limit` bytes.
    public static func readFile(_ path: String, limit: Int = 1 << 30) throws(SystemError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError(call: "open", subject: path, errno: Glibc.errno) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw SystemError(call: "fstat", subject: path, errno: Glibc.errno) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw SystemError(call: "read", subject: path, errno: EISDIR) }
        guard Int(info.st_size) <= limit else { throw SystemError(call: "read", subject: path, errno: EFBIG) }
        var result = [UInt8]()
        result.reserveCapacity(Int(info.st_size))
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let got = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if got < 0 {
                if Glibc.errno == EINTR { continue }
                throw SystemError(call: "read", subject: path, errno: Glibc.errno)
            }
            if got == 0 { break }
            result.append(contentsOf: chunk[0..<got])
            guard result.count <= limit else { throw SystemError(call: "read", subject: path, errno: EFBIG) }
        }
        return result
    }
}

import Glibc

/// Whole-file reads through one syscall path: `open(2)`, `fstat(2)`, `read(2)` retried on EINTR.
public enum FileIO {
    /// Reads the whole regular file at `path`. Refuses directories and files over `limit` bytes.
    /// Files that report size 0 but have content (/proc) are read to end of file.
    public static func readFile(_ path: String, limit: Int = 1 << 30) throws(SystemError) -> [UInt8] {
        let fd = try Sys.retrying("open", path, Sys.open(path, O_RDONLY | O_CLOEXEC))
        defer { _ = Sys.close(fd) }
        var info = stat()
        _ = try Sys.checked("fstat", path, Sys.fstat(fd, &info))
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw SystemError(call: "read", subject: path, code: .isDirectory) }
        guard Int(info.st_size) <= limit else { throw SystemError(call: "read", subject: path, code: .fileTooLarge) }
        var result = [UInt8]()
        result.reserveCapacity(Int(info.st_size))
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let got = try Sys.retrying("read", path) {
                chunk.withUnsafeMutableBytes { Sys.read(fd, $0.baseAddress, $0.count) }
            }
            if got == 0 { break }
            result.append(contentsOf: chunk[0..<got])
            guard result.count <= limit else { throw SystemError(call: "read", subject: path, code: .fileTooLarge) }
        }
        return result
    }
}

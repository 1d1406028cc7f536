import Glibc

/// File operations through the one syscall path (``Sys``): whole-file reads, complete writes, atomic file
/// replacement, directory creation and permission checks. EINTR is retried everywhere.
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

    /// Writes all of `bytes` to `fd` (`write(2)` until done, EINTR retried).
    public static func writeAll<C: Collection<UInt8>>(_ fd: Int32, _ bytes: C, subject: String) throws(SystemError) {
        let buffer = Array(bytes)
        var written = 0
        while written < buffer.count {
            let count = try Sys.retrying("write", subject) {
                buffer[written...].withUnsafeBytes { Sys.write(fd, $0.baseAddress, $0.count) }
            }
            guard count > 0 else { throw SystemError(call: "write", subject: subject, errno: EIO) }
            written += count
        }
    }

    /// Replaces the file at `path` with `bytes` so that readers see the old file or the new one, never a part:
    /// writes a temporary file beside it (`mode`), `fsync(2)`s it, and `rename(2)`s it into place.
    public static func writeFileAtomically(_ bytes: [UInt8], to path: String, mode: mode_t = 0o600) throws(SystemError) {
        let temporary = path + ".tmp-\(getpid())"
        let fd = try Sys.retrying("open", temporary, Sys.open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode))
        do {
            try writeAll(fd, bytes, subject: temporary)
            _ = try Sys.retrying("fsync", temporary, Sys.fsync(fd))
            _ = try Sys.checked("close", temporary, Sys.close(fd))
            _ = try Sys.checked("rename", path, Sys.rename(temporary, path))
        } catch {
            _ = Sys.close(fd)
            _ = Sys.unlink(temporary)
            throw error
        }
    }

    /// Creates `directory` and any missing parents (`mkdir(2)`, `mode`); existing directories are fine.
    public static func makeDirectories(_ directory: String, mode: mode_t = 0o700) throws(SystemError) {
        var path = directory.hasPrefix("/") ? "" : "."
        for component in directory.split(separator: "/") {
            path += "/" + component
            let result = Sys.mkdir(path, mode)
            if result < 0, result != -EEXIST { throw SystemError(call: "mkdir", subject: path, errno: -result) }
        }
    }

    /// Names in `directory` except "." and ".." (readdir(3)), unsorted.
    public static func listDirectory(_ directory: String) throws(SystemError) -> [String] {
        try Sys.listDirectory(directory)
    }

    /// Creates a fresh directory `<parent>/<prefix>XXXXXX` (0700, `mkdtemp(3)`) and returns its path.
    public static func makeTemporaryDirectory(in parent: String, prefix: String) throws(SystemError) -> String {
        try Sys.mkdtemp(parent + "/" + prefix + "XXXXXX").get()
    }

    /// Removes `directory` with the files directly inside it (sockets, regular files; not subdirectories'
    /// contents). A directory that does not exist is fine.
    public static func removeDirectory(_ directory: String) throws(SystemError) {
        let entries: [String]
        do {
            entries = try Sys.listDirectory(directory)
        } catch where error.errno == ENOENT {
            return
        }
        for entry in entries {
            let path = directory + "/" + entry
            let result = Sys.unlink(path)
            if result < 0, result != -ENOENT { throw SystemError(call: "unlink", subject: path, errno: -result) }
        }
        let result = Sys.rmdir(directory)
        if result < 0, result != -ENOENT { throw SystemError(call: "rmdir", subject: directory, errno: -result) }
    }

    /// Nil if this process may execute the file at `path` (`access(2)` with X_OK), else the reason.
    public static func executableCheck(_ path: String) -> SystemError? {
        let result = Sys.access(path, X_OK)
        return result < 0 ? SystemError(call: "access", subject: path, errno: -result) : nil
    }

    /// Whether `path` names a regular file, following symbolic links (`stat(2)`).
    public static func isRegularFile(_ path: String) -> Bool {
        var info = stat()
        return Sys.statPath(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }

    /// The target of the symbolic link at `path` (`readlink(2)`), or nil.
    public static func readLink(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = Sys.readlink(path, &buffer)
        guard count > 0, count < buffer.count else { return nil }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The current working directory (`getcwd(3)`), or nil.
    public static func currentDirectory() -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard Sys.getcwd(&buffer) == 0 else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

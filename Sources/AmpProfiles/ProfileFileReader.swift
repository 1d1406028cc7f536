// Reads a profile file into memory with plain POSIX calls (open, fstat, read, close), so AmpProfiles needs
// nothing beyond AmpJSON and the C library. Profiles are small: anything above `sizeLimit` is refused.

import Glibc

enum ProfileFileReader {
    /// Largest profile accepted, in bytes.
    static let sizeLimit = 4 << 20

    /// The bytes of the regular file at `path`.
    static func read(_ path: String) throws(ProfileError) -> [UInt8] {
        func failure(_ what: String, _ code: Int32) -> ProfileError {
            .unreadable(file: path, reason: "\(what): \(String(cString: strerror(code)))")
        }
        var fd: Int32
        repeat { fd = open(path, O_RDONLY | O_CLOEXEC) } while fd < 0 && errno == EINTR
        guard fd >= 0 else { throw failure("cannot open", errno) }
        defer { close(fd) }

        var info = stat()
        guard fstat(fd, &info) == 0 else { throw failure("cannot stat", errno) }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw .unreadable(file: path, reason: "not a regular file")
        }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw failure("cannot read", errno)
            }
            if count == 0 { return bytes }
            bytes.append(contentsOf: chunk[0..<count])
            guard bytes.count <= sizeLimit else {
                throw .unreadable(file: path, reason: "larger than \(sizeLimit) bytes; not a profile")
            }
        }
    }
}

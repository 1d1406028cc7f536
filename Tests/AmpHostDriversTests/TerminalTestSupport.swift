import AmpSystem
import Glibc

/// A terminal program's end of a pseudo-terminal: the slave device opened read-write, non-blocking.
final class TerminalUser {
    let path: String
    let fd: Int32

    init(path: String) throws {
        self.path = path
        fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)
        if fd < 0 { throw SystemError(call: "open", subject: path, errno: errno) }
    }

    deinit { close(fd) }

    /// Types `bytes` (one write).
    func type(_ bytes: [UInt8]) throws {
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        if written != bytes.count { throw SystemError(call: "write", subject: path, errno: errno) }
    }

    /// Reads until `count` bytes came or `timeout` passed; returns what came.
    func read(count: Int, timeout: Duration = .seconds(5)) -> [UInt8] {
        var collected: [UInt8] = []
        let deadline = MonotonicClock.deadline(after: timeout)
        while collected.count < count, MonotonicClock.nanoseconds() < deadline {
            var buffer = [UInt8](repeating: 0, count: count - collected.count)
            let got = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if got > 0 {
                collected += buffer.prefix(got)
            } else {
                usleep(1000)
            }
        }
        return collected
    }
}

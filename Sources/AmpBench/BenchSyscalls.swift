import AmpSystem
import Glibc

/// The one place where AmpBench makes system calls that AmpSystem does not offer: the SOCK_SEQPACKET socket
/// pair and its send/recv, reads and writes on the readiness pipe, polling one descriptor, sleeping, and the
/// two lookups (`readlink(2)`, `sysconf(3)`) the harness needs. Every call that can fail throws a
/// ``SystemError`` naming the call and what it was made on; EINTR is retried. Descriptors are opened
/// close-on-exec.
enum BenchSys {
    /// Turns a C return value (-1 and `errno` on failure) into the value or a ``SystemError``, retrying EINTR.
    private static func retrying<T: SignedInteger & FixedWidthInteger>(
        _ call: String, _ subject: @autoclosure () -> String, _ body: () -> T
    ) throws(SystemError) -> T {
        while true {
            let value = body()
            if value >= 0 { return value }
            let code = errno
            if code == EINTR { continue }
            throw SystemError(call: call, subject: subject(), errno: code)
        }
    }

    // MARK: Sockets

    /// `socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)`: two connected, message-preserving descriptors.
    static func seqpacketPair() throws(SystemError) -> (Int32, Int32) {
        var fds: [Int32] = [-1, -1]
        let type = Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        _ = try retrying("socketpair(AF_UNIX, SOCK_SEQPACKET)", "") {
            fds.withUnsafeMutableBufferPointer { Glibc.socketpair(AF_UNIX, type, 0, $0.baseAddress) }
        }
        return (fds[0], fds[1])
    }

    /// `send(2)` of one whole message with MSG_NOSIGNAL (a closed peer is EPIPE, never SIGPIPE).
    /// Returns the number of bytes sent, which for SOCK_SEQPACKET is all of them.
    static func send(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) throws(SystemError) -> Int {
        try retrying("send", "socket \(fd)") { Glibc.send(fd, buffer, count, Int32(MSG_NOSIGNAL)) }
    }

    /// `recv(2)` of one message into `buffer`. Returns its length (0: the other end closed).
    static func receive(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ capacity: Int) throws(SystemError) -> Int {
        try retrying("recv", "socket \(fd)") { Glibc.recv(fd, buffer, capacity, 0) }
    }

    // MARK: Descriptors

    /// `read(2)` of up to `count` bytes. Returns the number read (0: end of file).
    static func read(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) throws(SystemError) -> Int {
        try retrying("read", "fd \(fd)") { Glibc.read(fd, buffer, count) }
    }

    /// `write(2)` of `count` bytes (a short write is retried with the rest).
    static func writeAll(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) throws(SystemError) {
        var done = 0
        while done < count {
            done += try retrying("write", "fd \(fd)") { Glibc.write(fd, buffer + done, count - done) }
        }
    }

    /// `close(2)`; errors are ignored (Linux releases the descriptor even when close reports one).
    static func close(_ fd: Int32) {
        _ = Glibc.close(fd)
    }

    /// `fcntl(fd, F_SETFD, FD_CLOEXEC)`: marks an inherited descriptor close-on-exec again.
    static func setCloseOnExec(_ fd: Int32) throws(SystemError) {
        _ = try retrying("fcntl(F_SETFD)", "fd \(fd)") { Glibc.fcntl(fd, F_SETFD, FD_CLOEXEC) }
    }

    /// `poll(2)` until `fd` is readable (or hung up) or `timeoutMilliseconds` pass. Returns whether it is.
    static func waitReadable(_ fd: Int32, timeoutMilliseconds: Int32) throws(SystemError) -> Bool {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ready = try retrying("poll", "fd \(fd)") { Glibc.poll(&entry, 1, timeoutMilliseconds) }
        return ready > 0
    }

    // MARK: Time and lookups

    /// `nanosleep(2)` for `nanoseconds`, resuming with the time left after a signal.
    static func sleep(nanoseconds: UInt64) {
        var request = timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
        var remaining = timespec()
        while Glibc.nanosleep(&request, &remaining) != 0 && errno == EINTR {
            request = remaining
        }
    }

    /// `readlink(2)`: the target of the symbolic link at `path`.
    static func readLink(_ path: String) throws(SystemError) -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = try retrying("readlink", path) { Glibc.readlink(path, &buffer, buffer.count - 1) }
        return String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `access(path, X_OK) == 0`: whether `path` names an executable file.
    static func isExecutable(_ path: String) -> Bool {
        Glibc.access(path, X_OK) == 0
    }

    /// `getenv(3)`.
    static func environmentValue(_ name: String) -> String? {
        Glibc.getenv(name).map { String(cString: $0) }
    }

    /// `sysconf(_SC_CLK_TCK)`: the unit of the CPU times in /proc/<pid>/stat (USER_HZ, 100 on Linux).
    static func clockTicksPerSecond() throws(SystemError) -> UInt64 {
        let value = try retrying("sysconf(_SC_CLK_TCK)", "") { Glibc.sysconf(Int32(_SC_CLK_TCK)) }
        guard value > 0 else { throw SystemError(call: "sysconf(_SC_CLK_TCK)", subject: "", code: .invalidArgument) }
        return UInt64(value)
    }
}

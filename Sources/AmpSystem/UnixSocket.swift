import Glibc
import Synchronization

/// A UNIX-domain socket (`AF_UNIX`): a listener bound to a path, a connection accepted from one, or a client
/// connected to one. Descriptors are close-on-exec; listeners and accepted connections are non-blocking.
/// The descriptor is closed by ``close()`` (idempotent) or on deinit.
///
/// ```swift
/// let listener = try UnixSocket.listen(at: "/run/user/1000/ampsoc/ipu.sock", kind: .seqpacket)
/// if let client = try listener.accept() { ... }
/// ```
public final class UnixSocket: Sendable {
    /// The socket type.
    public enum Kind: Sendable, Hashable {
        /// SOCK_STREAM: a byte stream.
        case stream
        /// SOCK_SEQPACKET: connected, reliable, message boundaries kept (one message per read and write).
        case seqpacket
        /// SOCK_DGRAM: datagrams.
        case datagram

        var socketType: Int32 {
            switch self {
            case .stream: Int32(SOCK_STREAM.rawValue)
            case .seqpacket: Int32(SOCK_SEQPACKET.rawValue)
            case .datagram: Int32(SOCK_DGRAM.rawValue)
            }
        }
    }

    /// What ``receive(maxLength:wait:)`` got.
    public enum Received: Sendable, Equatable {
        /// One message (or, for a stream, some bytes): `bytes` holds at most `maxLength` of them, `length` is
        /// the message's whole length (larger than `bytes.count` when it was truncated; messages only).
        case message(bytes: [UInt8], length: Int)
        /// Nothing to read now (non-blocking).
        case wouldBlock
        /// The peer closed the connection (end of file).
        case closed
    }

    /// Longest path a UNIX socket address holds: `sun_path` is 108 bytes including the terminating NUL.
    public static let maximumPathLength = 107

    /// The socket's path (bound or connected to), for messages.
    public let path: String
    /// The socket type.
    public let kind: Kind
    private let descriptor: Atomic<Int32>
    /// Device and inode of the socket file this listener created (to remove only its own file).
    private let boundFile: (device: UInt64, inode: UInt64)?

    private init(descriptor: Int32, path: String, kind: Kind, boundFile: (device: UInt64, inode: UInt64)? = nil) {
        self.descriptor = Atomic(descriptor)
        self.path = path
        self.kind = kind
        self.boundFile = boundFile
    }

    deinit { close() }

    /// The descriptor, or -1 once closed.
    public var fileDescriptor: Int32 { descriptor.load(ordering: .acquiring) }

    // MARK: Creating

    /// Creates a non-blocking listening socket at `path` whose file has mode `permissions` (0600 by default):
    /// `socket(2)`, `fchmod(2)` of the socket before `bind(2)` (Linux gives the new file the socket's mode,
    /// minus the umask), `listen(2)`.
    ///
    /// An existing file at `path` is replaced only when it is a socket nobody listens on (a connect is refused:
    /// a stale socket left by a process that died); otherwise this throws EADDRINUSE (something listens there)
    /// or EEXIST (not a socket), naming the path.
    /// - Throws: ENAMETOOLONG when `path` is longer than ``maximumPathLength`` bytes.
    public static func listen(
        at path: String, kind: Kind, permissions: mode_t = 0o600, backlog: Int32 = 16
    ) throws(SystemError) -> UnixSocket {
        try checkLength(path, call: "bind")
        try removeStaleSocket(at: path, kind: kind)
        let fd = try Sys.retrying(
            "socket", path, Sys.socket(AF_UNIX, kind.socketType | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0))
        var bound = false
        do throws(SystemError) {
            _ = try Sys.retrying("fchmod", path, Sys.fchmod(fd, permissions))
            let result = Sys.bindUnix(fd, path)
            if result == -EADDRINUSE {
                throw SystemError(call: "bind (another process created the socket meanwhile)", subject: path, errno: EADDRINUSE)
            }
            _ = try Sys.checked("bind", path, result)
            bound = true
            var info = stat()
            _ = try Sys.checked("lstat", path, Sys.lstatPath(path, &info))
            _ = try Sys.checked("listen", path, Sys.listen(fd, backlog))
            return UnixSocket(descriptor: fd, path: path, kind: kind, boundFile: (UInt64(info.st_dev), UInt64(info.st_ino)))
        } catch {
            _ = Sys.close(fd)
            if bound { _ = Sys.unlink(path) }
            throw error
        }
    }

    /// Connects to the socket at `path` (`socket(2)` + `connect(2)`); blocking unless `nonBlocking`.
    /// - Throws: ECONNREFUSED when nobody listens there, ENOENT when there is no such file, ENAMETOOLONG.
    public static func connect(to path: String, kind: Kind, nonBlocking: Bool = false) throws(SystemError) -> UnixSocket {
        try checkLength(path, call: "connect")
        var type = kind.socketType | Int32(SOCK_CLOEXEC.rawValue)
        if nonBlocking { type |= Int32(SOCK_NONBLOCK.rawValue) }
        let fd = try Sys.retrying("socket", path, Sys.socket(AF_UNIX, type, 0))
        let socket = UnixSocket(descriptor: fd, path: path, kind: kind)
        _ = try Sys.checked("connect", path, Sys.connectUnix(fd, path))
        return socket
    }

    /// Accepts one pending connection (`accept4(2)`, non-blocking and close-on-exec); nil when none is pending.
    public func accept() throws(SystemError) -> UnixSocket? {
        let fd = fileDescriptor
        let result = Sys.accept4(fd, Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue))
        if result == -EAGAIN || result == -EINTR || result == -ECONNABORTED { return nil }
        let accepted = try Sys.checked("accept4", path, result)
        return UnixSocket(descriptor: accepted, path: path, kind: kind)
    }

    // MARK: Transferring

    /// Sends `bytes` as one message (`send(2)` with MSG_NOSIGNAL, so a closed peer gives EPIPE, never SIGPIPE).
    /// Without `wait` (or on a non-blocking socket) returns false instead of blocking when the socket's buffer
    /// is full. EINTR is retried.
    /// - Throws: EPIPE or ECONNRESET (the peer is gone), EMSGSIZE (longer than this socket's SO_SNDBUF - 32
    ///   on Linux), naming the path.
    @discardableResult
    public func send(_ bytes: [UInt8], wait: Bool = true) throws(SystemError) -> Bool {
        let fd = fileDescriptor
        let flags = Int32(MSG_NOSIGNAL) | (wait ? 0 : Int32(MSG_DONTWAIT))
        let result = bytes.withUnsafeBytes { raw in
            Sys.retryingEINTR { Sys.send(fd, raw.baseAddress, raw.count, flags) }
        }
        if result == -Int(EAGAIN) { return false }
        let sent = try Sys.checked("send", path, result)
        guard sent == bytes.count else {
            throw SystemError(call: "send (short: \(sent) of \(bytes.count) bytes)", subject: path, errno: EIO)
        }
        return true
    }

    /// Receives one message (`recv(2)` with MSG_TRUNC, so the whole length is known even when it exceeds
    /// `maxLength`). Without `wait` (or on a non-blocking socket) returns ``Received/wouldBlock`` instead of
    /// blocking. A zero-length read is ``Received/closed`` when the peer has hung up (always, for a stream),
    /// else an empty message.
    public func receive(maxLength: Int, wait: Bool = true) throws(SystemError) -> Received {
        let fd = fileDescriptor
        var buffer = [UInt8](repeating: 0, count: max(0, maxLength))
        let flags = (kind == .stream ? 0 : Int32(MSG_TRUNC)) | (wait ? 0 : Int32(MSG_DONTWAIT))
        let result = buffer.withUnsafeMutableBytes { raw in
            Sys.retryingEINTR { Sys.recv(fd, raw.baseAddress, raw.count, flags) }
        }
        if result == -Int(EAGAIN) { return .wouldBlock }
        let length = try Sys.checked("recv", path, result)
        if length == 0, kind == .stream || (kind == .seqpacket && peerHasClosed()) { return .closed }
        buffer.removeSubrange(min(length, buffer.count)...)
        return .message(bytes: buffer, length: length)
    }

    /// Waits until a read would not block (data, a pending connection, or a hang-up) or `timeout` passes
    /// (nil: no limit). Returns whether it became readable.
    public func waitReadable(timeout: Duration?) throws(SystemError) -> Bool {
        try Sys.poll(fileDescriptor, events: Int16(POLLIN), deadline: MonotonicClock.deadline(after: timeout), subject: path) != 0
    }

    /// Whether the peer has closed its end (`ppoll(2)` reports POLLRDHUP or POLLHUP now).
    public func peerHasClosed() -> Bool {
        let readHangUp: Int16 = 0x2000  // POLLRDHUP (a _GNU_SOURCE name the Glibc module lacks)
        let events = Sys.pollOne(fileDescriptor, readHangUp, 0)
        return events > 0 && (events & (Int32(readHangUp) | Int32(POLLHUP))) != 0
    }

    // MARK: Options

    /// SO_SNDBUF as the kernel reports it (Linux doubles the value set, and applies a minimum).
    public func sendBufferSize() throws(SystemError) -> Int {
        var value: Int32 = 0
        _ = try Sys.checked("getsockopt(SO_SNDBUF)", path, Sys.getIntOption(fileDescriptor, SOL_SOCKET, SO_SNDBUF, &value))
        return Int(value)
    }

    /// Sets SO_SNDBUF (`setsockopt(2)`); see ``sendBufferSize()`` for what the kernel makes of it.
    public func setSendBufferSize(_ bytes: Int) throws(SystemError) {
        _ = try Sys.checked(
            "setsockopt(SO_SNDBUF)", path, Sys.setIntOption(fileDescriptor, SOL_SOCKET, SO_SNDBUF, Int32(clamping: bytes)))
    }

    // MARK: Closing

    /// Closes the descriptor (idempotent). A listener's socket file stays; see ``removeSocketFile()``.
    public func close() {
        let fd = descriptor.exchange(-1, ordering: .acquiringAndReleasing)
        if fd >= 0 { _ = Sys.close(fd) }
    }

    /// Unlinks the socket file this listener created, if the path still names that very file (not one another
    /// process put there since). Returns whether it was removed.
    @discardableResult
    public func removeSocketFile() -> Bool {
        guard let boundFile else { return false }
        var info = stat()
        guard Sys.lstatPath(path, &info) == 0, UInt64(info.st_dev) == boundFile.device,
            UInt64(info.st_ino) == boundFile.inode
        else { return false }
        return Sys.unlink(path) == 0
    }

    // MARK: Helpers

    private static func checkLength(_ path: String, call: String) throws(SystemError) {
        let length = path.utf8.count
        guard length > maximumPathLength else { return }
        throw SystemError(
            call: "\(call) (a UNIX socket path holds at most \(maximumPathLength) bytes, this one has \(length))",
            subject: path, errno: ENAMETOOLONG)
    }

    /// Removes a socket file at `path` that nobody listens on; throws when something else is there.
    private static func removeStaleSocket(at path: String, kind: Kind) throws(SystemError) {
        var info = stat()
        let found = Sys.lstatPath(path, &info)
        if found == -ENOENT { return }
        _ = try Sys.checked("lstat", path, found)
        guard info.st_mode & S_IFMT == S_IFSOCK else {
            throw SystemError(call: "bind (the path exists and is not a socket; not replaced)", subject: path, errno: EEXIST)
        }
        let probe = try Sys.retrying(
            "socket", path, Sys.socket(AF_UNIX, kind.socketType | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0))
        let connected = Sys.connectUnix(probe, path)
        _ = Sys.close(probe)
        switch connected {
        case -ECONNREFUSED:
            let removed = Sys.unlink(path)
            if removed != -ENOENT { _ = try Sys.checked("unlink (stale socket)", path, removed) }
        case -ENOENT:
            return
        default:
            throw SystemError(call: "bind (a process is listening on this socket)", subject: path, errno: EADDRINUSE)
        }
    }
}

extension Sys {
    /// Runs `body` again while it returns -EINTR.
    static func retryingEINTR<T: SignedInteger & FixedWidthInteger>(_ body: () -> T) -> T {
        while true {
            let value = body()
            if value != -T(EINTR) { return value }
        }
    }
}

// What the control layer of a running instance needs from the system, built on the `Sys` wrappers (so fault
// injection reaches it too): the instance lock (open(2), flock(2), fstat(2), ftruncate(2), pwrite(2)),
// ownership checks of the runtime directory (lstat(2), mkdir(2), access(2), getuid(2)), and complete writes
// to a stream socket that may be non-blocking (send(2) until every byte is out, waiting with ppoll(2) for
// room, bounded by a deadline). Errors are SystemErrors naming the call and the path or socket; EINTR is
// retried.

import Glibc

/// Lock files, runtime-directory checks and complete writes to stream sockets (see the file comment).
public enum FileAndSocketCalls {
    /// The real user id of this process.
    public static var userID: uid_t { getuid() }

    /// lstat(2) of `path`, nil when it does not exist.
    public static func status(of path: String) throws(SystemError) -> stat? {
        var info = stat()
        let result = Sys.lstatPath(path, &info)
        if result == 0 { return info }
        if result == -ENOENT { return nil }
        throw SystemError(call: "lstat", subject: path, errno: -result)
    }

    /// mkdir(2) with `mode`; an existing entry is not an error (the caller checks what it is).
    public static func makeDirectory(_ path: String, mode: mode_t) throws(SystemError) {
        let result = Sys.mkdir(path, mode)
        if result == 0 || result == -EEXIST { return }
        throw SystemError(call: "mkdir", subject: path, errno: -result)
    }

    /// Whether this process may write and search the directory `path` (access(2) with W_OK|X_OK).
    public static func isWritableDirectory(_ path: String) -> Bool {
        Sys.access(path, W_OK | X_OK) == 0
    }

    /// Opens (creating, 0600) the lock file at `path`, close-on-exec so firmware children never inherit it.
    public static func openLockFile(_ path: String) throws(SystemError) -> Int32 {
        try Sys.retrying("open", path, Sys.open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600))
    }

    /// flock(2) LOCK_EX|LOCK_NB: true when taken, false when another open file holds it.
    public static func tryLock(_ fd: Int32, path: String) throws(SystemError) -> Bool {
        while true {
            let result = Sys.lockFile(fd, LOCK_EX | LOCK_NB)
            switch result {
            case 0: return true
            case -EINTR: continue
            case -EWOULDBLOCK: return false
            default: throw SystemError(call: "flock", subject: path, errno: -result)
            }
        }
    }

    /// Device and inode of an open descriptor (fstat(2)).
    public static func identity(of fd: Int32) -> (UInt64, UInt64)? {
        var info = stat()
        guard Sys.fstat(fd, &info) == 0 else { return nil }
        return (UInt64(info.st_dev), UInt64(info.st_ino))
    }

    /// Replaces the contents of the open file `fd` with `text`.
    public static func rewrite(_ fd: Int32, _ text: String, path: String) throws(SystemError) {
        _ = try Sys.checked("ftruncate", path, Sys.ftruncate(fd, 0))
        let bytes = Array(text.utf8)
        let written = try Sys.checked("pwrite", path, bytes.withUnsafeBytes { Sys.pwrite(fd, $0.baseAddress, $0.count, 0) })
        guard written == bytes.count else { throw SystemError(call: "pwrite", subject: path, errno: EIO) }
    }

    /// Closes a descriptor, ignoring errors (the lock file at exit).
    public static func closeQuietly(_ fd: Int32) { _ = Sys.close(fd) }

    /// unlink(2), ignoring a missing file.
    public static func unlinkQuietly(_ path: String) { _ = Sys.unlink(path) }

    /// Sends every byte of `bytes` on the stream socket `fd` (MSG_NOSIGNAL: a closed peer is EPIPE, not
    /// SIGPIPE). When the socket's buffer is full, waits for room in slices of at most 100 ms until
    /// `deadline` (monotonic ns; ETIMEDOUT after it) or until `cancelled()` returns true (ECANCELED).
    public static func sendAll(
        _ fd: Int32, _ bytes: [UInt8], deadline: UInt64, subject: String, cancelled: () -> Bool = { false }
    ) throws(SystemError) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return Sys.send(fd, base + offset, raw.count - offset, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT))
            }
            if sent > 0 {
                offset += sent
                continue
            }
            let code = sent < 0 ? Int32(truncatingIfNeeded: -sent) : EIO
            if code == EINTR { continue }
            guard code == EAGAIN || code == EWOULDBLOCK else { throw SystemError(call: "send", subject: subject, errno: code) }
            if cancelled() { throw SystemError(call: "send (cancelled)", subject: subject, errno: ECANCELED) }
            let now = MonotonicClock.nanoseconds()
            guard now < deadline else { throw SystemError(call: "send (peer not reading)", subject: subject, errno: ETIMEDOUT) }
            _ = Sys.pollOne(fd, Int16(POLLOUT), Int64(min(100_000_000, deadline - now)))
        }
    }
}

extension FileAndSocketCalls {
    /// Whether the peer of a connected socket has closed it entirely (poll(2) reports POLLHUP). A peer that
    /// only shut down its writing side (waiting for replies) is not hung up.
    public static func peerHasHungUp(_ fd: Int32) -> Bool {
        let revents = Sys.pollOne(fd, 0, 0)
        return revents > 0 && revents & Int32(POLLHUP | POLLERR) != 0
    }
}

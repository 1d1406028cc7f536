import AmpSystem
import Glibc
import Synchronization

/// The claim of one instance name in the runtime directory, held for the instance's lifetime.
///
/// Files, for instance `NAME` in runtime directory `DIR`:
/// - `DIR/NAME.lock`: the lock file, held with flock(2) while the instance runs; it holds the owner's pid.
///   A second instance of the same name finds it locked and is refused.
/// - `DIR/NAME.sock`: the control socket (made by ``ControlServer``).
/// - `DIR/NAME.d/`: the endpoint-socket directory (``endpointDirectory``; pass it as
///   `SoCOptions.socketDirectory`).
///
/// Files left by an instance that died (the lock is free) are replaced. ``release()`` removes all three.
public final class InstanceLock: Sendable {
    /// The instance name.
    public let name: String
    /// The runtime directory.
    public let runtime: RuntimeDirectory
    /// `DIR/NAME.sock`.
    public let socketPath: String
    /// `DIR/NAME.d`.
    public let endpointDirectory: String
    /// `DIR/NAME.lock`.
    public let lockPath: String
    private let descriptor: Atomic<Int32>

    private init(name: String, runtime: RuntimeDirectory, descriptor: Int32) {
        self.name = name
        self.runtime = runtime
        socketPath = runtime.socketPath(for: name)
        endpointDirectory = runtime.endpointDirectory(for: name)
        lockPath = runtime.lockPath(for: name)
        self.descriptor = Atomic(descriptor)
    }

    deinit { release() }

    /// Claims instance `name` in `runtime`: validates the name and path lengths, takes the lock, records
    /// this process's pid, and clears what a dead instance of that name left (socket, endpoint directory),
    /// creating the endpoint directory afresh (0700).
    ///
    /// - Throws: ``ControlError`` EINVAL for a bad name, ENAMETOOLONG when the paths would not fit a socket
    ///   address, EADDRINUSE when a running instance holds the name (the message names it, its pid and its
    ///   control socket).
    public static func acquire(name: String, runtime: RuntimeDirectory) throws(ControlError) -> InstanceLock {
        try InstanceName.validate(name)
        let longest = runtime.endpointDirectory(for: name).utf8.count + 1 + InstanceName.endpointNameReserve
        guard longest <= UnixSocket.maximumPathLength, runtime.socketPath(for: name).utf8.count <= UnixSocket.maximumPathLength
        else {
            throw ControlError(
                code: ENAMETOOLONG,
                "instance name '\(name)' is too long for runtime directory \(runtime.path): socket paths below "
                    + "\(runtime.endpointDirectory(for: name))/ would not fit a UNIX socket address (107 bytes); use a shorter "
                    + "name or set XDG_RUNTIME_DIR to a shorter directory",
                field: "name")
        }
        let path = runtime.lockPath(for: name)
        let fd = try lockFile(at: path, name: name, runtime: runtime)
        let lock = InstanceLock(name: name, runtime: runtime, descriptor: fd)
        do {
            try FileAndSocketCalls.rewrite(fd, "\(getpid())\n", path: path)
            FileAndSocketCalls.unlinkQuietly(lock.socketPath)
            try? FileIO.removeDirectory(lock.endpointDirectory)
            try FileAndSocketCalls.makeDirectory(lock.endpointDirectory, mode: 0o700)
        } catch {
            lock.release()
            throw ControlError(error, doing: "instance \(name)")
        }
        return lock
    }

    /// Opens and locks the lock file; retries when the file was replaced between open and lock (a releasing
    /// instance unlinks it while holding the lock).
    private static func lockFile(at path: String, name: String, runtime: RuntimeDirectory) throws(ControlError) -> Int32 {
        for _ in 0..<10 {
            let fd: Int32
            let locked: Bool
            do {
                fd = try FileAndSocketCalls.openLockFile(path)
            } catch {
                throw ControlError(error, doing: "instance \(name): lock file")
            }
            do {
                locked = try FileAndSocketCalls.tryLock(fd, path: path)
            } catch {
                FileAndSocketCalls.closeQuietly(fd)
                throw ControlError(error, doing: "instance \(name): lock file")
            }
            guard locked else {
                FileAndSocketCalls.closeQuietly(fd)
                let holder = holderPID(lockPath: path).map { "pid \($0)" } ?? "pid unknown"
                throw ControlError(
                    code: EADDRINUSE,
                    "an ampsoc instance named '\(name)' is already running (\(holder), control socket "
                        + "\(runtime.socketPath(for: name))); stop it or choose another --name",
                    field: "name")
            }
            // The path must still name the file we locked.
            if let locked = FileAndSocketCalls.identity(of: fd), let info = try? FileAndSocketCalls.status(of: path),
                UInt64(info.st_dev) == locked.0, UInt64(info.st_ino) == locked.1
            {
                return fd
            }
            FileAndSocketCalls.closeQuietly(fd)
        }
        throw ControlError(code: EAGAIN, "instance \(name): lock file \(path) keeps being replaced")
    }

    /// The pid recorded in a lock file, if readable.
    static func holderPID(lockPath: String) -> Int32? {
        guard let bytes = try? FileIO.readFile(lockPath, limit: 64) else { return nil }
        return Int32(String(decoding: bytes, as: UTF8.self).trimmingWhitespace)
    }

    /// Removes the control socket, the endpoint directory and the lock file, then releases the lock.
    /// Idempotent.
    public func release() {
        let fd = descriptor.exchange(-1, ordering: .acquiringAndReleasing)
        guard fd >= 0 else { return }
        FileAndSocketCalls.unlinkQuietly(socketPath)
        try? FileIO.removeDirectory(endpointDirectory)
        FileAndSocketCalls.unlinkQuietly(lockPath)
        FileAndSocketCalls.closeQuietly(fd)
    }
}

extension String {
    var trimmingWhitespace: String {
        var scalars = Substring(self)
        while let first = scalars.first, first.isWhitespace { scalars = scalars.dropFirst() }
        while let last = scalars.last, last.isWhitespace { scalars = scalars.dropLast() }
        return String(scalars)
    }
}

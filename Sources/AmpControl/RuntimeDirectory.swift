import AmpSystem
import Glibc

/// The per-user directory that holds every running instance's lock file, control socket and endpoint
/// sockets: `$XDG_RUNTIME_DIR/ampsoc` when that variable names a usable directory (absolute, ours, writable),
/// else `/tmp/ampsoc-<uid>`.
///
/// The directory is created with mode 0700. One that exists but is not a directory, belongs to another
/// user, or is accessible by group or others is refused: sockets in it would be reachable by others.
public struct RuntimeDirectory: Sendable, Equatable {
    /// The directory's absolute path.
    public let path: String

    /// The directory for this user, created if missing and checked; see the type's description.
    /// - Throws: ``ControlError`` EACCES/ENOTDIR naming the directory and what is wrong with it.
    public static func resolve(environment: [String: String]) throws(ControlError) -> RuntimeDirectory {
        let directory = RuntimeDirectory(path: candidatePath(environment: environment))
        try directory.create()
        return directory
    }

    /// The directory `resolve` would use, without creating or checking it.
    public static func candidatePath(environment: [String: String]) -> String {
        if let base = environment["XDG_RUNTIME_DIR"], base.hasPrefix("/"), isUsableBase(base) {
            return (base.hasSuffix("/") ? String(base.dropLast()) : base) + "/ampsoc"
        }
        return "/tmp/ampsoc-\(FileAndSocketCalls.userID)"
    }

    init(path: String) {
        self.path = path
    }

    /// Whether `$XDG_RUNTIME_DIR` is a directory of ours we can write.
    private static func isUsableBase(_ base: String) -> Bool {
        guard let info = try? FileAndSocketCalls.status(of: base) else { return false }
        return info.st_mode & S_IFMT == S_IFDIR && info.st_uid == FileAndSocketCalls.userID
            && FileAndSocketCalls.isWritableDirectory(base)
    }

    /// Creates the directory (0700) if missing, then checks it is a directory we own that nobody else can use.
    func create() throws(ControlError) {
        do {
            try FileAndSocketCalls.makeDirectory(path, mode: 0o700)
        } catch {
            throw ControlError(error, doing: "runtime directory \(path)")
        }
        try check()
    }

    /// Checks an existing directory; see ``create()``.
    func check() throws(ControlError) {
        let found: stat?
        do {
            found = try FileAndSocketCalls.status(of: path)
        } catch {
            throw ControlError(error, doing: "runtime directory \(path)")
        }
        guard let info = found else { throw ControlError(code: ENOENT, "runtime directory \(path) does not exist") }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            throw ControlError(code: ENOTDIR, "runtime directory \(path) is not a directory (a symbolic link or a file); remove it")
        }
        let user = FileAndSocketCalls.userID
        guard info.st_uid == user else {
            throw ControlError(
                code: EACCES,
                "runtime directory \(path) belongs to uid \(info.st_uid), not to this user (uid \(user)); refusing to use it "
                    + "(remove it, or set XDG_RUNTIME_DIR to a private directory)")
        }
        let mode = info.st_mode & 0o777
        guard mode & 0o077 == 0 else {
            throw ControlError(
                code: EACCES,
                "runtime directory \(path) has mode 0\(String(mode, radix: 8)): group or others can use it; refusing to "
                    + "use it (chmod 700 it)")
        }
    }

    // MARK: Per-instance paths

    /// The control socket of instance `name`: `<dir>/<name>.sock`.
    public func socketPath(for name: String) -> String { "\(path)/\(name).sock" }
    /// The lock file of instance `name`: `<dir>/<name>.lock`.
    public func lockPath(for name: String) -> String { "\(path)/\(name).lock" }
    /// The endpoint-socket directory of instance `name`: `<dir>/<name>.d`.
    public func endpointDirectory(for name: String) -> String { "\(path)/\(name).d" }

    /// Names of the instances that have a control socket here (running or stale), sorted.
    public func socketNames() -> [String] {
        let entries = (try? FileIO.listDirectory(path)) ?? []
        return entries.filter { $0.hasSuffix(".sock") }.map { String($0.dropLast(5)) }
            .filter { InstanceName.isValid($0) }.sorted()
    }
}

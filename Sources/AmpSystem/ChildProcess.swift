import CAmpShim
import Glibc
import Synchronization

/// A child process started with `posix_spawn(3)` and watched through a pidfd (`pidfd_open(2)`).
///
/// The child starts with an empty signal mask and default dispositions for SIGINT, SIGTERM, SIGPIPE and SIGCHLD,
/// whatever the parent blocked or ignored. It inherits only stdin/stdout/stderr and the descriptors listed in
/// `inheritFDs` (this layer opens everything else close-on-exec).
///
/// No zombies: every path reaps. ``waitForExit(timeout:)``, ``exitStatus`` and ``terminate(grace:)`` reap with
/// `waitpid(2)` once the pidfd reports the exit; a child still running when this object is deinitialised is
/// SIGKILLed and reaped. The pidfd stays open until deinit, so signals never reach a recycled pid, and it can be
/// added to an ``Epoll`` set (readable once the child has exited).
public final class ChildProcess: Sendable {
    /// How a child ended.
    public enum ExitStatus: Equatable, Hashable, Sendable, CustomStringConvertible {
        /// It called exit with this code (0...255).
        case exited(Int32)
        /// A signal killed it.
        case signaled(Int32)

        public var description: String {
            switch self {
            case .exited(let code): "exited with code \(code)"
            case .signaled(let signal): "killed by signal \(signal)"
            }
        }
    }

    /// The child's process id.
    public let pid: pid_t
    /// A pidfd for the child (close-on-exec), readable once it exits.
    public let pidfd: Int32
    /// The path it was spawned from, for messages.
    public let executable: String
    /// Set once reaped; the lock also makes sure only one caller reaps.
    private let reaped = Mutex<ExitStatus?>(nil)

    private init(pid: pid_t, pidfd: Int32, executable: String) {
        self.pid = pid
        self.pidfd = pidfd
        self.executable = executable
    }

    deinit {
        let alreadyReaped = reaped.withLock { $0 != nil }
        if !alreadyReaped {
            _ = Sys.pidfdSendSignal(pidfd, SIGKILL)
            var status: Int32 = 0
            while Sys.waitpid(pid, &status, 0) == -EINTR {}
        }
        _ = Sys.close(pidfd)
    }

    /// Spawns `executable` (a path; no PATH search) with argv = [executable] + `arguments`.
    /// `environment` nil inherits this process's environment. Each `(from, to)` in `inheritFDs` makes this
    /// process's descriptor `from` appear as `to` in the child (`posix_spawn_file_actions_adddup2`; the sources are
    /// first duplicated above every target, so overlapping pairs are safe). Errors name the executable.
    public static func spawn(
        executable: String, arguments: [String] = [], environment: [String: String]? = nil,
        inheritFDs: [(from: Int32, to: Int32)] = []
    ) throws(SystemError) -> ChildProcess {
        let staged = try stageInheritedDescriptors(inheritFDs, executable: executable)
        defer { for fd in staged { _ = Sys.close(fd) } }

        var fileActions = posix_spawn_file_actions_t()
        var attributes = posix_spawnattr_t()
        guard posix_spawn_file_actions_init(&fileActions) == 0 else {
            throw SystemError(call: "posix_spawn_file_actions_init", subject: executable, code: .noMemory)
        }
        defer { posix_spawn_file_actions_destroy(&fileActions) }
        guard posix_spawnattr_init(&attributes) == 0 else {
            throw SystemError(call: "posix_spawnattr_init", subject: executable, code: .noMemory)
        }
        defer { posix_spawnattr_destroy(&attributes) }

        for (index, pair) in inheritFDs.enumerated() {
            let result = posix_spawn_file_actions_adddup2(&fileActions, staged[index], pair.to)
            guard result == 0 else {
                throw SystemError(call: "posix_spawn_file_actions_adddup2(\(pair.from) -> \(pair.to))", subject: executable, errno: result)
            }
        }
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        var defaulted = sigset_t()
        sigemptyset(&defaulted)
        for signal in [SIGINT, SIGTERM, SIGPIPE, SIGCHLD] { sigaddset(&defaulted, signal) }
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        posix_spawnattr_setsigdefault(&attributes, &defaulted)
        // Own process group: a terminal's Ctrl-C reaches the host, which then stops its children in order,
        // instead of killing every remote at once behind the host's back.
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

        var pid: pid_t = 0
        let argv = [executable] + arguments
        let envp = environment.map { $0.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" } }
        let spawnResult = withCStringArray(argv) { argvPointer in
            if let envp {
                return withCStringArray(envp) { envpPointer in
                    Sys.posixSpawn(&pid, executable, &fileActions, &attributes, argvPointer, envpPointer)
                }
            }
            return Sys.posixSpawn(&pid, executable, &fileActions, &attributes, argvPointer, amp_environ())
        }
        _ = try Sys.checked("posix_spawn", executable, spawnResult)

        let pidfdResult = Sys.pidfdOpen(pid)
        guard pidfdResult >= 0 else {
            // Without a pidfd the child cannot be watched safely: kill and reap it now.
            _ = Sys.kill(pid, SIGKILL)
            var status: Int32 = 0
            while Sys.waitpid(pid, &status, 0) == -EINTR {}
            throw SystemError(call: "pidfd_open", subject: "\(executable) (pid \(pid))", errno: -pidfdResult)
        }
        return ChildProcess(pid: pid, pidfd: pidfdResult, executable: executable)
    }

    /// Duplicates each source descriptor above every target (`fcntl(F_DUPFD_CLOEXEC)`), so that applying the
    /// dup2 actions in order never overwrites a source that a later action still needs.
    private static func stageInheritedDescriptors(
        _ pairs: [(from: Int32, to: Int32)], executable: String
    ) throws(SystemError) -> [Int32] {
        let floor = (pairs.map(\.to).max() ?? 2) + 1
        var staged: [Int32] = []
        for pair in pairs {
            guard pair.to >= 0 else {
                for fd in staged { _ = Sys.close(fd) }
                throw SystemError(call: "inherit fd \(pair.from) -> \(pair.to)", subject: executable, code: .badFileDescriptor)
            }
            let result = Sys.fcntl(pair.from, F_DUPFD_CLOEXEC, floor)
            guard result >= 0 else {
                for fd in staged { _ = Sys.close(fd) }
                throw SystemError(call: "fcntl(F_DUPFD_CLOEXEC) of inherited fd \(pair.from)", subject: executable, errno: -result)
            }
            staged.append(result)
        }
        return staged
    }

    private var subject: String { "\(executable) (pid \(pid))" }

    // MARK: Status and waiting

    /// The exit status if the child has exited (reaping it with `waitpid(WNOHANG)`), nil while it runs.
    public var exitStatus: ExitStatus? {
        get throws(SystemError) {
            try reap(blocking: false)
        }
    }

    /// Waits until the child exits or `timeout` passes (nil: no timeout) by polling the pidfd (`ppoll(2)`,
    /// EINTR retried with the time left), then reaps it (`waitpid(2)`). Returns nil on timeout.
    public func waitForExit(timeout: Duration? = nil) throws(SystemError) -> ExitStatus? {
        if let status = reaped.withLock({ $0 }) { return status }
        let ready = try Sys.poll(pidfd, events: Int16(POLLIN), deadline: MonotonicClock.deadline(after: timeout), subject: subject)
        if ready == 0 { return nil }
        return try reap(blocking: true)
    }

    /// Sends `signal` through the pidfd (`pidfd_send_signal(2)`): it can never hit a recycled pid.
    /// Throws ESRCH (``Errno/noSuchProcess``) once the child has been reaped.
    public func signal(_ signal: Int32) throws(SystemError) {
        _ = try Sys.checked("pidfd_send_signal(\(signal))", subject, Sys.pidfdSendSignal(pidfd, signal))
    }

    /// Stops the child: SIGTERM, up to `grace` for it to exit, then SIGKILL. Always reaps; returns how it ended.
    @discardableResult
    public func terminate(grace: Duration) throws(SystemError) -> ExitStatus {
        if let status = reaped.withLock({ $0 }) { return status }
        try signalIgnoringExited(SIGTERM)
        if let status = try waitForExit(timeout: grace) { return status }
        try signalIgnoringExited(SIGKILL)
        return try reap(blocking: true) ?? .signaled(SIGKILL)
    }

    /// Sends `signal` unless the child already exited (ESRCH is fine here: it is waiting to be reaped).
    private func signalIgnoringExited(_ signal: Int32) throws(SystemError) {
        let result = Sys.pidfdSendSignal(pidfd, signal)
        if result < 0 && result != -ESRCH {
            throw SystemError(call: "pidfd_send_signal(\(signal))", subject: subject, errno: -result)
        }
    }

    /// `waitpid(2)` under the lock (EINTR retried); records and returns the status, nil if still running.
    private func reap(blocking: Bool) throws(SystemError) -> ExitStatus? {
        try reaped.withLock { (status: inout ExitStatus?) throws(SystemError) -> ExitStatus? in
            if let status { return status }
            while true {
                var raw: Int32 = 0
                let result = try Sys.retrying("waitpid", subject, Sys.waitpid(pid, &raw, blocking ? 0 : WNOHANG))
                if result == 0 { return nil }
                var kind: Int32 = 0
                var value: Int32 = 0
                amp_decode_wait_status(raw, &kind, &value)
                switch kind {
                case 1: status = .exited(value)
                case 2: status = .signaled(value)
                default: continue  // stopped/continued reports: keep waiting
                }
                return status
            }
        }
    }
}

/// Runs `body` with a NULL-terminated array of C strings copied from `strings`.
func withCStringArray<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    let copies: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) } + [nil]
    defer { for copy in copies { free(copy) } }
    return copies.withUnsafeBufferPointer { buffer in
        guard let base = buffer.baseAddress else { fatalError("unreachable: the array always holds its NULL terminator") }
        return body(base)
    }
}

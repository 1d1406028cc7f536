import CAmpShim
import Glibc

/// The one place where AmpSystem makes system calls.
///
/// Every wrapper returns the call's non-negative result, or `-errno` (in the same integer type) on failure, and
/// first consults the task's ``SyscallFaultPlan`` so tests can inject errors (EINTR, EAGAIN) into any named call.
/// The public types turn results into ``SystemError`` through ``Sys/retrying(_:_:_:)`` (retries EINTR) or
/// ``Sys/checked(_:_:_:)`` (no retry). Descriptors are always opened close-on-exec.
enum Sys {
    @inline(__always)
    private static func injected(_ call: String) -> Int32? {
        SyscallFaults.plan?.take(call)
    }

    @inline(__always)
    private static func result<T: SignedInteger & FixedWidthInteger>(_ value: T) -> T {
        value < 0 ? -T(Glibc.errno) : value
    }

    // MARK: Result handling

    /// Evaluates `body` until it returns something other than -EINTR; throws for any other negative result.
    static func retrying<T: SignedInteger & FixedWidthInteger>(
        _ call: String, _ subject: @autoclosure () -> String, _ body: @autoclosure () -> T
    ) throws(SystemError) -> T {
        try retrying(call, subject(), operation: body)
    }

    /// Runs `operation` until it returns something other than -EINTR; throws for any other negative result.
    static func retrying<T: SignedInteger & FixedWidthInteger>(
        _ call: String, _ subject: @autoclosure () -> String, operation body: () -> T
    ) throws(SystemError) -> T {
        while true {
            let value = body()
            if value >= 0 { return value }
            let code = Int32(truncatingIfNeeded: -value)
            if code == EINTR { continue }
            throw SystemError(call: call, subject: subject(), errno: code)
        }
    }

    /// Returns a non-negative `value`, or throws the error it encodes (no retry).
    static func checked<T: SignedInteger & FixedWidthInteger>(
        _ call: String, _ subject: @autoclosure () -> String, _ value: T
    ) throws(SystemError) -> T {
        if value >= 0 { return value }
        throw SystemError(call: call, subject: subject(), errno: Int32(truncatingIfNeeded: -value))
    }

    // MARK: Clock and CPUs (no fault injection: they cannot fail in ways callers handle)

    /// clock_gettime(CLOCK_MONOTONIC) in nanoseconds (vDSO, no kernel entry).
    @inline(__always)
    static func monotonicNanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec)
    }

    /// clock_gettime(CLOCK_MONOTONIC_COARSE) in nanoseconds (vDSO, no kernel entry, no timestamp counter
    /// read: the time of the last tick).
    @inline(__always)
    static func coarseMonotonicNanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC_COARSE, &now)
        return UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec)
    }

    /// clock_getres(CLOCK_MONOTONIC_COARSE) in nanoseconds (the tick), or `fallback` if it fails.
    static func coarseMonotonicResolution(fallback: UInt64) -> UInt64 {
        var resolution = timespec()
        guard clock_getres(CLOCK_MONOTONIC_COARSE, &resolution) == 0 else { return fallback }
        return UInt64(resolution.tv_sec) &* 1_000_000_000 &+ UInt64(resolution.tv_nsec)
    }

    /// Seconds since the epoch on CLOCK_REALTIME (for comparing with file times).
    static func realtimeSeconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec)
    }

    /// sched_getaffinity(2) + CPU_COUNT (`amp_usable_cpu_count`): the count or -errno.
    static func usableCPUCount() -> Int32 {
        amp_usable_cpu_count()
    }

    // MARK: Files

    /// open(2). The caller passes O_CLOEXEC.
    static func open(_ path: String, _ flags: Int32, _ mode: mode_t = 0) -> Int32 {
        if let code = injected("open") { return -code }
        return result(Glibc.open(path, flags, mode))
    }

    /// close(2). Never retried: on Linux the descriptor is released even when close reports EINTR.
    static func close(_ fd: Int32) -> Int32 {
        if let code = injected("close") { return -code }
        return result(Glibc.close(fd))
    }

    /// read(2).
    static func read(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
        if let code = injected("read") { return -Int(code) }
        return result(Glibc.read(fd, buffer, count))
    }

    /// write(2).
    static func write(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
        if let code = injected("write") { return -Int(code) }
        return result(Glibc.write(fd, buffer, count))
    }

    /// fsync(2).
    static func fsync(_ fd: Int32) -> Int32 {
        if let code = injected("fsync") { return -code }
        return result(Glibc.fsync(fd))
    }

    /// mkdir(2).
    static func mkdir(_ path: String, _ mode: mode_t) -> Int32 {
        if let code = injected("mkdir") { return -code }
        return result(Glibc.mkdir(path, mode))
    }

    /// flock(2) (named apart from it: `Glibc.flock` also names the `struct flock` of fcntl(2)).
    static func lockFile(_ fd: Int32, _ operation: Int32) -> Int32 {
        if let code = injected("flock") { return -code }
        return result(flock(fd, operation))
    }

    /// pwrite(2): the byte count or -errno.
    static func pwrite(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int, _ offset: Int) -> Int {
        if let code = injected("pwrite") { return -Int(code) }
        return result(Glibc.pwrite(fd, buffer, count, off_t(offset)))
    }

    /// rmdir(2).
    static func rmdir(_ path: String) -> Int32 {
        if let code = injected("rmdir") { return -code }
        return result(Glibc.rmdir(path))
    }

    /// mkdtemp(3): replaces the trailing XXXXXX of `template` and creates the directory (0700). The path, or
    /// the negative errno.
    static func mkdtemp(_ template: String) -> Result<String, SystemError> {
        if let code = injected("mkdtemp") { return .failure(SystemError(call: "mkdtemp", subject: template, errno: code)) }
        var buffer = Array(template.utf8CString)
        let made = buffer.withUnsafeMutableBufferPointer { pointer -> Bool in
            guard let base = pointer.baseAddress else { return false }
            return Glibc.mkdtemp(base) != nil
        }
        guard made else { return .failure(SystemError(call: "mkdtemp", subject: template, errno: errno)) }
        return .success(String(decoding: buffer.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }

    /// rename(2).
    static func rename(_ from: String, _ to: String) -> Int32 {
        if let code = injected("rename") { return -code }
        return result(Glibc.rename(from, to))
    }

    /// unlink(2).
    static func unlink(_ path: String) -> Int32 {
        if let code = injected("unlink") { return -code }
        return result(Glibc.unlink(path))
    }

    /// access(2).
    static func access(_ path: String, _ mode: Int32) -> Int32 {
        if let code = injected("access") { return -code }
        return result(Glibc.access(path, mode))
    }

    /// madvise(2).
    static func madvise(_ address: UnsafeMutableRawPointer, _ length: Int, _ advice: Int32) -> Int32 {
        if let code = injected("madvise") { return -code }
        return result(Glibc.madvise(address, length, advice))
    }

    /// stat(2) (follows symbolic links).
    static func statPath(_ path: String, _ info: inout stat) -> Int32 {
        if let code = injected("stat") { return -code }
        return result(stat(path, &info))
    }

    /// readlink(2) into `buffer`; the byte count or -errno.
    static func readlink(_ path: String, _ buffer: inout [CChar]) -> Int {
        if let code = injected("readlink") { return -Int(code) }
        return result(Glibc.readlink(path, &buffer, buffer.count))
    }

    /// getcwd(3): 0 or -errno.
    static func getcwd(_ buffer: inout [CChar]) -> Int32 {
        if let code = injected("getcwd") { return -code }
        return Glibc.getcwd(&buffer, buffer.count) == nil ? -Glibc.errno : 0
    }

    /// fstat(2).
    static func fstat(_ fd: Int32, _ info: inout stat) -> Int32 {
        if let code = injected("fstat") { return -code }
        return result(Glibc.fstat(fd, &info))
    }

    /// fchmod(2).
    static func fchmod(_ fd: Int32, _ mode: mode_t) -> Int32 {
        if let code = injected("fchmod") { return -code }
        return result(Glibc.fchmod(fd, mode))
    }

    /// ftruncate(2).
    static func ftruncate(_ fd: Int32, _ length: Int) -> Int32 {
        if let code = injected("ftruncate") { return -code }
        return result(Glibc.ftruncate(fd, off_t(length)))
    }

    /// fcntl(2) with an integer argument (F_DUPFD_CLOEXEC, F_GETFD, F_SETFD).
    static func fcntl(_ fd: Int32, _ command: Int32, _ argument: Int32) -> Int32 {
        if let code = injected("fcntl") { return -code }
        return result(Glibc.fcntl(fd, command, argument))
    }

    /// Names in a directory except "." and "..": opendir(3)/readdir(3) (glibc opens it close-on-exec).
    static func listDirectory(_ path: String) throws(SystemError) -> [String] {
        if let code = injected("opendir") { throw SystemError(call: "opendir", subject: path, errno: code) }
        guard let dir = Glibc.opendir(path) else {
            throw SystemError(call: "opendir", subject: path, errno: Glibc.errno)
        }
        defer { Glibc.closedir(dir) }
        var names: [String] = []
        while let entry = Glibc.readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// pipe2(2) with O_CLOEXEC (`amp_pipe_cloexec`): 0 or -errno.
    static func pipe(_ fds: inout (Int32, Int32)) -> Int32 {
        if let code = injected("pipe2") { return -code }
        var pair: [Int32] = [-1, -1]
        let result = pair.withUnsafeMutableBufferPointer { buffer -> Int32 in
            guard let base = buffer.baseAddress else { return -EINVAL }
            return amp_pipe_cloexec(base)
        }
        fds = (pair[0], pair[1])
        return result
    }

    // MARK: Shared memory

    /// shm_open(3).
    static func shmOpen(_ name: String, _ flags: Int32, _ mode: mode_t) -> Int32 {
        if let code = injected("shm_open") { return -code }
        return result(Glibc.shm_open(name, flags, mode))
    }

    /// shm_unlink(3).
    static func shmUnlink(_ name: String) -> Int32 {
        if let code = injected("shm_unlink") { return -code }
        return result(Glibc.shm_unlink(name))
    }

    /// mmap(2) of a whole shared, read-write descriptor; throws naming `subject`.
    static func mmapShared(_ fd: Int32, _ size: Int, subject: String) throws(SystemError) -> UnsafeMutableRawPointer {
        if let code = injected("mmap") { throw SystemError(call: "mmap", subject: subject, errno: code) }
        let mapped = Glibc.mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
        guard let pointer = mapped, pointer != UnsafeMutableRawPointer(bitPattern: -1) else {
            throw SystemError(call: "mmap", subject: subject, errno: Glibc.errno)
        }
        return pointer
    }

    /// munmap(2).
    static func munmap(_ address: UnsafeMutableRawPointer, _ size: Int) -> Int32 {
        if let code = injected("munmap") { return -code }
        return result(Glibc.munmap(address, size))
    }

    // MARK: Waiting and waking

    /// FUTEX_WAIT on a shared word (`amp_futex_wait`): 0, -EAGAIN, -ETIMEDOUT, -EINTR or another -errno.
    static func futexWait(_ word: UnsafeMutableRawPointer, _ expected: UInt32, _ timeoutNanoseconds: Int64) -> Int32 {
        if let code = injected("futex_wait") { return -code }
        return amp_futex_wait(word, expected, timeoutNanoseconds)
    }

    /// FUTEX_WAKE on a shared word (`amp_futex_wake`): the number woken or -errno.
    static func futexWake(_ word: UnsafeMutableRawPointer, _ count: Int32) -> Int32 {
        if let code = injected("futex_wake") { return -code }
        return amp_futex_wake(word, count)
    }

    /// ppoll(2) on one descriptor until `deadline` (nil: none), retrying EINTR with the time left.
    /// Returns the revents bits, or 0 when the deadline passed.
    static func poll(
        _ fd: Int32, events: Int16, deadline: UInt64?, subject: @autoclosure () -> String
    ) throws(SystemError) -> Int32 {
        while true {
            let result = pollOne(fd, events, MonotonicClock.remaining(until: deadline))
            if result >= 0 { return result }
            if result != -EINTR { throw SystemError(call: "ppoll", subject: subject(), errno: -result) }
        }
    }

    /// ppoll(2) on one descriptor (`amp_poll_one`): revents, 0 on timeout, or -errno.
    static func pollOne(_ fd: Int32, _ events: Int16, _ timeoutNanoseconds: Int64) -> Int32 {
        if let code = injected("ppoll") { return -code }
        return amp_poll_one(fd, events, timeoutNanoseconds)
    }

    /// eventfd(2) (`amp_eventfd_create`).
    static func eventfd(_ initialValue: UInt32, _ flags: Int32) -> Int32 {
        if let code = injected("eventfd") { return -code }
        return amp_eventfd_create(initialValue, flags)
    }

    /// epoll_create1(EPOLL_CLOEXEC) (`amp_epoll_create`).
    static func epollCreate() -> Int32 {
        if let code = injected("epoll_create1") { return -code }
        return amp_epoll_create()
    }

    /// epoll_ctl(2) (`amp_epoll_ctl`).
    static func epollControl(_ epfd: Int32, _ operation: Int32, _ fd: Int32, _ events: UInt32) -> Int32 {
        if let code = injected("epoll_ctl") { return -code }
        return amp_epoll_ctl(epfd, operation, fd, events)
    }

    /// epoll_wait(2) (`amp_epoll_wait`).
    static func epollWait(
        _ epfd: Int32, _ fds: UnsafeMutablePointer<Int32>, _ events: UnsafeMutablePointer<UInt32>,
        _ capacity: Int32, _ timeoutMilliseconds: Int32
    ) -> Int32 {
        if let code = injected("epoll_wait") { return -code }
        return amp_epoll_wait(epfd, fds, events, capacity, timeoutMilliseconds)
    }

    // MARK: Signals

    /// pthread_sigmask(3) for the calling thread (`amp_thread_sigmask`).
    static func threadSignalMask(block: Bool, _ signals: [Int32]) -> Int32 {
        if let code = injected("pthread_sigmask") { return -code }
        return signals.withUnsafeBufferPointer {
            amp_thread_sigmask(block ? 1 : 0, $0.baseAddress, Int32($0.count))
        }
    }

    /// signalfd(2) (`amp_signalfd_create`).
    static func signalfd(_ signals: [Int32], _ flags: Int32) -> Int32 {
        if let code = injected("signalfd") { return -code }
        return signals.withUnsafeBufferPointer { amp_signalfd_create($0.baseAddress, Int32($0.count), flags) }
    }

    /// read(2) of one signalfd_siginfo (`amp_signalfd_read`): 1 and the signal number, or -errno.
    static func signalfdRead(_ fd: Int32, _ signalNumber: inout UInt32) -> Int32 {
        if let code = injected("read") { return -code }
        return amp_signalfd_read(fd, &signalNumber)
    }

    // MARK: Processes

    /// pidfd_open(2) (`amp_pidfd_open`).
    static func pidfdOpen(_ pid: pid_t) -> Int32 {
        if let code = injected("pidfd_open") { return -code }
        return amp_pidfd_open(pid, 0)
    }

    /// pidfd_send_signal(2) (`amp_pidfd_send_signal`).
    static func pidfdSendSignal(_ pidfd: Int32, _ signal: Int32) -> Int32 {
        if let code = injected("pidfd_send_signal") { return -code }
        return amp_pidfd_send_signal(pidfd, signal)
    }

    /// waitpid(2).
    static func waitpid(_ pid: pid_t, _ status: inout Int32, _ options: Int32) -> Int32 {
        if let code = injected("waitpid") { return -code }
        return result(Glibc.waitpid(pid, &status, options))
    }

    /// posix_spawn(3); returns 0 or -error (posix_spawn reports its error as the return value, not errno).
    static func posixSpawn(
        _ pid: inout pid_t, _ path: String,
        _ fileActions: UnsafePointer<posix_spawn_file_actions_t>, _ attributes: UnsafePointer<posix_spawnattr_t>,
        _ argv: UnsafePointer<UnsafeMutablePointer<CChar>?>, _ envp: UnsafePointer<UnsafeMutablePointer<CChar>?>
    ) -> Int32 {
        if let code = injected("posix_spawn") { return -code }
        return -Glibc.posix_spawn(&pid, path, fileActions, attributes, argv, envp)
    }

    /// kill(2). Only for processes without a pidfd (a child whose pidfd_open failed, or this process).
    static func kill(_ pid: pid_t, _ signal: Int32) -> Int32 {
        if let code = injected("kill") { return -code }
        return result(Glibc.kill(pid, signal))
    }

    /// prctl(PR_SET_PDEATHSIG) (`amp_set_parent_death_signal`).
    static func setParentDeathSignal(_ signal: Int32) -> Int32 {
        if let code = injected("prctl") { return -code }
        return amp_set_parent_death_signal(signal)
    }
}

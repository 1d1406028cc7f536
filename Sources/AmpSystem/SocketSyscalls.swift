// The socket, file-status and terminal calls of the system layer, in the style of Syscalls.swift: each wrapper
// returns the call's non-negative result or -errno (in the same integer type), and first consults the task's
// SyscallFaultPlan under the wrapper's call name, so tests can inject EINTR or EAGAIN. Descriptors are always
// opened close-on-exec. The public types (UnixSocket, PseudoTerminal) turn results into SystemError.

import CAmpShim
import Glibc

extension Sys {
    @inline(__always)
    private static func fault(_ call: String) -> Int32? {
        SyscallFaults.plan?.take(call)
    }

    @inline(__always)
    private static func negated<T: SignedInteger & FixedWidthInteger>(_ value: T) -> T {
        value < 0 ? -T(Glibc.errno) : value
    }

    // MARK: Sockets

    /// socket(2). The caller passes SOCK_CLOEXEC (and SOCK_NONBLOCK when wanted) in `type`.
    static func socket(_ domain: Int32, _ type: Int32, _ proto: Int32) -> Int32 {
        if let code = fault("socket") { return -code }
        return negated(Glibc.socket(domain, type, proto))
    }

    /// bind(2) to an AF_UNIX address; -ENAMETOOLONG when `path` does not fit in sun_path with its NUL.
    static func bindUnix(_ fd: Int32, _ path: String) -> Int32 {
        if let code = fault("bind") { return -code }
        return withUnixAddress(path) { address, length in negated(Glibc.bind(fd, address, length)) }
    }

    /// connect(2) to an AF_UNIX address; -ENAMETOOLONG when `path` does not fit in sun_path with its NUL.
    static func connectUnix(_ fd: Int32, _ path: String) -> Int32 {
        if let code = fault("connect") { return -code }
        return withUnixAddress(path) { address, length in negated(Glibc.connect(fd, address, length)) }
    }

    /// listen(2).
    static func listen(_ fd: Int32, _ backlog: Int32) -> Int32 {
        if let code = fault("listen") { return -code }
        return negated(Glibc.listen(fd, backlog))
    }

    /// accept4(2) without a peer address; the caller passes SOCK_CLOEXEC in `flags`.
    static func accept4(_ fd: Int32, _ flags: Int32) -> Int32 {
        if let code = fault("accept4") { return -code }
        return amp_accept4(fd, flags)
    }

    /// recv(2): the byte count (with MSG_TRUNC: the whole message's length) or -errno.
    static func recv(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int, _ flags: Int32) -> Int {
        if let code = fault("recv") { return -Int(code) }
        return negated(Glibc.recv(fd, buffer, count, flags))
    }

    /// send(2): the byte count or -errno.
    static func send(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int, _ flags: Int32) -> Int {
        if let code = fault("send") { return -Int(code) }
        return negated(Glibc.send(fd, buffer, count, flags))
    }

    /// getsockopt(2) of an `int` option.
    static func getIntOption(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: inout Int32) -> Int32 {
        if let code = fault("getsockopt") { return -code }
        var length = socklen_t(MemoryLayout<Int32>.size)
        return negated(Glibc.getsockopt(fd, level, name, &value, &length))
    }

    /// setsockopt(2) of an `int` option.
    static func setIntOption(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32) -> Int32 {
        if let code = fault("setsockopt") { return -code }
        var copy = value
        return negated(Glibc.setsockopt(fd, level, name, &copy, socklen_t(MemoryLayout<Int32>.size)))
    }

    /// Builds a `sockaddr_un` for `path` and passes it to `body`; -ENAMETOOLONG when the path is too long.
    private static func withUnixAddress(_ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Int32) -> Int32 {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity, !bytes.contains(0) else { return bytes.contains(0) ? -EINVAL : -ENAMETOOLONG }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                body($0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
    }

    // MARK: File status

    /// lstat(2) (does not follow a final symbolic link).
    static func lstatPath(_ path: String, _ info: inout stat) -> Int32 {
        if let code = fault("lstat") { return -code }
        return negated(Glibc.lstat(path, &info))
    }

    // MARK: Pseudo-terminals

    /// posix_openpt(3), through the shim. The caller passes O_CLOEXEC.
    static func posixOpenpt(_ flags: Int32) -> Int32 {
        if let code = fault("posix_openpt") { return -code }
        return amp_posix_openpt(flags)
    }

    /// grantpt(3), through the shim.
    static func grantpt(_ fd: Int32) -> Int32 {
        if let code = fault("grantpt") { return -code }
        return amp_grantpt(fd)
    }

    /// unlockpt(3), through the shim.
    static func unlockpt(_ fd: Int32) -> Int32 {
        if let code = fault("unlockpt") { return -code }
        return amp_unlockpt(fd)
    }

    /// ptsname_r(3), through the shim: 0 and the slave's path, or -errno.
    static func ptsname(_ fd: Int32, _ path: inout String) -> Int32 {
        if let code = fault("ptsname_r") { return -code }
        var buffer = [CChar](repeating: 0, count: 128)
        let status = buffer.withUnsafeMutableBufferPointer { amp_ptsname(fd, $0.baseAddress, $0.count) }
        guard status == 0 else { return status }
        path = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return 0
    }

    /// tcgetattr(3).
    static func tcgetattr(_ fd: Int32, _ settings: inout termios) -> Int32 {
        if let code = fault("tcgetattr") { return -code }
        return negated(Glibc.tcgetattr(fd, &settings))
    }

    /// tcsetattr(3) with TCSANOW.
    static func tcsetattr(_ fd: Int32, _ settings: termios) -> Int32 {
        if let code = fault("tcsetattr") { return -code }
        var copy = settings
        return negated(Glibc.tcsetattr(fd, TCSANOW, &copy))
    }
}

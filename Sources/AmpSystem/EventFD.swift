import CAmpShim
import Glibc

/// An eventfd counter (`eventfd(2)`), non-blocking and close-on-exec: a cheap wake-up signal that can be polled,
/// put in an ``Epoll`` set, and handed to a child process through ``ChildProcess/spawn(executable:arguments:environment:inheritFDs:)``.
/// The descriptor is closed on deinit.
public final class EventFD: Sendable {
    /// The owned descriptor.
    public let fileDescriptor: Int32

    /// Creates a counter starting at 0: `eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)`.
    public init() throws(SystemError) {
        fileDescriptor = try Sys.retrying("eventfd", "", Sys.eventfd(0, Int32(AMP_EFD_NONBLOCK | AMP_EFD_CLOEXEC)))
    }

    /// Takes ownership of an inherited eventfd descriptor (in a spawned child), marking it close-on-exec again
    /// (`fcntl(F_SETFD, FD_CLOEXEC)`); throws EBADF if `fd` is not open.
    public init(adopting fd: Int32) throws(SystemError) {
        _ = try Sys.checked("fcntl(F_SETFD)", "fd \(fd)", Sys.fcntl(fd, F_SETFD, FD_CLOEXEC))
        fileDescriptor = fd
    }

    deinit { _ = Sys.close(fileDescriptor) }

    /// Adds `count` to the counter (`write(2)` of 8 bytes), waking pollers. A full counter (EAGAIN) already
    /// means "signalled", so it is not an error.
    public func signal(_ count: UInt64 = 1) throws(SystemError) {
        let fd = fileDescriptor
        let written = try Sys.retrying("write", "eventfd \(fd)") { () -> Int in
            let result = withUnsafeBytes(of: count) { Sys.write(fd, $0.baseAddress, 8) }
            return result == -Int(EAGAIN) ? 8 : result
        }
        guard written == 8 else { throw SystemError(call: "write (short)", subject: "eventfd \(fd)", code: .ioError) }
    }

    /// Reads and resets the counter (`read(2)` of 8 bytes); 0 if it was already 0.
    @discardableResult
    public func drain() throws(SystemError) -> UInt64 {
        let fd = fileDescriptor
        var value: UInt64 = 0
        let got = try Sys.retrying("read", "eventfd \(fd)") { () -> Int in
            let result = withUnsafeMutableBytes(of: &value) { Sys.read(fd, $0.baseAddress, 8) }
            return result == -Int(EAGAIN) ? 0 : result
        }
        if got == 0 { return 0 }
        guard got == 8 else { throw SystemError(call: "read (short)", subject: "eventfd \(fd)", code: .ioError) }
        return value
    }

    /// Waits until the counter is non-zero or `timeout` passes (`ppoll(2)`, EINTR retried with the time left).
    /// Returns whether it became readable. Does not drain.
    public func waitReadable(timeout: Duration?) throws(SystemError) -> Bool {
        try Sys.poll(fileDescriptor, events: Int16(POLLIN), deadline: MonotonicClock.deadline(after: timeout),
                     subject: "eventfd \(fileDescriptor)") != 0
    }
}

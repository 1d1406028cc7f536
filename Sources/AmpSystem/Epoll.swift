import CAmpShim
import Glibc

/// An epoll set (`epoll_create1(2)`, close-on-exec) for the host's main loop: it can watch eventfds, pidfds
/// (readable when the child exits) and a signalfd together. Each watched descriptor is reported by its own
/// number. The set is closed on deinit.
public final class Epoll: Sendable {
    /// Event bits (EPOLLIN, EPOLLOUT, ...).
    public struct Events: OptionSet, Hashable, Sendable {
        public var rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }

        /// EPOLLIN: readable.
        public static let readable = Events(rawValue: UInt32(AMP_EPOLLIN))
        /// EPOLLPRI: exceptional condition.
        public static let priority = Events(rawValue: UInt32(AMP_EPOLLPRI))
        /// EPOLLOUT: writable.
        public static let writable = Events(rawValue: UInt32(AMP_EPOLLOUT))
        /// EPOLLERR: error (always reported).
        public static let error = Events(rawValue: UInt32(AMP_EPOLLERR))
        /// EPOLLHUP: hang-up (always reported).
        public static let hangUp = Events(rawValue: UInt32(AMP_EPOLLHUP))
        /// EPOLLRDHUP: peer closed its writing end.
        public static let readHangUp = Events(rawValue: UInt32(AMP_EPOLLRDHUP))
        /// EPOLLET: edge-triggered.
        public static let edgeTriggered = Events(rawValue: UInt32(bitPattern: Int32(AMP_EPOLLET)))
    }

    /// One ready descriptor from ``wait(timeout:maxEvents:)``.
    public struct Ready: Equatable, Hashable, Sendable {
        public var fd: Int32
        public var events: Events
        public init(fd: Int32, events: Events) {
            self.fd = fd
            self.events = events
        }
    }

    /// The epoll descriptor.
    public let fileDescriptor: Int32

    /// `epoll_create1(EPOLL_CLOEXEC)`.
    public init() throws(SystemError) {
        fileDescriptor = try Sys.retrying("epoll_create1", "", Sys.epollCreate())
    }

    deinit { _ = Sys.close(fileDescriptor) }

    /// Starts watching `fd` (`epoll_ctl(EPOLL_CTL_ADD)`).
    public func add(_ fd: Int32, events: Events) throws(SystemError) {
        _ = try Sys.checked("epoll_ctl(ADD)", "fd \(fd)", Sys.epollControl(fileDescriptor, Int32(AMP_EPOLL_CTL_ADD), fd, events.rawValue))
    }

    /// Changes the events watched on `fd` (`epoll_ctl(EPOLL_CTL_MOD)`).
    public func modify(_ fd: Int32, events: Events) throws(SystemError) {
        _ = try Sys.checked("epoll_ctl(MOD)", "fd \(fd)", Sys.epollControl(fileDescriptor, Int32(AMP_EPOLL_CTL_MOD), fd, events.rawValue))
    }

    /// Stops watching `fd` (`epoll_ctl(EPOLL_CTL_DEL)`).
    public func remove(_ fd: Int32) throws(SystemError) {
        _ = try Sys.checked("epoll_ctl(DEL)", "fd \(fd)", Sys.epollControl(fileDescriptor, Int32(AMP_EPOLL_CTL_DEL), fd, 0))
    }

    /// Waits for up to `maxEvents` (1...64) ready descriptors (`epoll_wait(2)`); empty when `timeout` passes
    /// (nil waits forever). EINTR is retried with the time left; the timeout is rounded up to milliseconds.
    public func wait(timeout: Duration?, maxEvents: Int = 32) throws(SystemError) -> [Ready] {
        let capacity = max(1, min(64, maxEvents))
        let deadline = MonotonicClock.deadline(after: timeout)
        var fds = [Int32](repeating: 0, count: capacity)
        var events = [UInt32](repeating: 0, count: capacity)
        let count = try Sys.retrying("epoll_wait", "epoll \(fileDescriptor)") { () -> Int32 in
            let remaining = MonotonicClock.remaining(until: deadline)
            let milliseconds = remaining < 0 ? -1 : Int32(clamping: (remaining + 999_999) / 1_000_000)
            return fds.withUnsafeMutableBufferPointer { fdBuffer in
                events.withUnsafeMutableBufferPointer { eventBuffer in
                    guard let fdBase = fdBuffer.baseAddress, let eventBase = eventBuffer.baseAddress else { return -EINVAL }
                    return Sys.epollWait(fileDescriptor, fdBase, eventBase, Int32(capacity), milliseconds)
                }
            }
        }
        return (0..<Int(count)).map { Ready(fd: fds[$0], events: Events(rawValue: events[$0])) }
    }
}

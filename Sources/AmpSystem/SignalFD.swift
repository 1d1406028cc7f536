import CAmpShim
import Glibc

/// Signals read as data (`signalfd(2)`, non-blocking, close-on-exec), so the host's ``Epoll`` loop handles
/// SIGINT/SIGTERM/SIGCHLD like any other event instead of in an async-signal handler.
///
/// The signals must be blocked in every thread, or the kernel delivers them to a thread that has them unblocked
/// instead of queueing them for the signalfd. New threads inherit the creating thread's mask, so create this
/// (or call ``blockInCurrentThread(_:)``) on the main thread before starting any other thread.
/// ``ChildProcess`` resets the mask in spawned children.
public final class SignalFD: Sendable {
    /// The descriptor.
    public let fileDescriptor: Int32
    /// The signals it reports.
    public let signals: [Int32]

    /// Blocks `signals` in the calling thread (`pthread_sigmask(SIG_BLOCK)`) and creates a signalfd for them.
    public init(signals: [Int32]) throws(SystemError) {
        try SignalFD.blockInCurrentThread(signals)
        self.signals = signals
        fileDescriptor = try Sys.retrying(
            "signalfd", "signals \(signals)", Sys.signalfd(signals, Int32(AMP_SFD_NONBLOCK | AMP_SFD_CLOEXEC)))
    }

    deinit { _ = Sys.close(fileDescriptor) }

    /// `pthread_sigmask(SIG_BLOCK, signals)` for the calling thread.
    public static func blockInCurrentThread(_ signals: [Int32]) throws(SystemError) {
        _ = try Sys.checked("pthread_sigmask(SIG_BLOCK)", "signals \(signals)", Sys.threadSignalMask(block: true, signals))
    }

    /// `pthread_sigmask(SIG_UNBLOCK, signals)` for the calling thread.
    public static func unblockInCurrentThread(_ signals: [Int32]) throws(SystemError) {
        _ = try Sys.checked("pthread_sigmask(SIG_UNBLOCK)", "signals \(signals)", Sys.threadSignalMask(block: false, signals))
    }

    /// Reads every queued signal (`read(2)` of struct signalfd_siginfo until EAGAIN, EINTR retried) and returns
    /// their numbers in arrival order; empty when none is pending.
    public func readPending() throws(SystemError) -> [Int32] {
        var numbers: [Int32] = []
        while true {
            var number: UInt32 = 0
            let result = try Sys.retrying("read", "signalfd \(fileDescriptor)") { () -> Int32 in
                let r = Sys.signalfdRead(fileDescriptor, &number)
                return r == -EAGAIN ? 0 : r
            }
            if result == 0 { return numbers }
            numbers.append(Int32(bitPattern: number))
        }
    }
}

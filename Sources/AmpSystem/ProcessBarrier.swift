// Process-wide memory barriers across processes: membarrier(2) with MEMBARRIER_CMD_GLOBAL_EXPEDITED.
//
// A process registers once (MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED); from then on any process's
// GLOBAL_EXPEDITED call runs a full memory barrier on every CPU that is running one of its threads (an
// interrupt to each such CPU), and returns when all of them have. Threads not running at that moment pass
// through the scheduler's own barrier before they run again. One side of a shared-memory handshake can so
// pay a system call on its rare path to spare the other side a fence on its frequent one (AmpVirtio's
// NotificationBarriers). Linux 4.16 and later; a kernel without it, or a seccomp filter that forbids it,
// leaves ``isAvailable`` false and every handshake on full fences.

import CAmpShim

/// The host side and the remote runtime's use of membarrier(2): registration and the barrier itself.
public enum ProcessBarrier {
    /// Whether this process is registered for other processes' barriers and can make them itself. Queried
    /// and registered on first use (thread-safe, once per process).
    public static var isAvailable: Bool { registration }

    private static let registration: Bool = {
        let commands = Sys.membarrierQuery()
        let needed = Int32(AMP_MEMBARRIER_CMD_GLOBAL_EXPEDITED | AMP_MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED)
        guard commands >= 0, commands & needed == needed else { return false }
        return Sys.membarrierRegisterGlobal() == 0
    }()

    /// A full memory barrier on this thread and on every CPU running a thread of a registered process, done
    /// when it returns. False if ``isAvailable`` is false or the kernel refused (then nothing is ordered
    /// beyond this thread's own full fence, which is made either way).
    @discardableResult
    public static func global() -> Bool {
        guard isAvailable, Sys.membarrierGlobal() == 0 else {
            amp_fence_seq_cst()
            return false
        }
        return true
    }
}

// Shared settings of the polling both ends of a virtqueue do instead of waiting for a notification.

import CAmpShim

/// How long a side that just drained a ring keeps looking for more before going back to its wait.
public enum VirtqueuePolling {
    /// Looks (each followed by the CPU's pause hint, about a microsecond in all) that a side which just
    /// drained a ring makes for more before returning to its loop: ``VirtqueueDevice/awaitAvailable(looks:)``
    /// on the remote, ``VirtqueueDriver/awaitUsed(looks:)`` on the host. Only worth it with more than one
    /// usable CPU: with one, the peer cannot run while this side looks.
    public static let lingerLooks = 48

    /// Asks `found` up to `looks` times, with the CPU's pause hint between asks, and once more at the end:
    /// whether it said yes. The loop of both ends' lingering (``VirtqueueDevice/awaitAvailable(looks:)``,
    /// ``VirtqueueDriver/awaitUsed(looks:)``).
    @inline(__always)
    static func linger(looks: Int, until found: () -> Bool) -> Bool {
        for _ in 0..<looks {
            if found() { return true }
            amp_cpu_relax()
        }
        return found()
    }
}

// The store-load ordering of virtio's notification handshake, and how ampsoc's two ends may move it.
//
// Suppressing notifications is a handshake with a store-load order on each side. The publishing end stores
// its index (avail.idx, used.idx), then loads the peer's request (avail_event / used.flags, used_event /
// avail.flags) to decide on a kick or an interrupt. The end about to sleep stores its request, then loads
// the index again. With a full fence between the store and the load on both sides (the virtio spec's way,
// and Linux's virtio_mb), at least one of them sees the other's store: no wake-up is lost.
//
// A full fence per published message is the largest single cost of a one-way stream on x86: it waits
// until the store buffer has drained, and the index's line is one the polling peer keeps reading. ampsoc's
// own ends can move that cost to the rare side: an end that re-enables notifications only behind a
// process-wide barrier (membarrier's GLOBAL_EXPEDITED: a full fence on every CPU that runs a thread of a
// registered process, done when the call returns) lets a registered publisher order its store and load
// with a compiler barrier alone. If the publisher's load ran before the barrier, the barrier made its
// store visible before the sleeper's second look; if after, the sleeper's request was visible before it.
//
// An end says that it arms this way in a word of shared memory (ampsoc's control block); a publisher drops
// its fence only while the peer's word says so and its own process is registered. A peer that never says
// so (Linux, OpenAMP, an independent remote) keeps the spec's fences on both sides.

import CAmpShim
import Synchronization

/// Which barriers a queue end puts between its store and its load in the notification handshake (see the
/// file comment). The default, ``fences``, is the virtio spec's full fence on both paths.
public struct NotificationBarriers: @unchecked Sendable {
    /// The end's barrier when it re-enables notifications: nil for a full fence; otherwise a process-wide
    /// barrier that returns false when it could not be made.
    private let processBarrier: (@Sendable () -> Bool)?
    /// The word where the peer says it arms behind a process-wide barrier (non-zero); nil when this process
    /// does not take part in such barriers, so it must always fence.
    private let peerDeclaration: UnsafeMutablePointer<Atomic<UInt32>>?

    /// Full fences on both paths, whatever the peer does.
    public static let fences = NotificationBarriers(processBarrier: nil, peerDeclaration: nil)

    /// - Parameters:
    ///   - processBarrier: the barrier to arm with instead of a full fence (nil: a full fence). Pass one only
    ///     if this end announces it to the peer, since the peer then relies on it.
    ///   - peerDeclaration: the 32-bit word (in memory shared with the peer, 4-byte aligned) where the peer
    ///     says it arms behind a process-wide barrier; pass it only if this process is registered for the
    ///     peer's barriers. It must stay mapped while the queue is used.
    public init(processBarrier: (@Sendable () -> Bool)?, peerDeclaration: UnsafeMutableRawPointer?) {
        self.processBarrier = processBarrier
        self.peerDeclaration = peerDeclaration?.bindMemory(to: Atomic<UInt32>.self, capacity: 1)
    }

    /// Barriers for an end that arms behind `processBarrier` (a process-wide barrier its process takes part
    /// in): first writes 1 into `ownDeclaration`, the word the peer reads, with release order; the end's
    /// publishes then drop their fence while the peer's word, `peerDeclaration`, says the same. Call it
    /// before the end first arms, and use the result for every queue end of this process on that memory.
    public static func declaring(
        _ ownDeclaration: UnsafeMutableRawPointer, peerDeclaration: UnsafeMutableRawPointer,
        processBarrier: @escaping @Sendable () -> Bool
    ) -> NotificationBarriers {
        ownDeclaration.bindMemory(to: Atomic<UInt32>.self, capacity: 1).pointee.store(1, ordering: .releasing)
        return NotificationBarriers(processBarrier: processBarrier, peerDeclaration: peerDeclaration)
    }

    /// Whether a publish right now would do without a fence (the peer arms behind a process-wide barrier
    /// and this process takes part in those).
    public var publishesWithoutFence: Bool {
        guard let peerDeclaration else { return false }
        return peerDeclaration.pointee.load(ordering: .relaxed) != 0
    }

    /// Between a publish's index store and its load of the peer's notification request. A peer writes its
    /// declaration before it first arms and never clears it while it runs, so a stale 0 merely costs a fence.
    @inline(__always)
    func afterPublish() {
        if publishesWithoutFence {
            amp_compiler_barrier()
        } else {
            amp_fence_seq_cst()
        }
    }

    /// Between an arming's store of the notification request and its second look at the peer's index.
    /// Returns false when the process-wide barrier failed: the caller must then not sleep (it looks again
    /// later instead), since the peer may have skipped its kick.
    @inline(__always)
    func afterArm() -> Bool {
        guard let processBarrier else {
            amp_fence_seq_cst()
            return true
        }
        if processBarrier() { return true }
        amp_fence_seq_cst()
        return false
    }
}

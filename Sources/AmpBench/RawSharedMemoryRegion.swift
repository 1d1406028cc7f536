import AmpSystem
import Synchronization

/// A u32 control word of the raw segment as a bare pointer to `Atomic<UInt32>`: the hot loops of the raw
/// baseline use it instead of ``SharedAtomicWord`` so an access never touches a reference count.
/// Only ``RawSharedMemoryRegion`` makes these, after checking that the whole layout fits the segment.
struct RawWord {
    let pointer: UnsafeMutablePointer<Atomic<UInt32>>

    init(_ address: UnsafeMutableRawPointer) {
        pointer = address.bindMemory(to: Atomic<UInt32>.self, capacity: 1)
    }

    @inline(__always) func loadAcquiring() -> UInt32 { pointer.pointee.load(ordering: .acquiring) }
    @inline(__always) func loadRelaxed() -> UInt32 { pointer.pointee.load(ordering: .relaxed) }
    @inline(__always) func storeReleasing(_ value: UInt32) { pointer.pointee.store(value, ordering: .releasing) }
    @inline(__always) func storeRelaxed(_ value: UInt32) { pointer.pointee.store(value, ordering: .relaxed) }
}

/// Both processes' view of a ``RawSharedMemoryLayout`` segment: the two doorbells (futex kind, default spin
/// budget), the control words, and slot access. The host creates the segment; the peer opens it.
final class RawSharedMemoryRegion {
    /// The mapping (kept alive by this object).
    let segment: SharedMemorySegment
    /// Host->peer doorbell: the peer waits on it.
    let hostToPeer: Doorbell
    /// Peer->host doorbell: the host waits on it.
    let peerToHost: Doorbell
    let pingSequence: RawWord
    let stop: RawWord
    let pongSequence: RawWord
    let ringHead: RawWord
    let producerWaiting: RawWord
    let ringTail: RawWord
    let consumerWaiting: RawWord

    /// A view of `segment`; throws ERANGE naming the segment if the layout does not fit in it.
    init(segment: SharedMemorySegment) throws(SystemError) {
        try segment.checkRange(offset: 0, count: RawSharedMemoryLayout.segmentSize)
        self.segment = segment
        hostToPeer = try Doorbell(segment: segment, mailboxOffset: RawSharedMemoryLayout.hostToPeerMailbox, kind: .futex)
        peerToHost = try Doorbell(segment: segment, mailboxOffset: RawSharedMemoryLayout.peerToHostMailbox, kind: .futex)
        let base = segment.base
        pingSequence = RawWord(base + RawSharedMemoryLayout.pingSequence)
        stop = RawWord(base + RawSharedMemoryLayout.stop)
        pongSequence = RawWord(base + RawSharedMemoryLayout.pongSequence)
        ringHead = RawWord(base + RawSharedMemoryLayout.ringHead)
        producerWaiting = RawWord(base + RawSharedMemoryLayout.producerWaiting)
        ringTail = RawWord(base + RawSharedMemoryLayout.ringTail)
        consumerWaiting = RawWord(base + RawSharedMemoryLayout.consumerWaiting)
    }

    /// Copies `count` bytes (at most ``RawSharedMemoryLayout/maximumPayload``; the caller checked) from
    /// `source` into the slot at `slotOffset` and sets its length word. Publishing is the caller's job.
    @inline(__always)
    func writeMessage(slotOffset: Int, from source: UnsafeRawPointer, count: Int) {
        let slot = segment.base + slotOffset
        (slot + RawSharedMemoryLayout.slotPayloadOffset).copyMemory(from: source, byteCount: count)
        RawWord(slot + RawSharedMemoryLayout.slotLengthOffset).storeRelaxed(UInt32(truncatingIfNeeded: count))
    }

    /// Copies the message in the slot at `slotOffset` into `destination` (room for a full payload) and returns
    /// its length, or nil when the length word exceeds ``RawSharedMemoryLayout/maximumPayload``.
    @inline(__always)
    func readMessage(slotOffset: Int, into destination: UnsafeMutableRawPointer) -> Int? {
        let slot = segment.base + slotOffset
        let length = Int(RawWord(slot + RawSharedMemoryLayout.slotLengthOffset).loadRelaxed())
        guard length <= RawSharedMemoryLayout.maximumPayload else { return nil }
        destination.copyMemory(from: slot + RawSharedMemoryLayout.slotPayloadOffset, byteCount: length)
        return length
    }
}

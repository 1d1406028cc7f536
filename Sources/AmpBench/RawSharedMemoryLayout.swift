import AmpSystem

/// Layout of the raw shared-memory baseline's segment: a mailbox pair (the project's ``Doorbell``), ping-pong
/// slots, and a single-producer single-consumer ring of 512-byte slots. The host (the `ampsoc bench` process)
/// creates it; the peer (`ampsoc-bench-peer raw-shm`) maps it by name.
///
/// ```
/// offset   size  field            written by  meaning
///      0     64  mailbox h->p     both        Doorbell block host->peer: id 0 = ping posted, id 1 = ring data
///     64     64  mailbox p->h     both        Doorbell block peer->host: id 0 = pong posted, id 1 = ring space
///    128      4  pingSequence     host        incremented once the ping slot holds a new message
///    132      4  stop             host        1 = the peer exits (the host then rings wake on h->p)
///    192      4  pongSequence     peer        set to pingSequence once the pong slot holds its echo
///    256      4  ringHead         host        messages produced so far (free-running, wraps at 2^32)
///    260      4  producerWaiting  host        1 while the host waits for ring space (or for the ring to drain)
///    320      4  ringTail         peer        messages consumed so far (free-running)
///    324      4  consumerWaiting  peer        1 while the peer waits for ring data
///    384    512  ping slot        host        one message, host->peer
///    896    512  pong slot        peer        one message, peer->host
///   1536  256*512 ring slots      host        message i lives in slot i % 256
/// ```
/// Every slot: u32 `length` at +0 (payload bytes, 0...496), 12 reserved bytes, the payload at +16 (the 16
/// bytes stand where rpmsg puts its header, so the baseline copies what rpmsg would). Control words and slot
/// lengths are native-endian u32s accessed only atomically (both processes run on the same machine); each
/// writer's words sit on their own 64-byte cache line.
///
/// Ring protocol: the ring is empty when head == tail and full when head - tail == 256. The producer fills
/// slot `head % 256`, then stores head+1 (release); the consumer reads head (acquire), copies the slot out,
/// then stores tail+1 (release). The doorbell is used only around sleeping: a side about to wait sets its
/// `...Waiting` word, issues a sequentially consistent fence, and re-checks the ring before waiting; the other
/// side, after publishing, fences and rings only if it sees that word set. (Either the waiter's re-check sees
/// the publication or the publisher sees the waiting word.)
public enum RawSharedMemoryLayout {
    /// Offset of the host->peer mailbox block.
    public static let hostToPeerMailbox = 0
    /// Offset of the peer->host mailbox block.
    public static let peerToHostMailbox = 64
    /// Offset of the ping sequence word.
    public static let pingSequence = 128
    /// Offset of the stop word.
    public static let stop = 132
    /// Offset of the pong sequence word.
    public static let pongSequence = 192
    /// Offset of the ring head (producer index).
    public static let ringHead = 256
    /// Offset of the producer's waiting flag.
    public static let producerWaiting = 260
    /// Offset of the ring tail (consumer index).
    public static let ringTail = 320
    /// Offset of the consumer's waiting flag.
    public static let consumerWaiting = 324
    /// Offset of the ping slot.
    public static let pingSlot = 384
    /// Offset of the pong slot.
    public static let pongSlot = 896
    /// Offset of ring slot 0.
    public static let ringSlots = 1536

    /// Size of every slot.
    public static let slotSize = 512
    /// Offset of the length word inside a slot.
    public static let slotLengthOffset = 0
    /// Offset of the payload inside a slot.
    public static let slotPayloadOffset = 16
    /// Largest payload of a slot.
    public static let maximumPayload = slotSize - slotPayloadOffset
    /// Number of ring slots (a power of two, so `index % ringSlotCount` survives the u32 wrap-around).
    public static let ringSlotCount = 256
    /// Size of the whole segment.
    public static let segmentSize = ringSlots + ringSlotCount * slotSize

    /// Notify id of "ping posted" (host->peer) and "pong posted" (peer->host).
    public static let messageNotifyID: UInt32 = 0
    /// Notify id of "ring data" (host->peer) and "ring space" (peer->host).
    public static let ringNotifyID: UInt32 = 1

    /// Offset of ring slot `index` (any free-running index).
    public static func ringSlot(_ index: UInt32) -> Int {
        ringSlots + Int(index % UInt32(ringSlotCount)) * slotSize
    }
}

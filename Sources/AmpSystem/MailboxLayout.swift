/// Layout of an emulated mailbox in shared memory: one 64-byte block per direction (host->remote and
/// remote->host), so the two directions never share a cache line.
///
/// ```
/// offset  size  field     written by         meaning
///      0     4  pending   ringer (OR),       bitmask of notify ids rung since the waiter last took them:
///                         waiter (exchange)  id n < 31 sets bit n; ids >= 31 set bit 31 ("look at everything")
///      4     4  sequence  ringer             incremented on every ring; the futex word waiters sleep on
///      8     4  sleepers  waiter             how many waiters are (about to be) asleep; ringers skip the
///                                            wake syscall while it is 0
///     12    52  reserved                     zero
/// ```
/// All fields are native-endian u32 words accessed only atomically (both ends run on the same machine).
/// Offsets are relative to the mailbox block, which must be 64-byte aligned in the segment.
public enum MailboxLayout {
    /// Size of one mailbox block.
    public static let size = 64
    /// Required alignment of a block's offset in the segment.
    public static let alignment = 64
    /// Offset of the pending-ids bitmask.
    public static let pendingOffset = 0
    /// Offset of the ring sequence (futex word).
    public static let sequenceOffset = 4
    /// Offset of the sleeper count.
    public static let sleepersOffset = 8

    /// A pair of mailboxes (host->remote at +0, remote->host at +64) occupies this many bytes.
    public static let pairSize = 2 * size
    /// Offset of the host->remote block inside a pair.
    public static let hostToRemoteOffset = 0
    /// Offset of the remote->host block inside a pair.
    public static let remoteToHostOffset = size

    /// The pending bit that ids 31 and above share; also what ``Doorbell/wake()`` rings.
    public static let overflowBit: UInt32 = 1 << 31

    /// The pending bit for `notifyID`.
    public static func bit(forNotifyID notifyID: UInt32) -> UInt32 {
        notifyID < 31 ? UInt32(1) << notifyID : overflowBit
    }

    /// Zeroes the mailbox block at `offset` (before a remote starts; no one may be using it).
    public static func reset(in segment: SharedMemorySegment, at offset: Int) throws(SystemError) {
        try checkPlacement(in: segment, at: offset)
        try segment.zero(at: offset, count: size)
    }

    /// Throws unless a whole, 64-byte-aligned block fits at `offset`.
    static func checkPlacement(in segment: SharedMemorySegment, at offset: Int) throws(SystemError) {
        try segment.checkRange(offset: offset, count: size)
        guard offset % alignment == 0 else {
            throw SystemError(call: "mailbox (offset \(offset) is not 64-byte aligned)", subject: segment.name, code: .invalidArgument)
        }
    }
}

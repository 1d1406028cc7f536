// Arithmetic on free-running split-ring indices. `avail.idx` and `used.idx` are u16 counters that only
// ever increase and wrap from 65535 to 0; every comparison between them is a wrapping u16 difference.
//
// Notification suppression (VIRTIO_RING_F_EVENT_IDX): the other side publishes the index at which it
// wants the next notification (`used_event` in the available ring for the driver, `avail_event` in the
// used ring for the device). After moving an index from `old` to `new`, a notification is needed exactly
// when the published event index lies in the half-open window [old, new), i.e. the move crossed it:
//     (u16)(new - event - 1) < (u16)(new - old)

/// Wrapping arithmetic on free-running u16 ring indices.
public enum VringIndex {
    /// Whether moving a ring index from `old` to `new` passed the other side's `event` index, so a
    /// notification (kick or interrupt) is due. All arithmetic wraps at 65536.
    public static func needEvent(event: UInt16, new: UInt16, old: UInt16) -> Bool {
        (new &- event &- 1) < (new &- old)
    }

    /// Whether an event index published as "no notification wanted" still serves that purpose for a side
    /// whose consumed index is now `index`: `event` is 1...32768 entries behind it. The peer's index runs at
    /// most num (<= 32768) entries ahead of `index`, so it cannot cross such an event index until this side
    /// has consumed another 32768 entries at least; until then the field need not be written again.
    public static func isSuppressedBehind(event: UInt16, index: UInt16) -> Bool {
        let behind = index &- event
        return behind >= 1 && behind <= 32768
    }

    /// Number of entries between two free-running indices (`to - from`, wrapping), e.g. the number of used
    /// entries not yet consumed when `from` is the last seen index and `to` is the current `used.idx`.
    public static func distance(from: UInt16, to: UInt16) -> UInt16 {
        to &- from
    }
}

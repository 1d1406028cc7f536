// Where an SMD edge lives in a remote's shared-memory segment: the SMEM region (header, table of contents,
// items) and, outside it, the 32-bit word emulating hardware spinlock 3. The host, as the boot loader,
// prepares both before the remote runs (`SmdEdgePlacement.prepare(in:)`); host and remote then build their
// `SmemHeap` over the same placement with different lock owner tokens.

import AmpSMD
import AmpSystem
import AmpWire

/// The SMEM region and spinlock word of one SMD edge inside a segment.
public struct SmdEdgePlacement: Sendable, Hashable {
    /// Spinlock owner token the host (apps, host id 0) writes while it holds the SMEM lock.
    public static let hostSpinlockToken: UInt32 = 1

    /// Offset of the SMEM region in the segment (8-byte aligned).
    public var smemOffset: Int
    /// Size of the SMEM region (at least the 0x20D0-byte header).
    public var smemSize: Int
    /// Offset of the spinlock word (4-byte aligned, outside the SMEM region).
    public var spinlockOffset: Int

    public init(smemOffset: Int, smemSize: Int, spinlockOffset: Int) {
        self.smemOffset = smemOffset
        self.smemSize = smemSize
        self.spinlockOffset = spinlockOffset
    }

    /// Checks the placement against `segment`.
    ///
    /// - Throws: `SmdError.invalidArgument` naming the field at fault (alignment, bounds, overlap, size).
    public func validate(in segment: SharedMemorySegment) throws(SmdError) {
        guard smemOffset >= 0, smemOffset % 8 == 0, smemSize >= SmemLayout.headerSize, smemSize <= Int(UInt32.max),
            smemOffset <= segment.size, smemSize <= segment.size - smemOffset
        else {
            throw SmdError(
                .invalidArgument, field: "smem",
                "SMEM region at \(smemOffset) of \(smemSize) bytes must be 8-byte aligned, hold the "
                    + "\(SmemLayout.headerSize)-byte header and lie inside the \(segment.size)-byte segment \(segment.name)")
        }
        guard spinlockOffset >= 0, spinlockOffset % 4 == 0, spinlockOffset <= segment.size - 4 else {
            throw SmdError(
                .invalidArgument, field: "spinlock",
                "spinlock word at \(spinlockOffset) must be 4-byte aligned inside the \(segment.size)-byte segment")
        }
        guard spinlockOffset + 4 <= smemOffset || spinlockOffset >= smemOffset + smemSize else {
            throw SmdError(.invalidArgument, field: "spinlock", "spinlock word at \(spinlockOffset) lies inside the SMEM region")
        }
    }

    /// The host's heap over this placement (lock token ``hostSpinlockToken``).
    public func hostHeap(in segment: SharedMemorySegment) throws(SmdError) -> SmemHeap {
        try heap(in: segment, owner: Self.hostSpinlockToken)
    }

    /// A heap over this placement whose lock is taken with `owner` (the remote uses its own token).
    public func heap(in segment: SharedMemorySegment, owner: UInt32) throws(SmdError) -> SmemHeap {
        try validate(in: segment)
        let region = try SmemRegion(base: segment.base + smemOffset, size: smemSize)
        let lock = try SmemSpinlock(word: segment.base + spinlockOffset, owner: owner)
        return try SmemHeap(region: region, lock: lock)
    }

    /// The boot loader's step, before the remote runs: zeroes the spinlock word and the SMEM region, then
    /// writes a fresh SMEM header (`SmemHeap.initialize`). Must not run while a remote uses the segment.
    ///
    /// - Throws: `SmdError.invalidArgument` when the placement does not fit the segment.
    public func prepare(in segment: SharedMemorySegment) throws(SmdError) {
        let heap = try hostHeap(in: segment)
        do {
            try segment.zero(at: spinlockOffset, count: 4)
            try segment.zero(at: smemOffset, count: smemSize)
        } catch {
            throw SmdError(.invalidArgument, field: "smem", "cannot clear the SMEM region: \(error)")
        }
        heap.initialize()
    }
}

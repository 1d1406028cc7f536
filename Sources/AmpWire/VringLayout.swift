// Memory layout of a legacy virtio split ring ("vring"), as remoteproc lays it out in a carveout.
//
// One contiguous block, all offsets from its start:
//
//   descriptor table  at 0                         num * 16 bytes  (VringDescriptor)
//   available ring    at 16*num                    flags u16, idx u16, ring[num] u16, used_event u16
//   (padding up to the next multiple of `align`)
//   used ring         at align_up(16*num + 2*(3+num), align)
//                                                  flags u16, idx u16, ring[num] {id u32, len u32}, avail_event u16
//
// total size = used offset + 6 + 8*num; remoteproc allocates it rounded up to whole pages.
// Example: num 256, align 4096 -> used ring at 8192, size 10246, allocation 12288.
// Ring indices (avail.idx, used.idx) run freely over UInt16; the slot of an index is idx % num, which is
// why num must be a power of two (it divides 65536). The byte order of every field is the link's byte
// order (legacy virtio: native to the remote core); this type only computes offsets.

/// Offsets and sizes of a legacy split virtqueue with `num` descriptors whose used ring is aligned to
/// `align` bytes. All offsets are from the start of the ring memory (the descriptor table).
///
/// Construction validates both parameters, so every offset below is computed without overflow.
public struct VringLayout: Sendable, Hashable, CustomStringConvertible {
    /// Largest number of descriptors a split ring may have (virtio: queue size at most 32768).
    public static let maxNum = 32768
    /// Largest alignment accepted: the wire field (`fw_rsc_vdev_vring.align`) is a u32, so 2^31.
    public static let maxAlign = 1 << 31

    /// Number of descriptors (and of entries in each ring).
    public let num: Int
    /// Alignment of the used ring, in bytes.
    public let align: Int

    /// Offset of the descriptor table (always 0).
    public let descTableOffset: Int
    /// Offset of the available ring header (`avail.flags`).
    public let availOffset: Int
    /// Offset of `avail.idx`.
    public let availIdxOffset: Int
    /// Offset of `avail.ring[0]`.
    public let availRingOffset: Int
    /// Offset of `used_event` (the u16 after `avail.ring[num-1]`), used with VIRTIO_RING_F_EVENT_IDX.
    public let usedEventOffset: Int
    /// Offset of the used ring header (`used.flags`), aligned to `align`.
    public let usedOffset: Int
    /// Offset of `used.idx`.
    public let usedIdxOffset: Int
    /// Offset of `used.ring[0]`.
    public let usedRingOffset: Int
    /// Offset of `avail_event` (the u16 after `used.ring[num-1]`), used with VIRTIO_RING_F_EVENT_IDX.
    public let availEventOffset: Int
    /// Bytes from the descriptor table to the end of `avail_event` (the kernel's `vring_size`).
    public let totalSize: Int

    /// Validates the parameters and computes the layout.
    ///
    /// - Throws: `WireError` with field `vring.num` when `num` is 0, not a power of two or above 32768, and
    ///   field `vring.align` when `align` is 0, not a power of two or above 2^31. The offset of these errors
    ///   is 0: a caller that read the values from a table can rename the field and `shift` the offset.
    public init(num: Int, align: Int) throws(WireError) {
        guard num > 0, num & (num - 1) == 0, num <= Self.maxNum else {
            throw WireError(
                field: "vring.num", offset: 0,
                reason: "\(num) is not a power of two between 1 and \(Self.maxNum)")
        }
        guard align > 0, align & (align - 1) == 0, align <= Self.maxAlign else {
            throw WireError(
                field: "vring.align", offset: 0,
                reason: "\(align) is not a power of two between 1 and \(Self.maxAlign)")
        }
        self.num = num
        self.align = align
        // With num <= 2^15 and align <= 2^31 every value below stays under 2^33; the checked helpers
        // still refuse to wrap so the bound is enforced rather than assumed.
        descTableOffset = 0
        availOffset = try Self.checked(VringDescriptor.size, times: num)
        availIdxOffset = try Self.checked(availOffset, plus: 2)
        availRingOffset = try Self.checked(availOffset, plus: 4)
        usedEventOffset = try Self.checked(availRingOffset, plus: Self.checked(2, times: num))
        let availEnd = try Self.checked(usedEventOffset, plus: 2)
        usedOffset = try Self.alignUp(availEnd, to: align, field: "vring.align")
        usedIdxOffset = try Self.checked(usedOffset, plus: 2)
        usedRingOffset = try Self.checked(usedOffset, plus: 4)
        availEventOffset = try Self.checked(usedRingOffset, plus: Self.checked(VringUsedElement.size, times: num))
        totalSize = try Self.checked(availEventOffset, plus: 2)
    }

    /// `totalSize` rounded up to a multiple of `pageSize` (remoteproc's `PAGE_ALIGN(vring_size(...))`).
    ///
    /// - Throws: `WireError` (field `vring.page_size`) when `pageSize` is not a positive power of two or
    ///   the rounded size does not fit in `Int`.
    public func allocationSize(pageSize: Int = 4096) throws(WireError) -> Int {
        guard pageSize > 0, pageSize & (pageSize - 1) == 0 else {
            throw WireError(field: "vring.page_size", offset: 0, reason: "\(pageSize) is not a positive power of two")
        }
        return try Self.alignUp(totalSize, to: pageSize, field: "vring.page_size")
    }

    /// The ring slot of a free-running ring index (`index % num`).
    public func slot(of index: UInt16) -> Int {
        Int(index) & (num - 1)
    }

    /// Offset of descriptor `index` in the descriptor table.
    ///
    /// - Throws: `WireError` (field `vring_desc`) when `index` is not below `num`, for indices read from
    ///   the rings (`avail.ring[]`, `used.ring[].id`, `desc.next`), which the other side controls.
    public func descriptorOffset(_ index: Int) throws(WireError) -> Int {
        guard index >= 0, index < num else {
            throw WireError(field: "vring_desc", offset: descTableOffset, reason: "descriptor index \(index) is not below num \(num)")
        }
        return descTableOffset + index * VringDescriptor.size
    }

    /// Offset of the `avail.ring` entry that free-running index `index` refers to.
    public func availEntryOffset(forIndex index: UInt16) -> Int {
        availRingOffset + 2 * slot(of: index)
    }

    /// Offset of the `used.ring` element that free-running index `index` refers to.
    public func usedEntryOffset(forIndex index: UInt16) -> Int {
        usedRingOffset + VringUsedElement.size * slot(of: index)
    }

    public var description: String {
        "vring(num \(num), align \(align)): avail @\(availOffset), used @\(usedOffset), size \(totalSize)"
    }

    // MARK: Overflow-checked arithmetic

    private static func checked(_ lhs: Int, plus rhs: Int) throws(WireError) -> Int {
        let (sum, overflow) = lhs.addingReportingOverflow(rhs)
        guard !overflow else { throw WireError(field: "vring", offset: 0, reason: "size overflows") }
        return sum
    }

    private static func checked(_ lhs: Int, times rhs: Int) throws(WireError) -> Int {
        let (product, overflow) = lhs.multipliedReportingOverflow(by: rhs)
        guard !overflow else { throw WireError(field: "vring", offset: 0, reason: "size overflows") }
        return product
    }

    /// Rounds `value` up to a multiple of the power of two `alignment`.
    private static func alignUp(_ value: Int, to alignment: Int, field: String) throws(WireError) -> Int {
        let (padded, overflow) = value.addingReportingOverflow(alignment - 1)
        guard !overflow else {
            throw WireError(field: field, offset: 0, reason: "rounding \(value) up to \(alignment) overflows")
        }
        return padded & ~(alignment - 1)
    }
}

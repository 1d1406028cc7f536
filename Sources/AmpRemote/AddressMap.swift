import AmpWire

/// Device-address translation through the memory regions the host published in the control block, as an
/// IOMMU would do it: a device address `da` in region r is at segment offset `r.segmentOffset + (da - r.da)`.
///
/// The regions were validated when attaching (``AttachLayout``) to lie inside the mapping, so every pointer
/// this returns is inside the mapping for all `count` bytes.
struct AddressMap {
    /// Start of the segment mapping.
    let base: UnsafeMutableRawPointer
    /// The validated regions, in table order (the first match wins).
    let regions: [MemoryRegionRecord]

    /// The segment offset of `count` bytes at `da`, or nil unless all of them lie inside one region.
    func segmentOffset(da: UInt32, count: Int) -> Int? {
        guard count >= 0, let length = UInt32(exactly: count) else { return nil }
        for region in regions where region.contains(da: da, count: length) {
            return Int(region.segmentOffset) + Int(da - region.da)
        }
        return nil
    }

    /// A pointer to `count` bytes at device address `da`, or nil unless they lie inside one region.
    func translate(da: UInt32, count: Int) -> UnsafeMutableRawPointer? {
        segmentOffset(da: da, count: count).map { base + $0 }
    }

    /// The region holding `da`, if any (for messages).
    func region(containing da: UInt32) -> MemoryRegionRecord? {
        regions.first { $0.contains(da: da, count: 1) }
    }
}

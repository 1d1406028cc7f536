import AmpProfiles

/// Hands out device-address ranges inside a ``RemoteMemoryMap``: the carveout pool from which the host
/// allocates carveouts, vrings, rpmsg buffers and the loaded table.
///
/// Two kinds of occupied ranges:
/// - **claims**: ranges owned by a resource (an allocation, or a fixed-address carveout or vring). A fixed
///   claim that overlaps an earlier claim is refused, naming both owners.
/// - **reservations**: ranges the pool should not hand out but that fixed claims may cover, such as the
///   firmware's own loaded segments, its trace buffers or the section holding its resource table (a
///   firmware's fixed "text" carveout legitimately contains its code).
///
/// ``allocate(owner:length:)`` is first fit: carveout regions in map order, each scanned from its lowest
/// address, start aligned to 4096 bytes, length rounded up to whole pages, skipping claims and reservations.
public struct MemoryAllocator: Sendable {
    /// An occupied device-address range and who holds it.
    public struct Range: Sendable, Equatable {
        /// Who holds it, as it appears in errors, e.g. `carveout 'text' (entry 2 @ 0x30)`.
        public var owner: String
        public var da: UInt64
        public var length: UInt64
        /// One past the last address.
        public var end: UInt64 { da + length }

        public init(owner: String, da: UInt64, length: UInt64) {
            self.owner = owner
            self.da = da
            self.length = length
        }

        func overlaps(_ other: Range) -> Bool { da < other.end && other.da < end }
    }

    /// Why a fixed claim was refused.
    public enum ClaimFailure: Error, Equatable, Sendable {
        /// The range is in no region at all.
        case outsideMap
        /// The range starts in `region` but runs past its end (or starts before it).
        case crossesRegion(RemoteMemoryMap.Region)
        /// The range is in `region`, whose kind is not allowed for this claim.
        case wrongKind(RemoteMemoryMap.Region)
        /// The range overlaps an earlier claim.
        case overlaps(Range)
    }

    /// The map allocations come from.
    public let map: RemoteMemoryMap
    /// Claims in the order they were made.
    public private(set) var claims: [Range] = []
    /// Reservations in the order they were made.
    public private(set) var reservations: [Range] = []
    /// Alignment of allocated start addresses and granularity of allocated lengths.
    public static let alignment: UInt64 = UInt64(RemoteMemoryMap.pageSize)

    public init(map: RemoteMemoryMap) {
        self.map = map
    }

    /// Marks [da, da + length) as not to be allocated; fixed claims may still cover it. Parts outside the
    /// map are ignored.
    public mutating func reserve(owner: String, da: UInt64, length: UInt64) {
        guard length > 0 else { return }
        reservations.append(Range(owner: owner, da: da, length: min(length, UInt64.max - da)))
    }

    /// Claims a fixed range: it must lie inside one region of an allowed kind and overlap no earlier claim.
    @discardableResult
    public mutating func claim(
        owner: String, da: UInt64, length: UInt64, kinds: Set<MemoryRegionProfile.Kind>
    ) throws(ClaimFailure) -> (range: Range, region: RemoteMemoryMap.Region) {
        guard let region = map.region(containing: da, count: length) else {
            if let partial = map.regions(overlapping: da, count: length).first { throw .crossesRegion(partial) }
            throw .outsideMap
        }
        guard kinds.contains(region.kind) else { throw .wrongKind(region) }
        let range = Range(owner: owner, da: da, length: length)
        if let clash = claims.first(where: { $0.overlaps(range) }) { throw .overlaps(clash) }
        claims.append(range)
        return (range, region)
    }

    /// Allocates `length` bytes (rounded up to whole pages) at the first page-aligned free address of the
    /// carveout regions, or returns nil when no gap is large enough.
    public mutating func allocate(owner: String, length: UInt64) -> (range: Range, region: RemoteMemoryMap.Region)? {
        guard length > 0, length <= UInt64(UInt32.max) else { return nil }
        let rounded = Self.alignUp(length)
        for region in map.regions(of: .carveout) {
            if let start = firstFit(rounded, in: region) {
                let range = Range(owner: owner, da: start, length: rounded)
                claims.append(range)
                return (range, region)
            }
        }
        return nil
    }

    /// The largest page-aligned free block in the carveout regions and the region holding it (nil when the
    /// map has no carveout region), for "too small" errors.
    public func largestFreeBlock() -> (length: UInt64, region: RemoteMemoryMap.Region?) {
        var best: (length: UInt64, region: RemoteMemoryMap.Region?) = (0, nil)
        for region in map.regions(of: .carveout) {
            let largest = freeGaps(in: region).map(\.length).max() ?? 0
            if best.region == nil || largest > best.length { best = (largest, region) }
        }
        return best
    }

    // MARK: Gaps

    /// Page-aligned free gaps of `region`, lowest first.
    private func freeGaps(in region: RemoteMemoryMap.Region) -> [(start: UInt64, length: UInt64)] {
        let regionStart = UInt64(region.da)
        let regionEnd = region.daEnd
        let blocked = (claims + reservations)
            .filter { $0.da < regionEnd && $0.end > regionStart }
            .sorted { $0.da < $1.da }
        var gaps = [(start: UInt64, length: UInt64)]()
        var cursor = Self.alignUp(regionStart)
        for block in blocked {
            if block.da > cursor { gaps.append((cursor, block.da - cursor)) }
            cursor = max(cursor, Self.alignUp(block.end))
        }
        if regionEnd > cursor { gaps.append((cursor, regionEnd - cursor)) }
        return gaps
    }

    private func firstFit(_ length: UInt64, in region: RemoteMemoryMap.Region) -> UInt64? {
        freeGaps(in: region).first { $0.length >= length }?.start
    }

    /// `value` rounded up to a multiple of ``alignment`` (saturating near the top of the address space).
    static func alignUp(_ value: UInt64) -> UInt64 {
        let (padded, overflow) = value.addingReportingOverflow(alignment - 1)
        return overflow ? UInt64.max & ~(alignment - 1) : padded & ~(alignment - 1)
    }
}

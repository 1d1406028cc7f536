import AmpProfiles
import AmpWire

/// A remote processor's memory map placed in its shared-memory segment (docs/shared-memory.md):
///
///   segment offset 0x0000   control block (one 4096-byte page, AmpWire's ControlBlock)
///   segment offset 0x1000   region 0, then each further region at the next page-aligned offset, in profile order
///
/// A device address `da` in region r lives at segment offset `r.segmentOffset + (da - r.da)`. The map is
/// built from the profile's `memory` list and validated: 32 regions at most (the control block's table),
/// names of 1 to 7 bytes, non-empty regions that end within the 32-bit device address space and do not
/// overlap each other (so a device address has one meaning).
public struct RemoteMemoryMap: Sendable, Equatable {
    /// Page size for region placement and allocations.
    public static let pageSize = 4096

    /// One region and where it is in the segment.
    public struct Region: Sendable, Equatable {
        /// Position in the profile's memory list (and in the control block's `regions[]`).
        public var index: Int
        public var name: String
        public var kind: MemoryRegionProfile.Kind
        /// First device address.
        public var da: UInt32
        /// Physical address of `da` (the host's view).
        public var pa: UInt32
        public var size: UInt32
        /// Segment offset of `da`, page aligned.
        public var segmentOffset: Int

        /// One past the last device address.
        public var daEnd: UInt64 { UInt64(da) + UInt64(size) }

        /// Whether `count` bytes at `address` lie inside the region (overflow-safe; `count` 0 needs
        /// `address` itself inside).
        public func contains(da address: UInt64, count: UInt64) -> Bool {
            guard address >= UInt64(da), address < daEnd else { return false }
            return count <= daEnd - address
        }

        /// Whether [address, address + count) shares at least one byte with the region.
        public func overlaps(da address: UInt64, count: UInt64) -> Bool {
            let (end, overflow) = address.addingReportingOverflow(count)
            let rangeEnd = overflow ? UInt64.max : end
            return count > 0 && address < daEnd && rangeEnd > UInt64(da)
        }

        /// The segment offset of `address`, which the caller has checked lies in the region.
        public func segmentOffset(of address: UInt64) -> Int { segmentOffset + Int(address - UInt64(da)) }

        /// The physical address of `address`, which the caller has checked lies in the region.
        public func pa(of address: UInt64) -> UInt32 { pa &+ UInt32(truncatingIfNeeded: address - UInt64(da)) }

        /// The record the control block publishes.
        public var record: MemoryRegionRecord {
            MemoryRegionRecord(
                da: da, pa: pa, size: size, kind: recordKind,
                segmentOffset: UInt64(segmentOffset), name: name)
        }

        /// The control block's kind of this region.
        var recordKind: MemoryRegionRecord.Kind {
            switch kind {
            case .carveout: .carveout
            case .devmem: .devmem
            case .smem: .smem
            }
        }

        /// "region 'ram' (da 0x10000000 len 0x100000)".
        public var label: String { "region '\(name)' (da \(rprocHex(da)) len \(rprocHex(size)))" }
    }

    /// The regions in profile order.
    public let regions: [Region]
    /// Bytes the segment needs: the control block plus every region rounded up to whole pages.
    public let segmentSize: Int

    /// Places `regions` after the control block and validates them (see the type's comment).
    ///
    /// - Throws: EINVAL naming the region at fault.
    public init(regions profiles: [MemoryRegionProfile], rproc: String) throws(RemoteprocError) {
        guard profiles.count <= ControlBlock.maxRegions else {
            throw RemoteprocError.memory(
                rproc: rproc, reason: "memory map has \(profiles.count) regions; the control block holds at most \(ControlBlock.maxRegions)")
        }
        var placed = [Region]()
        var cursor = ControlBlock.size
        for (index, profile) in profiles.enumerated() {
            let what = "memory map region \(index) '\(profile.name)'"
            let nameLength = profile.name.utf8.count
            guard nameLength >= 1, nameLength < MemoryRegionRecord.nameCapacity else {
                throw RemoteprocError.memory(
                    rproc: rproc, reason: "\(what): name must be 1 to \(MemoryRegionRecord.nameCapacity - 1) bytes, is \(nameLength)")
            }
            guard profile.size > 0 else { throw RemoteprocError.memory(rproc: rproc, reason: "\(what): size is 0") }
            guard UInt64(profile.da) + UInt64(profile.size) <= 1 << 32 else {
                throw RemoteprocError.memory(
                    rproc: rproc, reason: "\(what): da \(rprocHex(profile.da)) + size \(rprocHex(profile.size)) is beyond the 32-bit device address space")
            }
            guard UInt64(profile.pa) + UInt64(profile.size) <= 1 << 32 else {
                throw RemoteprocError.memory(
                    rproc: rproc, reason: "\(what): pa \(rprocHex(profile.pa)) + size \(rprocHex(profile.size)) is beyond the 32-bit physical address space")
            }
            let region = Region(
                index: index, name: profile.name, kind: profile.kind, da: profile.da, pa: profile.pa, size: profile.size,
                segmentOffset: cursor)
            if let earlier = placed.first(where: { $0.name == profile.name }) {
                throw RemoteprocError.memory(rproc: rproc, reason: "\(what): name already used by region \(earlier.index)")
            }
            if let clash = placed.first(where: { $0.overlaps(da: UInt64(region.da), count: UInt64(region.size)) }) {
                throw RemoteprocError.memory(
                    rproc: rproc, reason: "\(what) (da \(rprocHex(region.da)) len \(rprocHex(region.size))) overlaps \(clash.label)")
            }
            placed.append(region)
            cursor += Self.pageAlign(Int(profile.size))
        }
        self.regions = placed
        self.segmentSize = cursor
    }

    // MARK: Lookup

    /// The region holding all `count` bytes at device address `da`, or nil.
    public func region(containing da: UInt64, count: UInt64) -> Region? {
        regions.first { $0.contains(da: da, count: count) }
    }

    /// The segment offset of `count` bytes at device address `da`, or nil unless they lie in one region.
    public func translate(da: UInt64, count: UInt64) -> Int? {
        region(containing: da, count: count).map { $0.segmentOffset(of: da) }
    }

    /// 32-bit convenience for ``translate(da:count:)``.
    public func translate(da: UInt32, count: UInt32) -> Int? {
        translate(da: UInt64(da), count: UInt64(count))
    }

    /// The regions sharing at least one byte with [da, da + count), in map order.
    public func regions(overlapping da: UInt64, count: UInt64) -> [Region] {
        regions.filter { $0.overlaps(da: da, count: count) }
    }

    /// The regions of one kind, in map order.
    public func regions(of kind: MemoryRegionProfile.Kind) -> [Region] {
        regions.filter { $0.kind == kind }
    }

    /// The region named `name`.
    public func region(named name: String) -> Region? {
        regions.first { $0.name == name }
    }

    /// `value` rounded up to a whole number of pages.
    public static func pageAlign(_ value: Int) -> Int {
        (value + pageSize - 1) / pageSize * pageSize
    }
}

// The SMEM global heap over live shared memory (layout in AmpWire's SmemLayout/SmemHeader).
//
// Roles: the host plays the boot loader and calls `initialize()` before the remote starts; the remote
// allocates items (`allocate`), the host only finds them (`item`). Allocation follows Linux's smem.c for the
// global heap: items below 8 are the boot loader's, items from 512 on do not exist, an allocated item is never
// allocated twice (EEXIST), sizes are rounded up to 8, space runs out with ENOMEM; the entry's offset and size
// are written first and `allocated` last, then free_offset and available move on. Allocation holds the SMEM
// spinlock (`SmemSpinlock`, whose word lives outside the byte-exact header).
//
// Everything read back is untrusted: an item's offset and size must lie inside the region after the header
// (computed without overflow), `allocated` must be 0 or 1, aux_base must select the only region, and the
// header's free space must lie inside the region. Violations are `protocolViolation` errors naming the field.

import AmpWire

/// Where an SMEM item lives: byte offset from the start of the region and size.
public struct SmemItem: Sendable, Hashable {
    /// Item number (0..<512).
    public let number: Int
    /// Offset of the item's first byte from the start of the region.
    public let offset: Int
    /// Item size in bytes (a multiple of 8 for items allocated by the heap).
    public let size: Int

    public init(number: Int, offset: Int, size: Int) {
        self.number = number
        self.offset = offset
        self.size = size
    }
}

/// The SMEM global heap in `region`, guarded by `lock`.
public struct SmemHeap: Sendable {
    /// The whole SMEM region; the header sits at its start.
    public let region: SmemRegion
    /// The emulated hardware spinlock 3.
    public let lock: SmemSpinlock

    /// A heap over `region`.
    ///
    /// - Throws: `SmdError.invalidArgument` when the region is smaller than the 0x20D0-byte header or larger
    ///   than 32-bit offsets can address.
    public init(region: SmemRegion, lock: SmemSpinlock) throws(SmdError) {
        guard region.size >= SmemLayout.headerSize, region.size <= Int(UInt32.max) else {
            throw SmdError(
                .invalidArgument, field: "smem",
                "a region of \(region.size) bytes must hold the \(SmemLayout.headerSize)-byte header and fit 32-bit offsets")
        }
        self.region = region
        self.lock = lock
    }

    // MARK: Boot loader (host)

    /// Writes a fresh header, as the boot loader does before any other processor runs: global-heap version,
    /// initialized = 1, free_offset = end of header, all the rest available, empty table of contents.
    /// Must not be called while another processor uses the heap.
    public func initialize() {
        // `initial` cannot fail: the size was checked in init.
        let header = (try? SmemHeader.initial(regionSize: region.size)) ?? SmemHeader()
        region.storeWords(header.serialized(), at: 0)
        smdFullFence()
    }

    /// Checks the header as Linux does before using the heap, plus the free-space bounds.
    ///
    /// - Throws: `SmdError.protocolViolation` naming the header field at fault.
    public func validateHeader() throws(SmdError) {
        let initialized = region.load32(SmemLayout.initializedOffset)
        guard initialized == 1 else {
            throw violation("smem.initialized", "is \(initialized), not 1: the heap was not set up")
        }
        let reserved = region.load32(SmemLayout.reservedOffset)
        guard reserved == 0 else { throw violation("smem.reserved", "is 0x\(String(reserved, radix: 16)), not 0") }
        let version = region.load32(SmemLayout.versionWordOffset(SmemLayout.sblVersionIndex)) >> 16
        guard version == SmemLayout.globalHeapVersion else {
            throw violation("smem.version[7]", "heap version \(version) is not the global heap (\(SmemLayout.globalHeapVersion))")
        }
        _ = try freeSpace()
    }

    /// Bytes the heap has left (`qcom_smem_get_free_space`), validated against the region.
    public func available() throws(SmdError) -> Int { try freeSpace().available }

    // MARK: Allocation (remote)

    /// Allocates item `number` of `size` bytes (rounded up to 8) under the spinlock.
    ///
    /// - Throws: `SmdError` with code `invalidArgument` (item < 8, item >= 512, negative or huge size),
    ///   `exists` (already allocated), `noSpace` (not enough space left), `lockTimeout`, or
    ///   `protocolViolation` (the header's free space is corrupted).
    @discardableResult
    public func allocate(item number: Int, size: Int) throws(SmdError) -> SmemItem {
        guard number >= SmemLayout.firstAllocatableItem, number < SmemLayout.itemCount else {
            throw SmdError(
                .invalidArgument, field: "smem.toc[\(number)]",
                "item \(number) cannot be allocated (items \(SmemLayout.firstAllocatableItem)..<\(SmemLayout.itemCount) only)")
        }
        guard let rounded = SmemLayout.roundedAllocationSize(size), rounded <= Int(UInt32.max) else {
            throw SmdError(.invalidArgument, field: "smem.toc[\(number)].size", "size \(size) is not a valid allocation size")
        }
        let entry = SmemLayout.tocEntryOffset(number)
        return try lock.withLock { () throws(SmdError) -> SmemItem in
            guard region.load32(entry + SmemGlobalEntry.allocatedOffset) == 0 else {
                throw SmdError(.exists, field: "smem.toc[\(number)]", "item \(number) is already allocated")
            }
            let space = try freeSpace()
            guard rounded <= space.available else {
                throw SmdError(
                    .noSpace, field: "smem.available",
                    "item \(number) needs \(rounded) bytes but only \(space.available) are available")
            }
            region.store32(UInt32(space.freeOffset), at: entry + SmemGlobalEntry.offsetOffset)
            region.store32(UInt32(rounded), at: entry + SmemGlobalEntry.sizeOffset)
            // Offset and size are visible before anyone can see the item as allocated.
            region.release32(1, at: entry + SmemGlobalEntry.allocatedOffset)
            region.store32(UInt32(space.freeOffset + rounded), at: SmemLayout.freeOffsetOffset)
            region.store32(UInt32(space.available - rounded), at: SmemLayout.availableOffset)
            return SmemItem(number: number, offset: space.freeOffset, size: rounded)
        }
    }

    // MARK: Lookup (host and remote)

    /// Finds item `number` (`qcom_smem_get`), validating everything the other side wrote into its entry.
    ///
    /// - Throws: `SmdError` with code `invalidArgument` (number outside 0..<512), `notFound` (not allocated),
    ///   or `protocolViolation` naming the entry field at fault (allocated not 0/1, aux_base selecting another
    ///   region, offset inside the header or unaligned, offset + size past the region).
    public func item(_ number: Int) throws(SmdError) -> SmemItem {
        guard number >= 0, number < SmemLayout.itemCount else {
            throw SmdError(.invalidArgument, field: "smem.toc[\(number)]", "item \(number) is outside 0..<\(SmemLayout.itemCount)")
        }
        let entry = SmemLayout.tocEntryOffset(number)
        let name = "smem.toc[\(number)]"
        let allocated = region.acquire32(entry + SmemGlobalEntry.allocatedOffset)
        guard allocated != 0 else { throw SmdError(.notFound, field: name, "item \(number) is not allocated") }
        guard allocated == 1 else { throw violation("\(name).allocated", "is \(allocated), not 0 or 1") }
        let offset = region.load32(entry + SmemGlobalEntry.offsetOffset)
        let size = region.load32(entry + SmemGlobalEntry.sizeOffset)
        let auxBase = region.load32(entry + SmemGlobalEntry.auxBaseOffset)
        guard auxBase & SmemGlobalEntry.auxBaseMask == 0 else {
            throw violation("\(name).aux_base", "0x\(String(auxBase, radix: 16)) selects a region other than the only one")
        }
        guard Int(offset) >= SmemLayout.headerSize, Int(offset) % SmemLayout.allocationAlignment == 0,
            Int(offset) <= region.size
        else {
            throw violation(
                "\(name).offset", "0x\(String(offset, radix: 16)) is inside the header, not 8-byte aligned or past the region")
        }
        guard UInt64(offset) + UInt64(size) <= UInt64(region.size) else {
            throw violation(
                "\(name).size",
                "offset 0x\(String(offset, radix: 16)) + size \(size) ends past the \(region.size)-byte region")
        }
        return SmemItem(number: number, offset: Int(offset), size: Int(size))
    }

    // MARK: Helpers

    /// free_offset and available, checked: free_offset after the header and 8-aligned, the free span inside.
    private func freeSpace() throws(SmdError) -> (freeOffset: Int, available: Int) {
        let freeOffset = region.load32(SmemLayout.freeOffsetOffset)
        let available = region.load32(SmemLayout.availableOffset)
        guard Int(freeOffset) >= SmemLayout.headerSize, Int(freeOffset) % SmemLayout.allocationAlignment == 0 else {
            throw violation("smem.free_offset", "0x\(String(freeOffset, radix: 16)) is inside the header or not 8-byte aligned")
        }
        guard UInt64(freeOffset) + UInt64(available) <= UInt64(region.size) else {
            throw violation(
                "smem.available",
                "free_offset 0x\(String(freeOffset, radix: 16)) + available \(available) exceeds the \(region.size)-byte region")
        }
        return (Int(freeOffset), Int(available))
    }

    private func violation(_ field: String, _ message: String) -> SmdError {
        SmdError(.protocolViolation, field: field, message)
    }
}

// The header at the start of an SMEM region (`struct smem_header`, 0x20D0 bytes, LE32); offsets in
// SmemLayout.swift. Parsing reads values as they are; whether they make a usable heap is `validate()`'s call.

/// `struct smem_header` of the global heap.
public struct SmemHeader: Sendable, Hashable {
    /// Size on the wire (0x20D0).
    public static let size = SmemLayout.headerSize

    /// `proc_comm[4]` as 16 words (4 entries of {command, status, params[2]}).
    public var procComm: [UInt32]
    /// `version[32]`.
    public var version: [UInt32]
    /// `initialized`: 1 once set up by the boot loader.
    public var initialized: UInt32
    /// `free_offset`: first free byte of the heap.
    public var freeOffset: UInt32
    /// `available`: free bytes after `freeOffset`.
    public var available: UInt32
    /// `reserved`: 0.
    public var reserved: UInt32
    /// `toc[512]`.
    public var toc: [SmemGlobalEntry]

    /// A header with every field zero.
    public init() {
        procComm = [UInt32](repeating: 0, count: SmemLayout.procCommCount * 4)
        version = [UInt32](repeating: 0, count: SmemLayout.versionCount)
        initialized = 0
        freeOffset = 0
        available = 0
        reserved = 0
        toc = [SmemGlobalEntry](repeating: SmemGlobalEntry(), count: SmemLayout.itemCount)
    }

    /// The header a boot loader writes into a fresh region of `regionSize` bytes: global-heap version,
    /// initialized, the whole space after the header free, an empty table of contents.
    ///
    /// - Throws: `WireError` (field `smem.region_size`) when the region cannot hold the header or its size
    ///   does not fit the 32-bit `available` field.
    public static func initial(regionSize: Int) throws(WireError) -> SmemHeader {
        guard regionSize >= size, let available = UInt32(exactly: regionSize - size) else {
            throw WireError(
                field: "smem.region_size", offset: 0,
                reason: "a region of \(regionSize) bytes cannot hold the \(size)-byte header with a 32-bit free count")
        }
        var header = SmemHeader()
        header.version[SmemLayout.sblVersionIndex] = SmemLayout.globalHeapVersionWord
        header.initialized = 1
        header.freeOffset = UInt32(size)
        header.available = available
        return header
    }

    /// Reads a header at `offset` of `reader`.
    public init(from reader: ByteReader, at offset: Int = 0) throws(WireError) {
        try reader.require(offset: offset, count: Self.size, field: "smem_header")
        procComm = []
        for index in 0..<(SmemLayout.procCommCount * 4) {
            procComm.append(try reader.u32(at: offset + SmemLayout.procCommOffset + 4 * index, field: "smem.proc_comm[\(index / 4)]"))
        }
        version = []
        for index in 0..<SmemLayout.versionCount {
            version.append(try reader.u32(at: offset + SmemLayout.versionWordOffset(index), field: "smem.version[\(index)]"))
        }
        initialized = try reader.u32(at: offset + SmemLayout.initializedOffset, field: "smem.initialized")
        freeOffset = try reader.u32(at: offset + SmemLayout.freeOffsetOffset, field: "smem.free_offset")
        available = try reader.u32(at: offset + SmemLayout.availableOffset, field: "smem.available")
        reserved = try reader.u32(at: offset + SmemLayout.reservedOffset, field: "smem.reserved")
        toc = []
        toc.reserveCapacity(SmemLayout.itemCount)
        for item in 0..<SmemLayout.itemCount {
            toc.append(try SmemGlobalEntry(from: reader, at: offset + SmemLayout.tocEntryOffset(item), field: "smem.toc[\(item)]"))
        }
    }

    /// `version[7] >> 16`: 11 for a global heap.
    public var heapVersion: UInt32 { version[SmemLayout.sblVersionIndex] >> 16 }

    /// Checks what Linux checks before using a heap (initialized == 1, reserved == 0, global-heap version)
    /// and that the free space lies inside a region of `regionSize` bytes after the header.
    ///
    /// - Throws: `WireError` naming the field at fault and its offset in the header.
    public func validate(regionSize: Int) throws(WireError) {
        guard initialized == 1 else {
            throw WireError(field: "smem.initialized", offset: SmemLayout.initializedOffset, reason: "is \(initialized), not 1: not set up by the boot loader")
        }
        guard reserved == 0 else {
            throw WireError(field: "smem.reserved", offset: SmemLayout.reservedOffset, reason: "is 0x\(String(reserved, radix: 16)), not 0")
        }
        guard heapVersion == SmemLayout.globalHeapVersion else {
            throw WireError(
                field: "smem.version[\(SmemLayout.sblVersionIndex)]", offset: SmemLayout.versionWordOffset(SmemLayout.sblVersionIndex),
                reason: "heap version \(heapVersion) is not the global heap (\(SmemLayout.globalHeapVersion))")
        }
        guard Int(freeOffset) >= Self.size, Int(freeOffset) % SmemLayout.allocationAlignment == 0 else {
            throw WireError(
                field: "smem.free_offset", offset: SmemLayout.freeOffsetOffset,
                reason: "0x\(String(freeOffset, radix: 16)) is inside the header or not 8-byte aligned")
        }
        guard UInt64(freeOffset) + UInt64(available) <= UInt64(max(regionSize, 0)) else {
            throw WireError(
                field: "smem.available", offset: SmemLayout.availableOffset,
                reason: "free_offset 0x\(String(freeOffset, radix: 16)) + available \(available) exceeds the \(regionSize)-byte region")
        }
    }

    /// Writes the header's 0x20D0 bytes at `offset` (the writer must be little-endian for the wire format).
    public func write(to writer: inout ByteWriter, at offset: Int = 0) {
        for (index, word) in procComm.prefix(SmemLayout.procCommCount * 4).enumerated() {
            writer.put(word, at: offset + SmemLayout.procCommOffset + 4 * index)
        }
        for (index, word) in version.prefix(SmemLayout.versionCount).enumerated() {
            writer.put(word, at: offset + SmemLayout.versionWordOffset(index))
        }
        writer.put(initialized, at: offset + SmemLayout.initializedOffset)
        writer.put(freeOffset, at: offset + SmemLayout.freeOffsetOffset)
        writer.put(available, at: offset + SmemLayout.availableOffset)
        writer.put(reserved, at: offset + SmemLayout.reservedOffset)
        for (item, entry) in toc.prefix(SmemLayout.itemCount).enumerated() {
            entry.write(to: &writer, at: offset + SmemLayout.tocEntryOffset(item))
        }
    }

    /// The header's little-endian bytes.
    public func serialized() -> [UInt8] {
        var writer = ByteWriter(count: Self.size, order: .little)
        write(to: &writer, at: 0)
        return writer.bytes
    }
}

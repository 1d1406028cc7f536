// One table-of-contents entry of the SMEM global heap (`struct smem_global_entry`, 16 bytes, LE32):
//
//   allocated  @0   1 once the item exists (written last by the allocator)
//   offset     @4   item offset from the start of the region named by aux_base
//   size       @8   item size, a multiple of 8
//   aux_base   @12  region selector (bits 2..31); 0 selects the main region; bits 0..1 are flags

/// `struct smem_global_entry`: where item N of the global heap lives.
public struct SmemGlobalEntry: Sendable, Hashable {
    /// Size on the wire.
    public static let size = 16
    /// Offset of `allocated`.
    public static let allocatedOffset = 0
    /// Offset of `offset`.
    public static let offsetOffset = 4
    /// Offset of `size`.
    public static let sizeOffset = 8
    /// Offset of `aux_base`.
    public static let auxBaseOffset = 12
    /// Mask of the region-selecting bits of `aux_base` (`AUX_BASE_MASK`).
    public static let auxBaseMask: UInt32 = 0xFFFF_FFFC

    /// `allocated`: 1 when the item exists.
    public var allocated: UInt32
    /// `offset` of the item from the start of its region.
    public var offset: UInt32
    /// `size` of the item in bytes.
    public var size: UInt32
    /// `aux_base`: region selector.
    public var auxBase: UInt32

    public init(allocated: UInt32 = 0, offset: UInt32 = 0, size: UInt32 = 0, auxBase: UInt32 = 0) {
        self.allocated = allocated
        self.offset = offset
        self.size = size
        self.auxBase = auxBase
    }

    /// Reads an entry at `offset` of `reader`; `field` prefixes the field names in errors (e.g. `smem.toc[13]`).
    public init(from reader: ByteReader, at offset: Int, field: String = "smem_global_entry") throws(WireError) {
        try reader.require(offset: offset, count: Self.size, field: field)
        allocated = try reader.u32(at: offset + Self.allocatedOffset, field: "\(field).allocated")
        self.offset = try reader.u32(at: offset + Self.offsetOffset, field: "\(field).offset")
        size = try reader.u32(at: offset + Self.sizeOffset, field: "\(field).size")
        auxBase = try reader.u32(at: offset + Self.auxBaseOffset, field: "\(field).aux_base")
    }

    /// Writes the entry's 16 bytes at `offset` (the writer must be little-endian for the wire format).
    public func write(to writer: inout ByteWriter, at offset: Int) {
        writer.put(allocated, at: offset + Self.allocatedOffset)
        writer.put(self.offset, at: offset + Self.offsetOffset)
        writer.put(size, at: offset + Self.sizeOffset)
        writer.put(auxBase, at: offset + Self.auxBaseOffset)
    }

    /// The entry's 16 little-endian bytes.
    public func serialized() -> [UInt8] {
        var writer = ByteWriter(count: Self.size, order: .little)
        write(to: &writer, at: 0)
        return writer.bytes
    }
}

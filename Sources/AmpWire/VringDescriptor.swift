// Split-ring descriptor and used-ring element (legacy virtio, byte order of the link).
//
//   vring_desc (16 bytes)            vring_used_elem (8 bytes)
//     addr  u64 @0   buffer address    id   u32 @0   head descriptor of the chain
//     len   u32 @8   buffer length     len  u32 @4   bytes the device wrote into the chain
//     flags u16 @12  NEXT|WRITE|INDIRECT
//     next  u16 @14  next descriptor when NEXT is set
//
// A descriptor's flags say whether the chain continues (NEXT), whether the device writes the buffer
// rather than reads it (WRITE), and whether the buffer is itself a table of descriptors (INDIRECT).

/// One entry of the descriptor table (`struct vring_desc`, 16 bytes).
public struct VringDescriptor: Sendable, Hashable {
    /// Size of a descriptor on the wire.
    public static let size = 16

    /// Descriptor flags (`VRING_DESC_F_*`). Unknown bits are kept in `rawValue`.
    public struct Flags: OptionSet, Sendable, Hashable {
        public let rawValue: UInt16
        public init(rawValue: UInt16) { self.rawValue = rawValue }

        /// `VRING_DESC_F_NEXT` (1): the chain continues at `next`.
        public static let next = Flags(rawValue: 1)
        /// `VRING_DESC_F_WRITE` (2): the device writes this buffer (the driver reads it back).
        public static let write = Flags(rawValue: 2)
        /// `VRING_DESC_F_INDIRECT` (4): the buffer holds a table of descriptors.
        public static let indirect = Flags(rawValue: 4)
    }

    /// Guest-physical (device) address of the buffer (`addr`).
    public var address: UInt64
    /// Length of the buffer in bytes (`len`).
    public var length: UInt32
    /// `flags`.
    public var flags: Flags
    /// Index of the next descriptor in the chain when `flags` contains `.next` (`next`).
    public var next: UInt16

    public init(address: UInt64, length: UInt32, flags: Flags = [], next: UInt16 = 0) {
        self.address = address
        self.length = length
        self.flags = flags
        self.next = next
    }

    /// Reads a descriptor at `offset` of `reader`.
    public init(from reader: ByteReader, at offset: Int) throws(WireError) {
        try reader.require(offset: offset, count: Self.size, field: "vring_desc")
        address = try reader.u64(at: offset, field: "vring_desc.addr")
        length = try reader.u32(at: offset + 8, field: "vring_desc.len")
        flags = Flags(rawValue: try reader.u16(at: offset + 12, field: "vring_desc.flags"))
        next = try reader.u16(at: offset + 14, field: "vring_desc.next")
    }

    /// Reads a descriptor from the first 16 bytes of `bytes`.
    public static func parse(_ bytes: [UInt8], order: ByteOrder) throws(WireError) -> VringDescriptor {
        try VringDescriptor(from: ByteReader(bytes, order: order), at: 0)
    }

    /// Writes the descriptor's 16 bytes at `offset`.
    public func write(to writer: inout ByteWriter, at offset: Int) {
        writer.put(address, at: offset)
        writer.put(length, at: offset + 8)
        writer.put(flags.rawValue, at: offset + 12)
        writer.put(next, at: offset + 14)
    }

    /// The descriptor's 16 bytes.
    public func serialized(order: ByteOrder) -> [UInt8] {
        var writer = ByteWriter(count: Self.size, order: order)
        write(to: &writer, at: 0)
        return writer.bytes
    }
}

/// One element of the used ring (`struct vring_used_elem`, 8 bytes): the device returns a chain.
public struct VringUsedElement: Sendable, Hashable {
    /// Size of a used-ring element on the wire.
    public static let size = 8

    /// Index of the chain's head descriptor (`id`, a u32 on the wire though indices fit in u16).
    public var id: UInt32
    /// Number of bytes the device wrote into the chain's writable buffers (`len`).
    public var length: UInt32

    public init(id: UInt32, length: UInt32) {
        self.id = id
        self.length = length
    }

    /// Reads an element at `offset` of `reader`.
    public init(from reader: ByteReader, at offset: Int) throws(WireError) {
        try reader.require(offset: offset, count: Self.size, field: "vring_used_elem")
        id = try reader.u32(at: offset, field: "vring_used_elem.id")
        length = try reader.u32(at: offset + 4, field: "vring_used_elem.len")
    }

    /// Reads an element from the first 8 bytes of `bytes`.
    public static func parse(_ bytes: [UInt8], order: ByteOrder) throws(WireError) -> VringUsedElement {
        try VringUsedElement(from: ByteReader(bytes, order: order), at: 0)
    }

    /// Writes the element's 8 bytes at `offset`.
    public func write(to writer: inout ByteWriter, at offset: Int) {
        writer.put(id, at: offset)
        writer.put(length, at: offset + 4)
    }

    /// The element's 8 bytes.
    public func serialized(order: ByteOrder) -> [UInt8] {
        var writer = ByteWriter(count: Self.size, order: order)
        write(to: &writer, at: 0)
        return writer.bytes
    }
}

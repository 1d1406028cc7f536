// The remoteproc resource table (`.resource_table` section), as a value.
//
//   offset  field
//   0       ver          u32, must be 1
//   4       num          u32, number of entries
//   8       reserved[2]  u32 each, must be 0
//   16      offset[num]  u32 each, byte offset of each entry from the table start
//   ...     entries, each a u32 type word and a payload (see Resource.swift)
//
// All fields are in the firmware's byte order (the ELF's). The section may be larger than the entries
// need (spare offset slots, alignment padding), so the table remembers its full byte size. Parsing is in
// ResourceTableParser.swift, warnings in ResourceTableWarnings.swift.

/// A resource table: header, entry offsets and decoded entries.
public struct ResourceTable: Sendable, Hashable {
    /// `ver`; 1 is the only version.
    public var version: UInt32
    /// `reserved[2]`; both must be 0.
    public var reserved: [UInt32]
    /// `offset[num]`: each entry's offset from the table start, in table order (not necessarily sorted).
    public var offsets: [UInt32]
    /// One entry per offset, in the same order.
    public var entries: [ResourceTableEntry]
    /// The table's size in bytes (the section size), at least what header and entries need.
    public var size: Int

    public init(version: UInt32 = 1, reserved: [UInt32] = [0, 0], offsets: [UInt32], entries: [ResourceTableEntry], size: Int) {
        self.version = version
        self.reserved = reserved
        self.offsets = offsets
        self.entries = entries
        self.size = size
    }

    /// A version-1 table holding `resources` in order, laid out contiguously right after the offset
    /// array, with exactly the size they need. Entries are not padded: an odd-sized vendor entry or vdev
    /// config leaves the next entry unaligned.
    public init(resources: [Resource]) {
        var cursor = Self.headerSize + Self.offsetSize * resources.count
        var offsets = [UInt32]()
        var entries = [ResourceTableEntry]()
        for resource in resources {
            offsets.append(UInt32(truncatingIfNeeded: cursor))
            entries.append(ResourceTableEntry(offset: cursor, resource: resource))
            cursor += resource.encodedSize
        }
        self.init(offsets: offsets, entries: entries, size: cursor)
    }

    // MARK: Constants

    /// The table header (ver, num, reserved[2]) without the offset array: 16 bytes.
    public static let headerSize = 16
    /// One `offset[]` slot: 4 bytes.
    public static let offsetSize = 4
    /// The type word (fw_rsc_hdr.type) that starts every entry: 4 bytes.
    public static let entryHeaderSize = 4
    /// Carveout payload, excluding the 4-byte type word: 52 bytes (56 with it).
    public static let carveoutSize = 52
    /// Devmem payload, excluding the 4-byte type word: 52 bytes (56 with it).
    public static let devmemSize = 52
    /// Trace payload, excluding the 4-byte type word: 44 bytes (48 with it).
    public static let traceSize = 44
    /// Vdev payload before its vrings, excluding the 4-byte type word: 24 bytes.
    public static let vdevHeaderSize = 24
    /// One vdev vring: 20 bytes.
    public static let vringSize = 20
    /// Size of the `name[32]` arrays.
    public static let nameSize = 32
    /// Most vrings a vdev may declare (Linux's limit).
    public static let maxVringsPerVdev = 2
    /// FW_RSC_ADDR_ANY: "the host chooses this address".
    public static let addressAny: UInt32 = 0xFFFF_FFFF

    /// Offsets of the header fields.
    public enum HeaderOffset {
        public static let version = 0
        public static let num = 4
        public static let reserved = 8
        public static let offsets = 16
    }

    // MARK: Serialising

    /// The table as `size` bytes: header, offsets, and each entry at its offset, in a zero-filled
    /// buffer. For a parsed table of a zero-padded section this reproduces the section exactly.
    /// (If the values claim more than `size` bytes the buffer grows to hold them; entries with a
    /// negative offset are skipped.)
    public func serialised(order: ByteOrder) -> [UInt8] {
        var writer = ByteWriter(count: size, order: order)
        writer.put(version, at: HeaderOffset.version)
        writer.put(UInt32(truncatingIfNeeded: offsets.count), at: HeaderOffset.num)
        for (index, value) in reserved.prefix(2).enumerated() {
            writer.put(value, at: HeaderOffset.reserved + index * Self.offsetSize)
        }
        for (index, offset) in offsets.enumerated() {
            writer.put(offset, at: HeaderOffset.offsets + index * Self.offsetSize)
        }
        for entry in entries where entry.offset >= 0 {
            entry.resource.write(into: &writer, at: entry.offset)
        }
        return writer.bytes
    }
}

/// One entry and where it sits in the table.
public struct ResourceTableEntry: Sendable, Hashable {
    /// Offset of the entry's type word from the table start.
    public var offset: Int
    public var resource: Resource

    public init(offset: Int, resource: Resource) {
        self.offset = offset
        self.resource = resource
    }

    /// The entry's name in errors and warnings, e.g. `vdev@48`.
    public var label: String { "\(resource.kindName)@\(offset)" }
}

// One entry of an SMD allocation table (`struct qcom_smd_alloc_entry`, packed, 32 bytes, LE32):
//
//   name[20]    @0    channel name, NUL-padded; empty = unused entry
//   cid         @20   channel id: selects info item infoBase+cid and fifo item fifoBase+cid
//   flags       @24   bits 0-7 edge id, bit 8 STREAM, bit 9 PACKET
//   ref_count   @28   0 = not (yet) in use; the creator writes it last
//
// The remote processor fills entries; the host only reads them, so names are validated before use.

/// An entry of an SMD allocation table.
public struct SmdAllocEntry: Sendable, Hashable {
    /// Size on the wire.
    public static let size = 32
    /// Offset and capacity of `name`.
    public static let nameOffset = 0
    public static let nameCapacity = 20
    /// Offset of `cid`.
    public static let cidOffset = 20
    /// Offset of `flags`.
    public static let flagsOffset = 24
    /// Offset of `ref_count`.
    public static let refCountOffset = 28

    /// `name[20]` exactly as stored.
    public var nameBytes: [UInt8]
    /// `cid`.
    public var cid: UInt32
    /// `flags`.
    public var flags: SmdAllocFlags
    /// `ref_count`.
    public var refCount: UInt32

    /// An entry naming `name` (at most 19 bytes of printable ASCII, NUL-padded to 20).
    ///
    /// - Throws: `WireError` (field `smd_alloc_elm.name`) when the name is empty, too long or not printable ASCII.
    public init(name: String, cid: UInt32, flags: SmdAllocFlags, refCount: UInt32 = 1) throws(WireError) {
        let utf8 = Array(name.utf8)
        guard !utf8.isEmpty, utf8.count < Self.nameCapacity, utf8.allSatisfy(Self.isPrintable) else {
            throw WireError(
                field: "smd_alloc_elm.name", offset: Self.nameOffset,
                reason: "\"\(name)\" must be 1 to \(Self.nameCapacity - 1) bytes of printable ASCII")
        }
        self.init(nameBytes: utf8 + [UInt8](repeating: 0, count: Self.nameCapacity - utf8.count), cid: cid, flags: flags, refCount: refCount)
    }

    /// An entry with raw name bytes (padded or cut to 20), for tests and hostile peers.
    public init(nameBytes: [UInt8], cid: UInt32, flags: SmdAllocFlags, refCount: UInt32) {
        self.nameBytes = Array((nameBytes + [UInt8](repeating: 0, count: Self.nameCapacity)).prefix(Self.nameCapacity))
        self.cid = cid
        self.flags = flags
        self.refCount = refCount
    }

    /// Reads an entry at `offset` of `reader`; `field` prefixes the field names in errors.
    public init(from reader: ByteReader, at offset: Int, field: String = "smd_alloc_elm") throws(WireError) {
        try reader.require(offset: offset, count: Self.size, field: field)
        nameBytes = try reader.slice(at: offset + Self.nameOffset, count: Self.nameCapacity, field: "\(field).name")
        cid = try reader.u32(at: offset + Self.cidOffset, field: "\(field).cid")
        flags = SmdAllocFlags(rawValue: try reader.u32(at: offset + Self.flagsOffset, field: "\(field).flags"))
        refCount = try reader.u32(at: offset + Self.refCountOffset, field: "\(field).ref_count")
    }

    /// Whether the name is empty (first byte NUL): an unused entry.
    public var hasEmptyName: Bool { nameBytes.first == 0 }

    /// The name, checked: NUL-terminated within the 20 bytes and printable ASCII before the NUL.
    ///
    /// - Parameter field: names the entry in errors (e.g. `smd_alloc_tbl[0][3]`); `offset` is the entry's
    ///   offset in the caller's input.
    /// - Throws: `WireError` at `field.name` when the name has no terminating NUL or a non-printable byte.
    public func validatedName(field: String = "smd_alloc_elm", offset: Int = 0) throws(WireError) -> String {
        guard let end = nameBytes.firstIndex(of: 0) else {
            throw WireError(field: "\(field).name", offset: offset + Self.nameOffset, reason: "no NUL terminator in \(Self.nameCapacity) bytes")
        }
        if let bad = nameBytes[..<end].firstIndex(where: { !Self.isPrintable($0) }) {
            throw WireError(
                field: "\(field).name", offset: offset + Self.nameOffset + bad,
                reason: "byte 0x\(String(nameBytes[bad], radix: 16)) at index \(bad) is not printable ASCII")
        }
        return String(decoding: nameBytes[..<end], as: UTF8.self)
    }

    /// Writes the entry's 32 bytes at `offset` (the writer must be little-endian for the wire format).
    public func write(to writer: inout ByteWriter, at offset: Int) {
        writer.put(bytes: nameBytes, at: offset + Self.nameOffset)
        writer.put(cid, at: offset + Self.cidOffset)
        writer.put(flags.rawValue, at: offset + Self.flagsOffset)
        writer.put(refCount, at: offset + Self.refCountOffset)
    }

    /// The entry's 32 little-endian bytes.
    public func serialized() -> [UInt8] {
        var writer = ByteWriter(count: Self.size, order: .little)
        write(to: &writer, at: 0)
        return writer.bytes
    }

    private static func isPrintable(_ byte: UInt8) -> Bool { byte >= 0x20 && byte < 0x7F }
}

// Bounds-checked reads of fixed-width integers at explicit offsets, in an explicit byte order.
// Nothing here relies on Swift struct layout: each wire structure names the offset of every field.

/// A read-only view of untrusted bytes. Every read is bounds-checked and names the field it reads,
/// so a short input produces a `WireError` naming the field and its offset, never a trap.
public struct ByteReader: Sendable {
    /// The bytes being read.
    public let bytes: [UInt8]
    /// Byte order of multi-byte integers.
    public let order: ByteOrder
    /// Offset of `bytes[0]` in the caller's input, added to offsets in errors.
    public let base: Int

    public init(_ bytes: [UInt8], order: ByteOrder, base: Int = 0) {
        self.bytes = bytes
        self.order = order
        self.base = base
    }

    public var count: Int { bytes.count }

    /// Whether `count` bytes starting at `offset` lie within the input (overflow-safe).
    public func contains(offset: Int, count: Int) -> Bool {
        guard offset >= 0, count >= 0 else { return false }
        let (end, overflow) = offset.addingReportingOverflow(count)
        return !overflow && end <= bytes.count
    }

    /// Throws unless `count` bytes at `offset` are readable.
    public func require(offset: Int, count: Int, field: String) throws(WireError) {
        guard contains(offset: offset, count: count) else {
            throw WireError(
                field: field, offset: base + max(offset, 0),
                reason: "needs \(count) bytes but only \(max(0, bytes.count - max(offset, 0))) remain (input is \(bytes.count) bytes)")
        }
    }

    public func u8(at offset: Int, field: String) throws(WireError) -> UInt8 {
        try require(offset: offset, count: 1, field: field)
        return bytes[offset]
    }

    public func u16(at offset: Int, field: String) throws(WireError) -> UInt16 {
        UInt16(truncatingIfNeeded: try unsigned(at: offset, width: 2, field: field))
    }

    public func u32(at offset: Int, field: String) throws(WireError) -> UInt32 {
        UInt32(truncatingIfNeeded: try unsigned(at: offset, width: 4, field: field))
    }

    public func u64(at offset: Int, field: String) throws(WireError) -> UInt64 {
        try unsigned(at: offset, width: 8, field: field)
    }

    /// A copy of `count` bytes at `offset`.
    public func slice(at offset: Int, count: Int, field: String) throws(WireError) -> [UInt8] {
        try require(offset: offset, count: count, field: field)
        return Array(bytes[offset..<(offset + count)])
    }

    /// A reader over `count` bytes at `offset`, in the same byte order, whose errors report offsets
    /// in this reader's input.
    public func subreader(at offset: Int, count: Int, field: String) throws(WireError) -> ByteReader {
        ByteReader(try slice(at: offset, count: count, field: field), order: order, base: base + offset)
    }

    /// A fixed-size character array such as `name[32]`: the bytes up to the first NUL, decoded as UTF-8
    /// with invalid sequences replaced.
    public func cString(at offset: Int, capacity: Int, field: String) throws(WireError) -> String {
        let raw = try slice(at: offset, count: capacity, field: field)
        return String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
    }

    private func unsigned(at offset: Int, width: Int, field: String) throws(WireError) -> UInt64 {
        try require(offset: offset, count: width, field: field)
        var value: UInt64 = 0
        switch order {
        case .little:
            for index in stride(from: width - 1, through: 0, by: -1) {
                value = value << 8 | UInt64(bytes[offset + index])
            }
        case .big:
            for index in 0..<width {
                value = value << 8 | UInt64(bytes[offset + index])
            }
        }
        return value
    }
}

// The 32-byte character array that rpmsg uses for channel, service and endpoint names (RPMSG_NAME_SIZE).
//
// On the wire a name is `char name[32]`, NUL-padded. Receivers force the last byte to NUL before reading
// it, so a name is at most 31 bytes and a 32-byte array without any NUL reads as its first 31 bytes.
// Names are compared byte for byte; they are usually ASCII but nothing enforces it, so the bytes are kept
// exactly and decoded as UTF-8 only for display.

/// An rpmsg name: at most 31 bytes, no NUL, stored in a 32-byte NUL-padded array on the wire.
public struct RpmsgName: Sendable, Hashable, CustomStringConvertible {
    /// Size of the wire array.
    public static let capacity = RpmsgConstants.nameSize
    /// Longest name: the last byte of the array is always NUL.
    public static let maxLength = capacity - 1

    /// The name's bytes, without NUL padding.
    public let bytes: [UInt8]

    /// A name from its bytes.
    ///
    /// - Throws: `WireError` (field `rpmsg_name`) when `bytes` is longer than 31 bytes or contains NUL.
    public init(bytes: [UInt8]) throws(WireError) {
        guard bytes.count <= Self.maxLength else {
            throw WireError(
                field: "rpmsg_name", offset: 0,
                reason: "name is \(bytes.count) bytes; at most \(Self.maxLength) fit in char[\(Self.capacity)]")
        }
        if let nul = bytes.firstIndex(of: 0) {
            throw WireError(field: "rpmsg_name", offset: nul, reason: "name contains a NUL byte at index \(nul)")
        }
        self.bytes = bytes
    }

    /// A name from its UTF-8 text.
    ///
    /// - Throws: `WireError` (field `rpmsg_name`) when the UTF-8 text is longer than 31 bytes or contains NUL.
    public init(_ string: String) throws(WireError) {
        try self.init(bytes: Array(string.utf8))
    }

    private init(unchecked bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// Reads a `char name[32]` at `offset`: the bytes before the first NUL within the first 31 bytes
    /// (the 32nd byte is treated as NUL whatever it holds).
    public static func read(from reader: ByteReader, at offset: Int, field: String) throws(WireError) -> RpmsgName {
        let raw = try reader.slice(at: offset, count: capacity, field: field)
        return RpmsgName(unchecked: Array(raw.prefix(maxLength).prefix { $0 != 0 }))
    }

    /// Writes the name as 32 bytes at `offset`, NUL-padded.
    public func write(to writer: inout ByteWriter, at offset: Int) {
        writer.put(bytes: bytes + [UInt8](repeating: 0, count: Self.capacity - bytes.count), at: offset)
    }

    /// The name decoded as UTF-8 (invalid sequences replaced).
    public var string: String { String(decoding: bytes, as: UTF8.self) }

    public var description: String { string }
}

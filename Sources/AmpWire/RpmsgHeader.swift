// An rpmsg message as it sits in one buffer of the virtio rpmsg bus (byte order of the link).
//
//   rpmsg_hdr (16 bytes)
//     src      u32 @0   sender's endpoint address
//     dst      u32 @4   receiver's endpoint address
//     reserved u32 @8
//     len      u16 @12  payload length
//     flags    u16 @14
//   payload    len bytes @16
//
// A received buffer is trusted only as far as checked: the device reports how many bytes it wrote (the
// used element's len, at most the buffer size), and the header's len must fit in what follows the header.

/// The 16-byte header in front of every rpmsg payload (`struct rpmsg_hdr`).
public struct RpmsgHeader: Sendable, Hashable {
    /// Size of the header on the wire.
    public static let size = RpmsgConstants.headerSize

    /// Sender's endpoint address (`src`).
    public var source: UInt32
    /// Receiver's endpoint address (`dst`).
    public var destination: UInt32
    /// `reserved`, zero when sent by Linux; kept as read.
    public var reserved: UInt32
    /// Payload length in bytes (`len`).
    public var length: UInt16
    /// `flags`, zero when sent by Linux; kept as read.
    public var flags: UInt16

    public init(source: UInt32, destination: UInt32, reserved: UInt32 = 0, length: UInt16, flags: UInt16 = 0) {
        self.source = source
        self.destination = destination
        self.reserved = reserved
        self.length = length
        self.flags = flags
    }

    /// Reads a header at `offset` of `reader`.
    public init(from reader: ByteReader, at offset: Int) throws(WireError) {
        try reader.require(offset: offset, count: Self.size, field: "rpmsg_hdr")
        source = try reader.u32(at: offset, field: "rpmsg_hdr.src")
        destination = try reader.u32(at: offset + 4, field: "rpmsg_hdr.dst")
        reserved = try reader.u32(at: offset + 8, field: "rpmsg_hdr.reserved")
        length = try reader.u16(at: offset + 12, field: "rpmsg_hdr.len")
        flags = try reader.u16(at: offset + 14, field: "rpmsg_hdr.flags")
    }

    /// Writes the header's 16 bytes at `offset`.
    public func write(to writer: inout ByteWriter, at offset: Int) {
        writer.put(source, at: offset)
        writer.put(destination, at: offset + 4)
        writer.put(reserved, at: offset + 8)
        writer.put(length, at: offset + 12)
        writer.put(flags, at: offset + 14)
    }

    /// The header's 16 bytes.
    public func serialized(order: ByteOrder) -> [UInt8] {
        var writer = ByteWriter(count: Self.size, order: order)
        write(to: &writer, at: 0)
        return writer.bytes
    }
}

/// A header with its payload; the header's `length` always equals `payload.count`.
public struct RpmsgMessage: Sendable, Hashable {
    public let header: RpmsgHeader
    public let payload: [UInt8]

    /// Sender's endpoint address.
    public var source: UInt32 { header.source }
    /// Receiver's endpoint address.
    public var destination: UInt32 { header.destination }

    /// A message to send.
    ///
    /// - Throws: `WireError` (field `rpmsg_hdr.len`) when the payload is longer than 65535 bytes. Whether it
    ///   fits a buffer (the MTU) is the transport's check, since the buffer size is configurable.
    public init(source: UInt32, destination: UInt32, payload: [UInt8], flags: UInt16 = 0, reserved: UInt32 = 0) throws(WireError) {
        guard let length = UInt16(exactly: payload.count) else {
            throw WireError(
                field: "rpmsg_hdr.len", offset: 12,
                reason: "payload of \(payload.count) bytes does not fit the u16 length field")
        }
        header = RpmsgHeader(source: source, destination: destination, reserved: reserved, length: length, flags: flags)
        self.payload = payload
    }

    private init(validated header: RpmsgHeader, payload: [UInt8]) {
        self.header = header
        self.payload = payload
    }

    /// Number of bytes the message occupies in a buffer: header plus payload.
    public var wireSize: Int { RpmsgHeader.size + payload.count }

    /// Reads a message from a received buffer.
    ///
    /// - Parameters:
    ///   - buffer: the whole buffer (or at least its first `validLength` bytes).
    ///   - order: byte order of the link.
    ///   - validLength: bytes the sender wrote into the buffer (the used element's `len`); `nil` means all
    ///     of `buffer`.
    /// - Throws: `WireError` with field `rpmsg.valid_length` when `validLength` is negative or larger than
    ///   the buffer, `rpmsg_hdr` when fewer than 16 bytes are valid, and `rpmsg_hdr.len` (offset 12) when
    ///   the header's length exceeds the valid bytes after the header.
    public static func parse(_ buffer: [UInt8], order: ByteOrder, validLength: Int? = nil) throws(WireError) -> RpmsgMessage {
        let valid = validLength ?? buffer.count
        guard valid >= 0, valid <= buffer.count else {
            throw WireError(
                field: "rpmsg.valid_length", offset: 0,
                reason: "valid length \(valid) is outside the \(buffer.count)-byte buffer")
        }
        guard valid >= RpmsgHeader.size else {
            throw WireError(
                field: "rpmsg_hdr", offset: 0,
                reason: "needs \(RpmsgHeader.size) bytes but only \(valid) are valid")
        }
        let reader = ByteReader(buffer, order: order)
        let header = try RpmsgHeader(from: reader, at: 0)
        let room = valid - RpmsgHeader.size
        guard Int(header.length) <= room else {
            throw WireError(
                field: "rpmsg_hdr.len", offset: 12,
                reason: "payload length \(header.length) exceeds the \(room) valid bytes after the header")
        }
        let payload = try reader.slice(at: RpmsgHeader.size, count: Int(header.length), field: "rpmsg payload")
        return RpmsgMessage(validated: header, payload: payload)
    }

    /// Writes header and payload at `offset`.
    public func write(to writer: inout ByteWriter, at offset: Int) {
        header.write(to: &writer, at: offset)
        writer.put(bytes: payload, at: offset + RpmsgHeader.size)
    }

    /// Header and payload, `wireSize` bytes.
    public func serialized(order: ByteOrder) -> [UInt8] {
        var writer = ByteWriter(count: wireSize, order: order)
        write(to: &writer, at: 0)
        return writer.bytes
    }
}

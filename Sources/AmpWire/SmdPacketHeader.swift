// The header in front of every SMD packet in a FIFO (`SMD_PACKET_HEADER_LEN` = 20 bytes): five LE32 words,
// word 0 the payload length, words 1-4 zero when written (and ignored when read, as Linux does).
//
//   length     @0
//   reserved   @4, @8, @12, @16
//
// A packet (header + payload) must be strictly smaller than the FIFO: 20 + length < fifo size.

/// The 20-byte SMD packet header.
public struct SmdPacketHeader: Sendable, Hashable {
    /// Size on the wire.
    public static let size = 20
    /// Offset of the length word.
    public static let lengthOffset = 0

    /// Payload length in bytes (word 0).
    public var length: UInt32
    /// Words 1-4, zero when sent, kept as read.
    public var reserved: [UInt32]

    public init(length: UInt32, reserved: [UInt32] = [0, 0, 0, 0]) {
        self.length = length
        self.reserved = Array((reserved + [0, 0, 0, 0]).prefix(4))
    }

    /// Reads a header at `offset` of `reader`.
    public init(from reader: ByteReader, at offset: Int) throws(WireError) {
        try reader.require(offset: offset, count: Self.size, field: "smd_packet_header")
        length = try reader.u32(at: offset, field: "smd_packet_header.length")
        var words = [UInt32]()
        for index in 1...4 {
            words.append(try reader.u32(at: offset + 4 * index, field: "smd_packet_header.word[\(index)]"))
        }
        reserved = words
    }

    /// Whether a packet with this header fits a FIFO of `fifoSize` bytes (20 + length < fifoSize).
    public func fits(fifoSize: Int) -> Bool { Self.fits(length: Int(length), fifoSize: fifoSize) }

    /// Whether a packet of `length` payload bytes fits a FIFO of `fifoSize` bytes (20 + length < fifoSize).
    public static func fits(length: Int, fifoSize: Int) -> Bool {
        length >= 0 && length < fifoSize - size
    }

    /// Writes the header's 20 bytes at `offset` (the writer must be little-endian for the wire format).
    public func write(to writer: inout ByteWriter, at offset: Int) {
        writer.put(length, at: offset)
        for (index, word) in reserved.prefix(4).enumerated() {
            writer.put(word, at: offset + 4 * (index + 1))
        }
    }

    /// The header's 20 little-endian bytes.
    public func serialized() -> [UInt8] {
        var writer = ByteWriter(count: Self.size, order: .little)
        write(to: &writer, at: 0)
        return writer.bytes
    }
}

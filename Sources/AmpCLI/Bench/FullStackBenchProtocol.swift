// The messages between `ampsoc bench`'s full-stack transport (host) and the firmware ampsoc-fw-bench
// (firmware-samples/bench), carried as rpmsg payloads on two channels the firmware announces:
//
//   channel             host -> remote                          remote -> host
//   "rpmsg-bench-echo"  ping: 16...496 bytes; bytes 0...7 are   the same bytes, to the sender (zero-copy echo)
//                       the round trip's tag (u64 LE), the
//                       rest a fixed filler pattern
//   "rpmsg-bench-sink"  data: 16...496 bytes, counted unread     -
//                       control: exactly 1 byte ('C')           count: 4 bytes, u32 LE at offset 0, the data
//                                                               messages since the previous control message
//
// The host checks every echo's length and tag, and every count against what it sent.

import AmpWire

/// Channel names, message layouts and their encoding and checks.
enum FullStackBenchProtocol {
    /// The firmware's echo service.
    static let echoChannel = "rpmsg-bench-echo"
    /// The firmware's counting sink.
    static let sinkChannel = "rpmsg-bench-sink"
    /// Offset of the round-trip tag (u64 little-endian) in a ping.
    static let tagOffset = 0
    /// The control message: one byte.
    static let control: [UInt8] = [UInt8(ascii: "C")]
    /// Length of the sink's count reply.
    static let countReplyLength = 4

    /// A payload of `size` bytes (at least 8) whose tag is 0 and whose other bytes are a filler pattern.
    static func payload(size: Int) -> ByteWriter {
        var writer = ByteWriter(count: size, order: .little)
        for index in stride(from: 8, to: size, by: 1) {
            writer.put(UInt8(truncatingIfNeeded: index &* 7 &+ 1), at: index)
        }
        return writer
    }

    /// The tag of a ping or echo (u64 little-endian at ``tagOffset``), or nil when it is shorter than 8 bytes.
    /// Read with one unaligned load: it runs once per round trip, inside the timed path.
    static func tag(of payload: UnsafeRawBufferPointer) -> UInt64? {
        guard payload.count >= tagOffset + 8 else { return nil }
        return UInt64(littleEndian: payload.loadUnaligned(fromByteOffset: tagOffset, as: UInt64.self))
    }

    /// Writes `tag` into `payload` (u64 little-endian at ``tagOffset``; the payload is at least 8 bytes).
    static func setTag(_ tag: UInt64, in payload: inout [UInt8]) {
        payload.withUnsafeMutableBytes { $0.storeBytes(of: tag.littleEndian, toByteOffset: tagOffset, as: UInt64.self) }
    }

    /// The count in a sink reply, or nil unless it is exactly ``countReplyLength`` bytes.
    static func count(of payload: UnsafeRawBufferPointer) -> UInt32? {
        guard payload.count == countReplyLength else { return nil }
        return UInt32(littleEndian: payload.loadUnaligned(fromByteOffset: 0, as: UInt32.self))
    }
}

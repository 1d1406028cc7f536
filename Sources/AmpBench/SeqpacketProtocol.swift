/// The messages of the SOCK_SEQPACKET baseline, between `ampsoc bench` (host) and
/// `ampsoc-bench-peer seqpacket` over an AF_UNIX socket pair. Each message is one datagram of 16...496 bytes;
/// byte 0 is its kind, the rest is payload except where a count is given:
///
/// ```
/// kind      dir         bytes  meaning
/// 'P' 0x50  host->peer  any    ping: the peer sends the same bytes back
/// 'D' 0x44  host->peer  any    stream data: the peer counts it
/// 'E' 0x45  host->peer  any    end of stream; bytes 1...8: messages sent (u64 little-endian)
/// 'A' 0x41  peer->host  16     acknowledges 'E'; bytes 1...8: 'D' messages received since the last 'E' (u64 LE)
/// 'Q' 0x51  host->peer  16     quit: the peer exits with code 0 (as it does when the socket closes)
/// ```
public enum SeqpacketProtocol {
    public static let ping = UInt8(ascii: "P")
    public static let data = UInt8(ascii: "D")
    public static let end = UInt8(ascii: "E")
    public static let acknowledge = UInt8(ascii: "A")
    public static let quit = UInt8(ascii: "Q")

    /// Offset of the kind byte.
    public static let kindOffset = 0
    /// Offset of the u64 little-endian count in 'E' and 'A'.
    public static let countOffset = 1
    /// Length of 'A' and 'Q' messages.
    public static let controlMessageSize = 16
    /// Largest message (a 512-byte buffer less a 16-byte header, as for rpmsg).
    public static let maximumMessageSize = 496

    /// Stores `value` as 8 little-endian bytes at `offset` of `buffer`.
    public static func storeCount(_ value: UInt64, into buffer: UnsafeMutableRawPointer, at offset: Int = countOffset) {
        for index in 0..<8 {
            buffer.storeBytes(of: UInt8(truncatingIfNeeded: value >> (8 * UInt64(index))), toByteOffset: offset + index, as: UInt8.self)
        }
    }

    /// Loads 8 little-endian bytes at `offset` of `buffer`.
    public static func loadCount(from buffer: UnsafeRawPointer, at offset: Int = countOffset) -> UInt64 {
        var value: UInt64 = 0
        for index in 0..<8 {
            value |= UInt64(buffer.load(fromByteOffset: offset + index, as: UInt8.self)) << (8 * UInt64(index))
        }
        return value
    }
}

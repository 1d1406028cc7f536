// Index arithmetic of one SMD FIFO (pure, no memory): a ring of `size` bytes, size a power of two, with a
// head (next byte the transmitter writes) and a tail (next byte the receiver reads), both below `size`.
//
//   readable = (head - tail) & mask
//   writable = mask - readable            one byte always stays free, so head == tail means empty
//
// A packet is a 20-byte header plus payload and must be strictly smaller than the FIFO (20 + len < size),
// otherwise it could never fit. A run of bytes that crosses the end of the ring is split in two spans, the
// second starting at 0. Packets that wrap are handed to the receiver through a bounce buffer of
// min(size, 4096) bytes, grown if a wrapped packet is larger (Linux would overrun it).

import AmpWire

/// Size, mask and index arithmetic of one FIFO.
public struct SmdFifoGeometry: Sendable, Hashable {
    /// Smallest FIFO accepted (room for a header and a few bytes).
    public static let minimumSize = 32
    /// Largest FIFO accepted (both FIFOs of a channel share one SMEM item with a 32-bit size).
    public static let maximumSize = 1 << 30

    /// FIFO size in bytes, a power of two.
    public let size: Int

    /// A FIFO of `size` bytes.
    ///
    /// - Throws: `SmdError.invalidArgument` unless `size` is a power of two in 32...2^30.
    public init(size: Int) throws(SmdError) {
        guard size >= Self.minimumSize, size <= Self.maximumSize, size & (size - 1) == 0 else {
            throw SmdError(
                .invalidArgument, field: "fifo_size",
                "FIFO size \(size) must be a power of two from \(Self.minimumSize) to \(Self.maximumSize)")
        }
        self.size = size
    }

    /// `size - 1`.
    public var mask: Int { size - 1 }

    /// Bytes the receiver can read: `(head - tail) & mask`.
    public func readable(head: Int, tail: Int) -> Int { (head &- tail) & mask }

    /// Bytes the transmitter can write: `mask - readable` (one byte is always kept free).
    public func writable(head: Int, tail: Int) -> Int { mask - readable(head: head, tail: tail) }

    /// `index` moved on by `count`, wrapped.
    public func advance(_ index: Int, by count: Int) -> Int { (index &+ count) & mask }

    /// Whether an index read from shared memory is a valid position (below `size`).
    public func isValidIndex(_ value: UInt32) -> Bool { Int(value) < size }

    /// The spans covering `count` bytes starting at `index`: the part up to the end of the ring and the part
    /// continuing at 0 (empty unless the run wraps). `index` must be below `size` and `count` at most `size`.
    public func spans(at index: Int, count: Int) -> (first: Range<Int>, second: Range<Int>) {
        let firstCount = min(count, size - index)
        return (index..<(index + firstCount), 0..<(count - firstCount))
    }

    /// Whether `count` bytes at `index` cross the end of the ring.
    public func wraps(at index: Int, count: Int) -> Bool { index + count > size }

    /// Whether a packet of `length` payload bytes fits: 20 + length < size.
    public func fits(payloadLength length: Int) -> Bool { SmdPacketHeader.fits(length: length, fifoSize: size) }

    /// The largest payload a packet can carry: size - 21.
    public var largestPayload: Int { size - SmdPacketHeader.size - 1 }

    /// Size of the receiver's bounce buffer for wrapped packets: min(size, 4096).
    public var bounceBufferSize: Int { min(size, SmdConstants.maxBounceBufferSize) }
}

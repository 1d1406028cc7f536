// Integer fields of a wire structure in raw memory, at explicit offsets and in an explicit byte order: the
// per-message hot paths of the rpmsg transports (the 16-byte rpmsg_hdr in a shared buffer, or in a local
// copy of one) use these instead of AmpWire's ByteReader/ByteWriter, which work on a `[UInt8]` and would
// cost an array allocation per message. Nothing here depends on Swift's struct layout: every field is named
// by its offset, and loads and stores are unaligned-safe.
//
// Memory another process may write (a buffer the peer returned) must be copied into a local first and
// decoded from the copy, so that every byte is read exactly once (``WireHeaderCopy``).

import AmpWire

/// Loads and stores of u16/u32 wire fields at explicit offsets and byte order in raw memory.
public enum RawWireAccess {
    /// The u32 at `offset` from `base`, stored in `order`.
    @inlinable @inline(__always)
    public static func u32(_ base: UnsafeRawPointer, at offset: Int, order: ByteOrder) -> UInt32 {
        let stored = base.loadUnaligned(fromByteOffset: offset, as: UInt32.self)
        return order == .little ? UInt32(littleEndian: stored) : UInt32(bigEndian: stored)
    }

    /// The u16 at `offset` from `base`, stored in `order`.
    @inlinable @inline(__always)
    public static func u16(_ base: UnsafeRawPointer, at offset: Int, order: ByteOrder) -> UInt16 {
        let stored = base.loadUnaligned(fromByteOffset: offset, as: UInt16.self)
        return order == .little ? UInt16(littleEndian: stored) : UInt16(bigEndian: stored)
    }

    /// Stores `value` as a u32 in `order` at `offset` from `base`.
    @inlinable @inline(__always)
    public static func put(_ value: UInt32, _ base: UnsafeMutableRawPointer, at offset: Int, order: ByteOrder) {
        base.storeBytes(of: order == .little ? value.littleEndian : value.bigEndian, toByteOffset: offset, as: UInt32.self)
    }

    /// Stores `value` as a u16 in `order` at `offset` from `base`.
    @inlinable @inline(__always)
    public static func put(_ value: UInt16, _ base: UnsafeMutableRawPointer, at offset: Int, order: ByteOrder) {
        base.storeBytes(of: order == .little ? value.littleEndian : value.bigEndian, toByteOffset: offset, as: UInt16.self)
    }
}

/// A private copy of the first 16 bytes of a buffer another process may still write: fields are decoded
/// from the copy, so each is read from shared memory once (as the 16-byte rpmsg_hdr is).
public struct WireHeaderCopy {
    /// The copied bytes (two u64 words of storage; only their bytes matter).
    @usableFromInline var storage: (UInt64, UInt64) = (0, 0)

    /// Copies `count` bytes (at most 16; the rest stay 0) from `source`.
    @inlinable
    public init(_ source: UnsafeRawPointer, count: Int) {
        if count >= 16 {
            // The usual case, a whole header: two loads, inlined (no call to memcpy), so that the loads of
            // several buffers' headers can be in flight together.
            storage = (source.loadUnaligned(as: UInt64.self), source.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
            return
        }
        let bytes = max(count, 0)
        withUnsafeMutableBytes(of: &storage) { copy in
            if let destination = copy.baseAddress { destination.copyMemory(from: source, byteCount: bytes) }
        }
    }

    /// The u32 at `offset` (below 16) of the copy.
    @inlinable
    public func u32(at offset: Int, order: ByteOrder) -> UInt32 {
        withUnsafeBytes(of: storage) { RawWireAccess.u32($0.baseAddress.unsafelyUnwrapped, at: offset, order: order) }
    }

    /// The u16 at `offset` (below 16) of the copy.
    @inlinable
    public func u16(at offset: Int, order: ByteOrder) -> UInt16 {
        withUnsafeBytes(of: storage) { RawWireAccess.u16($0.baseAddress.unsafelyUnwrapped, at: offset, order: order) }
    }

    /// The copied bytes as an array (for the slow paths that hand them to AmpWire's parsers).
    public var bytes: [UInt8] { withUnsafeBytes(of: storage) { Array($0) } }
}

// Access to a region of memory shared with another processor: every field is read and written as a
// Synchronization `Atomic` bound onto the mapping, little-endian (SMEM and SMD are little-endian on every
// platform). The other process may write any byte at any moment, so each value is loaded exactly once into a
// local, validated there, and never read again. Offsets given to these helpers are checked by the callers
// (heap and channels validate everything before they touch memory); the helpers only assert alignment.

import CAmpShim
import Synchronization

/// A span of shared memory: base pointer and size. The base must be 8-byte aligned.
///
/// A plain value holding a pointer; it owns nothing. All accesses are atomic, so it may be used from any
/// thread (`@unchecked Sendable`); the memory must stay mapped while any copy is in use.
public struct SmemRegion: @unchecked Sendable {
    /// Start of the region.
    public let base: UnsafeMutableRawPointer
    /// Size in bytes.
    public let size: Int

    /// A region of `size` bytes at `base`.
    ///
    /// - Throws: `SmdError.invalidArgument` when `base` is not 8-byte aligned or `size` is negative.
    public init(base: UnsafeMutableRawPointer, size: Int) throws(SmdError) {
        guard UInt(bitPattern: base) % 8 == 0, size >= 0 else {
            throw SmdError(.invalidArgument, "shared region at \(base) of \(size) bytes: base must be 8-byte aligned, size not negative")
        }
        self.base = base
        self.size = size
    }

    /// Whether `count` bytes at `offset` lie inside the region (overflow-safe).
    public func contains(offset: Int, count: Int) -> Bool {
        guard offset >= 0, count >= 0 else { return false }
        let (end, overflow) = offset.addingReportingOverflow(count)
        return !overflow && end <= size
    }

    // MARK: 32-bit fields

    @inline(__always)
    func word(_ offset: Int) -> UnsafeMutablePointer<Atomic<UInt32>> {
        assert(offset % 4 == 0 && contains(offset: offset, count: 4), "unaligned or out-of-range word at \(offset)")
        return (base + offset).bindMemory(to: Atomic<UInt32>.self, capacity: 1)
    }

    @inline(__always)
    func load32(_ offset: Int) -> UInt32 {
        UInt32(littleEndian: word(offset).pointee.load(ordering: .relaxed))
    }

    @inline(__always)
    func acquire32(_ offset: Int) -> UInt32 {
        UInt32(littleEndian: word(offset).pointee.load(ordering: .acquiring))
    }

    @inline(__always)
    func store32(_ value: UInt32, at offset: Int) {
        word(offset).pointee.store(value.littleEndian, ordering: .relaxed)
    }

    @inline(__always)
    func release32(_ value: UInt32, at offset: Int) {
        word(offset).pointee.store(value.littleEndian, ordering: .releasing)
    }

    // MARK: 8-bit fields

    @inline(__always)
    func byte(_ offset: Int) -> UnsafeMutablePointer<Atomic<UInt8>> {
        assert(contains(offset: offset, count: 1), "out-of-range byte at \(offset)")
        return (base + offset).bindMemory(to: Atomic<UInt8>.self, capacity: 1)
    }

    @inline(__always)
    func load8(_ offset: Int) -> UInt8 { byte(offset).pointee.load(ordering: .relaxed) }

    @inline(__always)
    func store8(_ value: UInt8, at offset: Int) { byte(offset).pointee.store(value, ordering: .relaxed) }

    // MARK: Byte runs

    /// A copy of `count` bytes at `offset`, read 32 bits at a time (offset and count multiples of 4).
    func snapshotWords(at offset: Int, count: Int) -> [UInt8] {
        assert(offset % 4 == 0 && count % 4 == 0)
        var bytes = [UInt8](repeating: 0, count: count)
        bytes.withUnsafeMutableBytes { destination in
            for index in stride(from: 0, to: count, by: 4) {
                // Native-order load and store: the bytes keep their memory order.
                let value = word(offset + index).pointee.load(ordering: .relaxed)
                destination.storeBytes(of: value, toByteOffset: index, as: UInt32.self)
            }
        }
        return bytes
    }

    /// Writes `bytes` at `offset` 32 bits at a time (offset and count multiples of 4).
    func storeWords(_ bytes: [UInt8], at offset: Int) {
        assert(offset % 4 == 0 && bytes.count % 4 == 0)
        bytes.withUnsafeBytes { source in
            for index in stride(from: 0, to: bytes.count, by: 4) {
                let value = source.loadUnaligned(fromByteOffset: index, as: UInt32.self)
                word(offset + index).pointee.store(value, ordering: .relaxed)
            }
        }
    }

    /// Zeroes `count` bytes at `offset` 32 bits at a time (offset and count multiples of 4).
    func zeroWords(at offset: Int, count: Int) {
        assert(offset % 4 == 0 && count % 4 == 0)
        for index in stride(from: 0, to: count, by: 4) {
            word(offset + index).pointee.store(0, ordering: .relaxed)
        }
    }
}

/// Full fence between the stores and loads of a flag handshake (both sides store, then fence, then load).
@inline(__always)
func smdFullFence() { amp_fence_seq_cst() }

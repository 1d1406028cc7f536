// Copies into and out of one SMD FIFO in shared memory, split where a run wraps around the end of the
// ring. Byte-layout channels copy with memcpy; word-layout channels touch the FIFO only with 32-bit
// accesses (their runs start and end on multiples of 4, which the channel validates).

import Synchronization

/// One FIFO of `geometry.size` bytes at `base`.
struct SmdFifoMemory {
    let base: UnsafeMutableRawPointer
    let geometry: SmdFifoGeometry
    /// Word channels: every access 32 bits wide.
    let wordAccess: Bool

    /// Copies `source` into the ring at `index` (split at the end); returns the index after it.
    /// `index` below size, `source.count` below size; word access: both multiples of 4.
    func write(_ source: UnsafeRawBufferPointer, at index: Int) -> Int {
        let spans = geometry.spans(at: index, count: source.count)
        copyIn(source, from: 0, to: spans.first)
        copyIn(source, from: spans.first.count, to: spans.second)
        return geometry.advance(index, by: source.count)
    }

    /// Copies `destination.count` bytes from the ring at `index` (split at the end) into `destination`.
    func read(into destination: UnsafeMutableRawBufferPointer, at index: Int) {
        let spans = geometry.spans(at: index, count: destination.count)
        copyOut(spans.first, into: destination, at: 0)
        copyOut(spans.second, into: destination, at: spans.first.count)
    }

    /// The bytes at `range` of the ring, in place (byte channels, runs that do not wrap).
    func contiguous(_ range: Range<Int>) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base + range.lowerBound, count: range.count)
    }

    private func copyIn(_ source: UnsafeRawBufferPointer, from sourceOffset: Int, to span: Range<Int>) {
        guard !span.isEmpty, let sourceBase = source.baseAddress else { return }
        if wordAccess {
            for index in stride(from: 0, to: span.count, by: 4) {
                let value = UnsafeRawPointer(sourceBase + sourceOffset + index).loadUnaligned(as: UInt32.self)
                word(span.lowerBound + index).pointee.store(value, ordering: .relaxed)
            }
        } else {
            (base + span.lowerBound).copyMemory(from: sourceBase + sourceOffset, byteCount: span.count)
        }
    }

    private func copyOut(_ span: Range<Int>, into destination: UnsafeMutableRawBufferPointer, at destinationOffset: Int) {
        guard !span.isEmpty, let destinationBase = destination.baseAddress else { return }
        if wordAccess {
            for index in stride(from: 0, to: span.count, by: 4) {
                let value = word(span.lowerBound + index).pointee.load(ordering: .relaxed)
                (destinationBase + destinationOffset + index).storeBytes(of: value, as: UInt32.self)
            }
        } else {
            (destinationBase + destinationOffset).copyMemory(from: base + span.lowerBound, byteCount: span.count)
        }
    }

    @inline(__always)
    private func word(_ offset: Int) -> UnsafeMutablePointer<Atomic<UInt32>> {
        (base + offset).bindMemory(to: Atomic<UInt32>.self, capacity: 1)
    }
}

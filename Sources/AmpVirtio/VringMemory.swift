// Field access to one legacy split ring living in memory shared with the other side of the link.
//
// Format (offsets from AmpWire's VringLayout, never recomputed here; native byte order, as legacy virtio
// between a host and a remote core on one machine):
//
//   desc[i]        at 16*i          addr u64 @0, len u32 @8, flags u16 @12, next u16 @14   (driver writes)
//   avail          at layout.availOffset       flags u16, idx u16, ring[num] u16, used_event u16   (driver writes)
//   used           at layout.usedOffset        flags u16, idx u16, ring[num] {id u32, len u32}, avail_event u16
//                                                                                          (device writes)
//
// Every field is read and written as a Synchronization `Atomic` bound onto the mapping. The other process may
// write any byte at any moment (a buggy or hostile peer), so plain loads would be data races; relaxed atomics
// cost nothing extra on x86-64 and arm64 (plain aligned moves) and guarantee each value is fetched exactly
// once: callers copy a field into a local, validate the local, and never read the field again. Only the
// free-running indices carry ordering (release on publish, acquire on observe); the full fences that
// notification suppression needs are issued by the queues with CAmpShim's amp_fence_seq_cst.
//
// Alignment: construction checks that the ring starts on a 16-byte boundary (the spec's descriptor-table
// alignment, enough for the u64 `addr`) and that the used ring is 4-byte aligned (for the u32 elements).

import AmpWire
import CAmpShim
import Synchronization

/// Typed atomic access to the fields of one split ring at `base`, laid out as `layout`.
///
/// A plain value: it holds no state beyond the pointer and the offsets. Index arguments named `slot` are
/// already reduced modulo `num`; descriptor indices must be below `num` (callers validate untrusted ones first).
struct VringMemory {
    let base: UnsafeMutableRawPointer
    let layout: VringLayout

    // Flag values from AmpWire, copied once at construction: reading another module's static constants on
    // every call goes through a global accessor (a call and a once-check) on the hot paths. (Assigned in
    // init rather than declared with a value, which the optimizer would fold back into the accessor call.)
    /// `VRING_DESC_F_NEXT`.
    let nextFlag: UInt16
    /// `VRING_DESC_F_WRITE`.
    let writeFlag: UInt16
    /// `VRING_DESC_F_INDIRECT`.
    let indirectFlag: UInt16
    /// `VRING_AVAIL_F_NO_INTERRUPT`.
    let noInterruptFlag: UInt16
    /// `VRING_USED_F_NO_NOTIFY`.
    let noNotifyFlag: UInt16

    init(base: UnsafeMutableRawPointer, layout: VringLayout) {
        self.base = base
        self.layout = layout
        nextFlag = VringDescriptor.Flags.next.rawValue
        writeFlag = VringDescriptor.Flags.write.rawValue
        indirectFlag = VringDescriptor.Flags.indirect.rawValue
        noInterruptFlag = VringAvailFlags.noInterrupt.rawValue
        noNotifyFlag = VringUsedFlags.noNotify.rawValue
    }

    // MARK: Binding

    @inline(__always)
    private func atomic16(_ offset: Int) -> UnsafeMutablePointer<Atomic<UInt16>> {
        (base + offset).bindMemory(to: Atomic<UInt16>.self, capacity: 1)
    }

    @inline(__always)
    private func atomic32(_ offset: Int) -> UnsafeMutablePointer<Atomic<UInt32>> {
        (base + offset).bindMemory(to: Atomic<UInt32>.self, capacity: 1)
    }

    @inline(__always)
    private func atomic64(_ offset: Int) -> UnsafeMutablePointer<Atomic<UInt64>> {
        (base + offset).bindMemory(to: Atomic<UInt64>.self, capacity: 1)
    }

    /// Offset of descriptor `index`; `index` must already be below `num`.
    @inline(__always)
    private func descriptorOffset(_ index: Int) -> Int {
        layout.descTableOffset + index &* VringDescriptor.size
    }

    /// Zeroes the whole ring (descriptor table, available ring, padding, used ring).
    func zero() {
        base.initializeMemory(as: UInt8.self, repeating: 0, count: layout.totalSize)
    }

    // MARK: Descriptor table (driver writes, device reads)

    @inline(__always)
    func storeDescriptor(_ index: Int, address: UInt64, length: UInt32, flags: UInt16, next: UInt16) {
        let offset = descriptorOffset(index)
        atomic64(offset).pointee.store(address, ordering: .relaxed)
        atomic32(offset + 8).pointee.store(length, ordering: .relaxed)
        atomic16(offset + 12).pointee.store(flags, ordering: .relaxed)
        atomic16(offset + 14).pointee.store(next, ordering: .relaxed)
    }

    @inline(__always)
    func descriptorAddress(_ index: Int) -> UInt64 {
        atomic64(descriptorOffset(index)).pointee.load(ordering: .relaxed)
    }

    @inline(__always)
    func descriptorLength(_ index: Int) -> UInt32 {
        atomic32(descriptorOffset(index) + 8).pointee.load(ordering: .relaxed)
    }

    @inline(__always)
    func descriptorFlags(_ index: Int) -> UInt16 {
        atomic16(descriptorOffset(index) + 12).pointee.load(ordering: .relaxed)
    }

    @inline(__always)
    func descriptorNext(_ index: Int) -> UInt16 {
        atomic16(descriptorOffset(index) + 14).pointee.load(ordering: .relaxed)
    }

    // MARK: Available ring (driver writes, device reads)

    @inline(__always)
    func storeAvailFlags(_ flags: UInt16) {
        atomic16(layout.availOffset).pointee.store(flags, ordering: .relaxed)
    }

    @inline(__always)
    func availFlags() -> UInt16 {
        atomic16(layout.availOffset).pointee.load(ordering: .relaxed)
    }

    /// Release store of `avail.idx`: every descriptor and ring entry written before it is visible to a reader
    /// that acquire-loads the new value.
    @inline(__always)
    func publishAvailIndex(_ index: UInt16) {
        atomic16(layout.availIdxOffset).pointee.store(index, ordering: .releasing)
    }

    /// Acquire load of `avail.idx`: the ring entries and descriptors below it are visible afterwards.
    @inline(__always)
    func observeAvailIndex() -> UInt16 {
        atomic16(layout.availIdxOffset).pointee.load(ordering: .acquiring)
    }

    @inline(__always)
    func storeAvailEntry(slot: Int, head: UInt16) {
        atomic16(layout.availRingOffset + 2 &* slot).pointee.store(head, ordering: .relaxed)
    }

    @inline(__always)
    func availEntry(slot: Int) -> UInt16 {
        atomic16(layout.availRingOffset + 2 &* slot).pointee.load(ordering: .relaxed)
    }

    @inline(__always)
    func storeUsedEvent(_ index: UInt16) {
        atomic16(layout.usedEventOffset).pointee.store(index, ordering: .relaxed)
    }

    @inline(__always)
    func usedEvent() -> UInt16 {
        atomic16(layout.usedEventOffset).pointee.load(ordering: .relaxed)
    }

    // MARK: Used ring (device writes, driver reads)

    @inline(__always)
    func storeUsedFlags(_ flags: UInt16) {
        atomic16(layout.usedOffset).pointee.store(flags, ordering: .relaxed)
    }

    @inline(__always)
    func usedFlags() -> UInt16 {
        atomic16(layout.usedOffset).pointee.load(ordering: .relaxed)
    }

    /// Release store of `used.idx`: every used element written before it is visible to a reader that
    /// acquire-loads the new value.
    @inline(__always)
    func publishUsedIndex(_ index: UInt16) {
        atomic16(layout.usedIdxOffset).pointee.store(index, ordering: .releasing)
    }

    /// Acquire load of `used.idx`: the used elements below it are visible afterwards.
    @inline(__always)
    func observeUsedIndex() -> UInt16 {
        atomic16(layout.usedIdxOffset).pointee.load(ordering: .acquiring)
    }

    @inline(__always)
    func storeUsedElement(slot: Int, id: UInt32, length: UInt32) {
        let offset = layout.usedRingOffset + VringUsedElement.size &* slot
        atomic32(offset).pointee.store(id, ordering: .relaxed)
        atomic32(offset + 4).pointee.store(length, ordering: .relaxed)
    }

    @inline(__always)
    func usedElementID(slot: Int) -> UInt32 {
        atomic32(layout.usedRingOffset + VringUsedElement.size &* slot).pointee.load(ordering: .relaxed)
    }

    @inline(__always)
    func usedElementLength(slot: Int) -> UInt32 {
        atomic32(layout.usedRingOffset + VringUsedElement.size &* slot + 4).pointee.load(ordering: .relaxed)
    }

    /// Starts loading the line of used element `slot` (a hint; nothing is read).
    @inline(__always)
    func prefetchUsedElement(slot: Int) {
        amp_prefetch(base + layout.usedRingOffset + VringUsedElement.size &* slot)
    }

    @inline(__always)
    func storeAvailEvent(_ index: UInt16) {
        atomic16(layout.availEventOffset).pointee.store(index, ordering: .relaxed)
    }

    @inline(__always)
    func availEvent() -> UInt16 {
        atomic16(layout.availEventOffset).pointee.load(ordering: .relaxed)
    }
}

extension VringMemory {
    /// Validates the ring parameters and the placement of `ring` for the queue called `name`.
    ///
    /// - Throws: `VirtqueueError` (`invalidArgument`) naming the queue when `num` or `align` is not accepted by
    ///   `VringLayout`, when the used ring would not start on a 4-byte boundary (its elements are u32; any
    ///   `align` of 4 or more is fine), or when `ring` is not 16-byte aligned.
    init(name: String, ring: UnsafeMutableRawPointer, num: Int, align: Int) throws(VirtqueueError) {
        let layout: VringLayout
        do {
            layout = try VringLayout(num: num, align: align)
        } catch {
            throw VirtqueueError(.invalidArgument, "\(name): \(error.field): \(error.reason)")
        }
        guard layout.usedOffset % 4 == 0 else {
            throw VirtqueueError(
                .invalidArgument, "\(name): vring.align = \(align): the used ring at offset \(layout.usedOffset) is not 4-byte aligned")
        }
        let address = UInt(bitPattern: ring)
        guard address % 16 == 0 else {
            throw VirtqueueError(
                .invalidArgument, "\(name): ring address 0x\(String(address, radix: 16)) is not 16-byte aligned")
        }
        self.init(base: ring, layout: layout)
    }
}

// Raw writes into a vring the way a broken or malicious remote would make them, for ampsoc-fw-hostile.
//
// Offsets come from AmpWire's VringLayout (legacy split ring: desc[num] {addr u64, len u32, flags u16,
// next u16} at 0; avail {flags u16, idx u16, ring[num] u16} at 16*num; used {flags u16, idx u16,
// ring[num] {id u32, len u32}} at the aligned offset); values are encoded with ByteWriter in the host's byte
// order and copied into the ring. used.idx is published with a releasing atomic store, as a real device
// does, so the host reads the garbage before it. The available ring and the descriptor table belong to the
// host (the driver): whatever is written there only tests that the host never reads them back.

import AmpRemote
import AmpWire
import Synchronization

/// One vring of the remote's rpmsg device, opened for raw writes.
struct HostileRing {
    let base: UnsafeMutableRawPointer
    let layout: VringLayout

    /// Opens vring `info` through the core's memory regions (an mmufault if the host placed it outside).
    init(core: RemoteCore, info: RpmsgRemoteDevice.VringInfo) throws {
        layout = try VringLayout(num: Int(info.num), align: Int(info.align))
        guard let base = core.memory(da: info.da, count: layout.totalSize).baseAddress else {
            throw WireError(field: "vring\(info.index)", offset: 0, reason: "empty ring")
        }
        self.base = base
    }

    /// used.idx as the device last published it.
    var usedIndex: UInt16 { index(at: layout.usedIdxOffset) }

    /// Publishes `index` as used.idx (releasing).
    func publishUsedIndex(_ index: UInt16) {
        store(index, at: layout.usedIdxOffset)
    }

    /// avail.idx as the host (the driver) last published it.
    var availIndex: UInt16 { index(at: layout.availIdxOffset) }

    /// Overwrites the host's avail.idx with `index`.
    func overwriteAvailIndex(_ index: UInt16) {
        store(index, at: layout.availIdxOffset)
    }

    /// Writes used.ring[slot of `index`] = {id, len}.
    func writeUsedElement(at index: UInt16, id: UInt32, length: UInt32) {
        var writer = ByteWriter(count: VringUsedElement.size, order: .host)
        writer.put(id, at: 0)
        writer.put(length, at: 4)
        copy(writer.bytes, to: layout.usedEntryOffset(forIndex: index))
    }

    /// Overwrites every descriptor with an address outside any sane memory, a huge length, NEXT|INDIRECT and an
    /// out-of-range next index.
    func scribbleDescriptors() {
        var writer = ByteWriter(count: VringDescriptor.size, order: .host)
        writer.put(UInt64(0xDEAD_BEEF_DEAD_BEEF), at: 0)
        writer.put(UInt32.max, at: 8)
        writer.put(UInt16(VringDescriptor.Flags.next.rawValue | VringDescriptor.Flags.indirect.rawValue), at: 12)
        writer.put(UInt16.max, at: 14)
        for index in 0..<layout.num {
            copy(writer.bytes, to: layout.descTableOffset + index * VringDescriptor.size)
        }
    }

    /// Chains every descriptor into one loop: flags WRITE|NEXT and next = (index + 1) % num, so following
    /// `next` from any head never ends. Addresses and lengths stay as the host wrote them.
    func chainDescriptorsInALoop() {
        let flags = VringDescriptor.Flags([.write, .next]).rawValue
        for index in 0..<layout.num {
            var writer = ByteWriter(count: 4, order: .host)
            writer.put(flags, at: 0)
            writer.put(UInt16(truncatingIfNeeded: (index + 1) % layout.num), at: 2)
            // flags u16 @12 and next u16 @14 of desc[index].
            copy(writer.bytes, to: layout.descTableOffset + index * VringDescriptor.size + 12)
        }
    }

    private func index(at offset: Int) -> UInt16 {
        (base + offset).bindMemory(to: Atomic<UInt16>.self, capacity: 1).pointee.load(ordering: .relaxed)
    }

    private func store(_ index: UInt16, at offset: Int) {
        (base + offset).bindMemory(to: Atomic<UInt16>.self, capacity: 1).pointee.store(index, ordering: .releasing)
    }

    private func copy(_ bytes: [UInt8], to offset: Int) {
        UnsafeMutableRawBufferPointer(start: base + offset, count: bytes.count).copyBytes(from: bytes)
    }
}

// A remote writing garbage into SMD structures: every bad value is a typed error naming the channel and
// field, never a crash or an access outside the channel's items.

import Testing

import AmpSMD
import AmpWire

@Suite("SmdHostileTests")
struct SmdHostileTests {
    /// Offset of the apps `rx` structure's field in the channel's info item.
    static func rxOffset(_ channel: SmdChannel, _ field: Int, memory: SharedMemory, heap: SmemHeap) throws -> Int {
        let item = try heap.item(SmdConstants.allocTables[channel.table].infoItem(cid: channel.cid))
        return item.offset + channel.layout.offset(of: .rx) + field
    }

    static func expectViolation(_ field: String, channel: String, _ body: () throws -> Void) {
        #expect {
            try body()
        } throws: { error in
            guard let error = error as? SmdError else { return false }
            return error.code == .protocolViolation && error.field == field && error.channel == channel
        }
    }

    @Test(arguments: SmdInfoLayout.allCases)
    func garbageIndicesStatesAndLengths(layout: SmdInfoLayout) throws {
        let pair = try EdgePair()
        let (host, remote) = try pair.openChannel(name: "evil", fifoSize: 128, layout: layout)
        let heap = pair.memory.hostHeap
        let headAt = try Self.rxOffset(host, layout.headOffset, memory: pair.memory, heap: heap)
        let stateAt = try Self.rxOffset(host, layout.stateOffset, memory: pair.memory, heap: heap)
        let infoItem = try heap.item(SmdConstants.allocTables[0].infoItem(cid: host.cid))
        let txTailAt = infoItem.offset + layout.tailOffset

        pair.memory.store32(128, at: headAt)
        Self.expectViolation("rx.head", channel: "evil") { _ = try pair.serviceHost() }
        pair.memory.store32(0xFFFF_FFFF, at: headAt)
        Self.expectViolation("rx.head", channel: "evil") { _ = try host.readableBytes() }
        if layout == .word {
            pair.memory.store32(6, at: headAt)
            Self.expectViolation("rx.head", channel: "evil") { _ = try pair.serviceHost() }
        }
        pair.memory.store32(0, at: headAt)

        pair.memory.store32(9, at: stateAt)
        Self.expectViolation("rx.state", channel: "evil") { _ = try pair.serviceHost() }
        Self.expectViolation("rx.state", channel: "evil") { _ = try pair.host.stateWork() }
        Self.expectViolation("rx.state", channel: "evil") { _ = try host.readRemoteState() }
        pair.memory.store32(2, at: stateAt)

        pair.memory.store32(0x8000_0000, at: txTailAt)
        Self.expectViolation("tx.tail", channel: "evil") { _ = try host.send([1, 2, 3, 4]) }
        pair.memory.store32(0, at: txTailAt)

        // A packet header claiming more than the FIFO can hold, then a word channel's odd length.
        _ = try remote.send(pattern(8))
        let fifo = try heap.item(SmdConstants.allocTables[0].fifoItem(cid: host.cid))
        pair.memory.store32(108, at: fifo.offset + 128)
        Self.expectViolation("packet.length", channel: "evil") { _ = try pair.serviceHost() }
        if layout == .word {
            pair.memory.store32(5, at: fifo.offset + 128)
            Self.expectViolation("packet.length", channel: "evil") { _ = try pair.serviceHost() }
        }
        // Repaired, the packet is read normally: nothing moved on the violations.
        pair.memory.store32(8, at: fifo.offset + 128)
        #expect(try pair.serviceHost().delivered == 1)
        #expect(pair.hostReceived["evil"] == [pattern(8)])
    }

    @Test func garbageAllocationEntries() throws {
        let pair = try EdgePair(edgeID: 1)
        let heap = pair.memory.remoteHeap
        let table = try heap.allocate(item: 13, size: 2048)
        let flags = SmdAllocFlags(edgeID: 1)
        func scanFails(_ field: String, _ entry: SmdAllocEntry, at index: Int, message: String? = nil) {
            pair.memory.store(entry.serialized(), at: table.offset + index * 32)
            #expect {
                _ = try pair.host.scan()
            } throws: { error in
                guard let error = error as? SmdError else { return false }
                return error.code == .protocolViolation && error.field == field
            }
            pair.memory.store([UInt8](repeating: 0, count: 32), at: table.offset + index * 32)
        }
        scanFails("smd_alloc_tbl[0][0].name", SmdAllocEntry(nameBytes: [UInt8](repeating: 0x41, count: 20), cid: 0, flags: flags, refCount: 1), at: 0)
        scanFails("smd_alloc_tbl[0][1].name", SmdAllocEntry(nameBytes: [0x41, 0xFF], cid: 0, flags: flags, refCount: 1), at: 1)
        scanFails("smd_alloc_tbl[0][2].cid", SmdAllocEntry(nameBytes: Array("x".utf8), cid: 64, flags: flags, refCount: 1), at: 2)
        scanFails("smem.toc[17]", SmdAllocEntry(nameBytes: Array("noitems".utf8), cid: 3, flags: flags, refCount: 1), at: 3)
        // Info item of a size that is neither layout, FIFO item that is not two powers of two.
        _ = try heap.allocate(item: 14 + 4, size: 48)
        _ = try heap.allocate(item: 338 + 4, size: 128)
        scanFails("info_item.size", SmdAllocEntry(nameBytes: Array("badinfo".utf8), cid: 4, flags: flags, refCount: 1), at: 4)
        _ = try heap.allocate(item: 14 + 5, size: 40)
        _ = try heap.allocate(item: 338 + 5, size: 96)
        scanFails("fifo_item.size", SmdAllocEntry(nameBytes: Array("badfifo".utf8), cid: 5, flags: flags, refCount: 1), at: 5)
        // An allocation table item too small to hold 64 entries.
        let other = try heap.allocate(item: 266, size: 64)
        pair.memory.store(SmdAllocEntry(nameBytes: Array("t1".utf8), cid: 0, flags: flags, refCount: 1).serialized(), at: other.offset)
        #expect {
            _ = try pair.host.scan()
        } throws: { ($0 as? SmdError)?.field == "smem.toc[266].size" }
    }

    @Test func garbageItemOffsetsNeverEscapeTheRegion() throws {
        let pair = try EdgePair()
        _ = try pair.remote.createChannel(name: "escape", fifoSize: 64, layout: .byte)
        // The remote points its FIFO item past the region.
        let entry = SmemLayout.tocEntryOffset(338)
        pair.memory.store32(UInt32(pair.memory.size - 64), at: entry + 4)
        #expect {
            _ = try pair.host.scan()
        } throws: { ($0 as? SmdError)?.field == "smem.toc[338].size" && ($0 as? SmdError)?.channel == "escape" }
    }
}

// SMEM allocation rules (Linux's global heap) and the validation of what another processor wrote.

import Testing

import AmpSMD
import AmpWire

@Suite("SmemHeapTests")
struct SmemHeapTests {
    @Test func initializeWritesTheBootLoaderHeader() throws {
        let memory = try SharedMemory(size: 0x4000)
        let expected = try SmemHeader.initial(regionSize: 0x4000).serialized()
        #expect(memory.bytes(at: 0, count: SmemLayout.headerSize) == expected)
        #expect(memory.load32(0x5C) == 0x000B_0000)
        #expect(memory.load32(0xC0) == 1)
        #expect(memory.load32(0xC4) == 0x20D0)
        #expect(memory.load32(0xC8) == 0x4000 - 0x20D0)
        try memory.hostHeap.validateHeader()
        #expect(try memory.hostHeap.available() == 0x4000 - 0x20D0)
    }

    @Test func allocateFollowsLinuxRules() throws {
        let memory = try SharedMemory(size: 0x4000)
        let heap = memory.remoteHeap
        let first = try heap.allocate(item: 14, size: 40)
        #expect(first == SmemItem(number: 14, offset: 0x20D0, size: 40))
        let second = try heap.allocate(item: 338, size: 13)
        #expect(second == SmemItem(number: 338, offset: 0x20D0 + 40, size: 16))
        #expect(memory.load32(0xC4) == 0x20D0 + 56)
        #expect(memory.load32(0xC8) == 0x4000 - 0x20D0 - 56)
        // toc[338] = {allocated 1, offset, size 16, aux_base 0}
        let entry = SmemLayout.tocEntryOffset(338)
        #expect(memory.bytes(at: entry, count: 16) == SmemGlobalEntry(allocated: 1, offset: 0x20D0 + 40, size: 16).serialized())
        #expect(try memory.hostHeap.item(338) == second)
        #expect(memory.load32(0) == 0, "the lock word is outside the header")
        #expect(memory.lockWord.load(as: UInt32.self) == 0, "lock released")

        #expect(throws: SmdError(.invalidArgument, field: "smem.toc[7]", "item 7 cannot be allocated (items 8..<512 only)")) {
            try heap.allocate(item: 7, size: 8)
        }
        #expect(throws: SmdError(.invalidArgument, field: "smem.toc[512]", "item 512 cannot be allocated (items 8..<512 only)")) {
            try heap.allocate(item: 512, size: 8)
        }
        #expect(throws: SmdError(.exists, field: "smem.toc[14]", "item 14 is already allocated")) {
            try heap.allocate(item: 14, size: 8)
        }
        let left = try heap.available()
        #expect(throws: SmdError(.noSpace, field: "smem.available", "item 20 needs \(left + 8) bytes but only \(left) are available")) {
            try heap.allocate(item: 20, size: left + 1)
        }
        #expect(try heap.allocate(item: 20, size: left).size == left)
        #expect(try heap.available() == 0)
        #expect(throws: SmdError(.notFound, field: "smem.toc[21]", "item 21 is not allocated")) { try heap.item(21) }
        #expect(throws: SmdError.self) { try heap.item(-1) }
    }

    @Test func lockTimesOut() throws {
        let memory = try SharedMemory(size: 0x4000)
        let quick = try SmemHeap(
            region: memory.region, lock: SmemSpinlock(word: memory.lockWord, owner: 2, timeout: .milliseconds(20)))
        memory.lockWord.storeBytes(of: UInt32(1), as: UInt32.self)
        #expect(throws: SmdError(.lockTimeout, field: "spinlock", "SMEM spinlock held by token 1 for more than 0.02 seconds; giving up")) {
            try quick.allocate(item: 100, size: 8)
        }
        memory.lockWord.storeBytes(of: UInt32(0), as: UInt32.self)
        #expect(try quick.allocate(item: 100, size: 8).number == 100)
        // The default is Linux's 1000 ms.
        #expect(memory.hostHeap.lock.timeout == .milliseconds(1000))
        #expect(throws: SmdError.self) { try SmemSpinlock(word: memory.lockWord, owner: 0) }
    }

    @Test func corruptedTocEntriesAreViolations() throws {
        let memory = try SharedMemory(size: 0x4000)
        let item = try memory.remoteHeap.allocate(item: 50, size: 64)
        let entry = SmemLayout.tocEntryOffset(50)
        func expectViolation(_ field: String, _ patch: () -> Void) {
            patch()
            #expect {
                try memory.hostHeap.item(50)
            } throws: { error in
                (error as? SmdError)?.code == .protocolViolation && (error as? SmdError)?.field == field
            }
            memory.store(SmemGlobalEntry(allocated: 1, offset: UInt32(item.offset), size: 64).serialized(), at: entry)
        }
        expectViolation("smem.toc[50].allocated") { memory.store32(2, at: entry) }
        expectViolation("smem.toc[50].offset") { memory.store32(0x100, at: entry + 4) }
        expectViolation("smem.toc[50].offset") { memory.store32(0x20D4, at: entry + 4) }
        expectViolation("smem.toc[50].size") { memory.store32(0x4000, at: entry + 8) }
        expectViolation("smem.toc[50].size") { memory.store32(0xFFFF_FFF8, at: entry + 8) }
        expectViolation("smem.toc[50].offset") { memory.store32(0xFFFF_FFF8, at: entry + 4) }
        expectViolation("smem.toc[50].aux_base") { memory.store32(0x1000, at: entry + 12) }
        // aux_base flag bits (0..1) are ignored.
        memory.store32(3, at: entry + 12)
        #expect(try memory.hostHeap.item(50) == item)
    }

    @Test func corruptedHeaderIsAViolation() throws {
        let memory = try SharedMemory(size: 0x4000)
        memory.store32(0x3FF8, at: SmemLayout.freeOffsetOffset)
        #expect {
            try memory.remoteHeap.allocate(item: 30, size: 8)
        } throws: { ($0 as? SmdError)?.field == "smem.available" }
        memory.store32(0x10, at: SmemLayout.freeOffsetOffset)
        #expect {
            try memory.hostHeap.available()
        } throws: { ($0 as? SmdError)?.field == "smem.free_offset" }
        memory.hostHeap.initialize()
        memory.store32(0, at: SmemLayout.initializedOffset)
        #expect {
            try memory.hostHeap.validateHeader()
        } throws: { ($0 as? SmdError)?.field == "smem.initialized" }
        memory.hostHeap.initialize()
        memory.store32(12 << 16, at: SmemLayout.versionWordOffset(7))
        #expect {
            try memory.hostHeap.validateHeader()
        } throws: { ($0 as? SmdError)?.field == "smem.version[7]" }
    }

    @Test func heapNeedsRoomForTheHeader() throws {
        let memory = try SharedMemory(size: 0x4000)
        let small = try SmemRegion(base: memory.region.base, size: 0x20CF)
        #expect(throws: SmdError.self) { try SmemHeap(region: small, lock: memory.hostHeap.lock) }
        #expect(throws: SmdError.self) { try SmemRegion(base: memory.region.base + 4, size: 16) }
    }
}

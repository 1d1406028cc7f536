// Golden bytes and offsets of the SMEM global-heap header and its table-of-contents entries.

import Testing

import AmpWire

@Suite("SmemWireTests")
struct SmemWireTests {
    @Test func headerOffsetsAndSizes() {
        #expect(SmemLayout.procCommOffset == 0x000)
        #expect(SmemLayout.procCommCount * SmemLayout.procCommEntrySize == 0x40)
        #expect(SmemLayout.versionOffset == 0x040)
        #expect(SmemLayout.versionWordOffset(7) == 0x05C)
        #expect(SmemLayout.initializedOffset == 0x0C0)
        #expect(SmemLayout.freeOffsetOffset == 0x0C4)
        #expect(SmemLayout.availableOffset == 0x0C8)
        #expect(SmemLayout.reservedOffset == 0x0CC)
        #expect(SmemLayout.tocOffset == 0x0D0)
        #expect(SmemLayout.itemCount == 512)
        #expect(SmemLayout.headerSize == 0x20D0)
        #expect(SmemHeader.size == 0x20D0)
        #expect(SmemLayout.tocEntryOffset(0) == 0x0D0)
        #expect(SmemLayout.tocEntryOffset(13) == 0x0D0 + 13 * 16)
        #expect(SmemLayout.tocEntryOffset(511) == 0x20C0)
        #expect(SmemLayout.firstAllocatableItem == 8)
        #expect(SmemLayout.globalHeapVersion == 11)
        #expect(SmemLayout.globalHeapVersionWord == 0x000B_0000)
        #expect(SmemLayout.hardwareSpinlockID == 3)
        #expect(SmemLayout.spinlockTimeoutMilliseconds == 1000)
        #expect(SmemLayout.appsHostID == 0)
    }

    @Test(arguments: [(0, 0), (1, 8), (7, 8), (8, 8), (9, 16), (40, 40), (88, 88), (2049, 2056)])
    func roundedAllocationSize(size: Int, expected: Int) {
        #expect(SmemLayout.roundedAllocationSize(size) == expected)
    }

    @Test func roundedAllocationSizeRejectsNegativeAndOverflow() {
        #expect(SmemLayout.roundedAllocationSize(-1) == nil)
        #expect(SmemLayout.roundedAllocationSize(Int.max) == nil)
    }

    @Test func globalEntryGolden() throws {
        let entry = SmemGlobalEntry(allocated: 1, offset: 0x0000_20D0, size: 0x58, auxBase: 0x0403_0201)
        #expect(SmemGlobalEntry.size == 16)
        #expect(SmemGlobalEntry.allocatedOffset == 0)
        #expect(SmemGlobalEntry.offsetOffset == 4)
        #expect(SmemGlobalEntry.sizeOffset == 8)
        #expect(SmemGlobalEntry.auxBaseOffset == 12)
        let golden = WireTestSupport.bytes("01000000 d0200000 58000000 01020304")
        #expect(entry.serialized() == golden)
        #expect(try SmemGlobalEntry(from: ByteReader(golden, order: .little), at: 0) == entry)
    }

    @Test func globalEntryTruncatedNamesField() {
        #expect(throws: WireError(field: "smem.toc[3]", offset: 0, reason: "needs 16 bytes but only 12 remain (input is 12 bytes)")) {
            try SmemGlobalEntry(from: ByteReader([UInt8](repeating: 0, count: 12), order: .little), at: 0, field: "smem.toc[3]")
        }
    }

    @Test func initialHeaderGolden() throws {
        let header = try SmemHeader.initial(regionSize: 0x10000)
        let bytes = header.serialized()
        #expect(bytes.count == 0x20D0)
        // version[7] = 11 << 16, initialized = 1, free_offset = 0x20D0, available = 0x10000 - 0x20D0.
        #expect(Array(bytes[0x5C..<0x60]) == WireTestSupport.bytes("00000b00"))
        #expect(Array(bytes[0xC0..<0xD0]) == WireTestSupport.bytes("01000000 d0200000 30df0000 00000000"))
        var expected = [UInt8](repeating: 0, count: 0x20D0)
        expected.replaceSubrange(0x5C..<0x60, with: WireTestSupport.bytes("00000b00"))
        expected.replaceSubrange(0xC0..<0xD0, with: WireTestSupport.bytes("01000000 d0200000 30df0000 00000000"))
        #expect(bytes == expected)
        #expect(header.heapVersion == 11)
        try header.validate(regionSize: 0x10000)
    }

    @Test func headerRoundTripsEveryField() throws {
        var header = SmemHeader()
        for index in 0..<16 { header.procComm[index] = UInt32(0x1000 + index) }
        for index in 0..<32 { header.version[index] = UInt32(0x2000 + index) }
        header.initialized = 0xA1
        header.freeOffset = 0xA2
        header.available = 0xA3
        header.reserved = 0xA4
        header.toc[8] = SmemGlobalEntry(allocated: 1, offset: 0x3000, size: 0x40, auxBase: 0)
        header.toc[511] = SmemGlobalEntry(allocated: 1, offset: 0x4000, size: 0x80, auxBase: 0)
        let bytes = header.serialized()
        #expect(WireTestSupport.read(bytes, at: 0x000, width: 4, order: .little) == 0x1000)
        #expect(WireTestSupport.read(bytes, at: 0x03C, width: 4, order: .little) == 0x100F)
        #expect(WireTestSupport.read(bytes, at: 0x040, width: 4, order: .little) == 0x2000)
        #expect(WireTestSupport.read(bytes, at: 0x0BC, width: 4, order: .little) == 0x201F)
        #expect(WireTestSupport.read(bytes, at: 0x0C0, width: 4, order: .little) == 0xA1)
        #expect(WireTestSupport.read(bytes, at: 0x0C4, width: 4, order: .little) == 0xA2)
        #expect(WireTestSupport.read(bytes, at: 0x0C8, width: 4, order: .little) == 0xA3)
        #expect(WireTestSupport.read(bytes, at: 0x0CC, width: 4, order: .little) == 0xA4)
        #expect(Array(bytes[0x150..<0x160]) == WireTestSupport.bytes("01000000 00300000 40000000 00000000"))
        #expect(Array(bytes[0x20C0..<0x20D0]) == WireTestSupport.bytes("01000000 00400000 80000000 00000000"))
        #expect(try SmemHeader(from: ByteReader(bytes, order: .little)) == header)
    }

    @Test func headerValidationNamesField() throws {
        var header = try SmemHeader.initial(regionSize: 0x4000)
        header.initialized = 0
        #expect(throws: WireError(field: "smem.initialized", offset: 0xC0, reason: "is 0, not 1: not set up by the boot loader")) {
            try header.validate(regionSize: 0x4000)
        }
        header = try SmemHeader.initial(regionSize: 0x4000)
        header.version[7] = 12 << 16
        #expect(throws: WireError(field: "smem.version[7]", offset: 0x5C, reason: "heap version 12 is not the global heap (11)")) {
            try header.validate(regionSize: 0x4000)
        }
        header = try SmemHeader.initial(regionSize: 0x4000)
        header.available = 0x4000
        #expect(throws: WireError(field: "smem.available", offset: 0xC8, reason: "free_offset 0x20d0 + available 16384 exceeds the 16384-byte region")) {
            try header.validate(regionSize: 0x4000)
        }
        header = try SmemHeader.initial(regionSize: 0x4000)
        header.freeOffset = 0x100
        #expect(throws: WireError.self) { try header.validate(regionSize: 0x4000) }
        header = try SmemHeader.initial(regionSize: 0x4000)
        header.reserved = 1
        #expect(throws: WireError(field: "smem.reserved", offset: 0xCC, reason: "is 0x1, not 0")) {
            try header.validate(regionSize: 0x4000)
        }
    }

    @Test func initialHeaderNeedsRoom() {
        #expect(throws: WireError.self) { try SmemHeader.initial(regionSize: 0x20CF) }
        #expect(throws: Never.self) { try SmemHeader.initial(regionSize: 0x20D0) }
    }
}

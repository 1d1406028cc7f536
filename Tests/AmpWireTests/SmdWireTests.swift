// Golden bytes and offsets of the SMD wire structures: allocation entries, channel info in the byte and word
// layouts, info pairs, packet headers, and the item numbers of the allocation tables.

import Testing

import AmpWire

@Suite("SmdWireTests")
struct SmdWireTests {
    // MARK: Constants

    @Test func allocationTablesAndConstants() {
        #expect(SmdConstants.allocTables.map(\.allocItem) == [13, 266])
        #expect(SmdConstants.allocTables.map(\.infoBase) == [14, 138])
        #expect(SmdConstants.allocTables.map(\.fifoBase) == [338, 202])
        #expect(SmdConstants.allocTables[0].infoItem(cid: 5) == 19)
        #expect(SmdConstants.allocTables[1].fifoItem(cid: 63) == 265)
        #expect(SmdConstants.entriesPerTable == 64)
        #expect(SmdConstants.allocTableSize == 2048)
        #expect(SmdConstants.packetHeaderSize == 20)
        #expect(SmdConstants.maxBounceBufferSize == 4096)
        #expect(SmdConstants.handshakeStageTimeoutMilliseconds == 1000)
    }

    @Test func channelStates() {
        #expect(SmdChannelState.allCases.map(\.rawValue) == [0, 1, 2, 3, 4, 5, 6])
        #expect(SmdChannelState.allCases.map(\.description) == ["CLOSED", "OPENING", "OPENED", "FLUSHING", "CLOSING", "RESET", "RESET_OPENING"])
        #expect(SmdChannelState(rawValue: 7) == nil)
        #expect(SmdChannelState.allCases.filter(\.isOpeningOrOpened) == [.opening, .opened])
    }

    @Test func allocFlags() {
        #expect(SmdAllocFlags.edgeMask == 0xFF)
        #expect(SmdAllocFlags.stream == 0x100)
        #expect(SmdAllocFlags.packet == 0x200)
        let flags = SmdAllocFlags(edgeID: 0x0F)
        #expect(flags.rawValue == 0x20F)
        #expect(flags.edgeID == 0x0F && flags.isPacket && !flags.isStream)
        #expect(SmdAllocFlags(edgeID: 3, packet: false, stream: true).rawValue == 0x103)
        #expect(SmdAllocFlags(rawValue: 0xFFFF_FC01).edgeID == 1)
    }

    // MARK: Allocation entry

    @Test func allocEntryGolden() throws {
        #expect(SmdAllocEntry.size == 32)
        #expect(SmdAllocEntry.nameOffset == 0 && SmdAllocEntry.nameCapacity == 20)
        #expect(SmdAllocEntry.cidOffset == 20)
        #expect(SmdAllocEntry.flagsOffset == 24)
        #expect(SmdAllocEntry.refCountOffset == 28)
        let entry = try SmdAllocEntry(name: "rpm_requests", cid: 0x0102_0304, flags: SmdAllocFlags(edgeID: 15), refCount: 1)
        let golden = WireTestSupport.bytes(
            "72706d5f7265717565737473 0000000000000000 04030201 0f020000 01000000")
        #expect(entry.serialized() == golden)
        let parsed = try SmdAllocEntry(from: ByteReader(golden, order: .little), at: 0)
        #expect(parsed == entry)
        #expect(try parsed.validatedName() == "rpm_requests")
        #expect(!parsed.hasEmptyName)
    }

    @Test func allocEntryNameRules() throws {
        #expect(throws: WireError.self) { try SmdAllocEntry(name: "", cid: 0, flags: SmdAllocFlags(edgeID: 0)) }
        #expect(throws: WireError.self) { try SmdAllocEntry(name: String(repeating: "x", count: 20), cid: 0, flags: SmdAllocFlags(edgeID: 0)) }
        #expect(throws: WireError.self) { try SmdAllocEntry(name: "tab\there", cid: 0, flags: SmdAllocFlags(edgeID: 0)) }
        #expect(throws: Never.self) { try SmdAllocEntry(name: String(repeating: "x", count: 19), cid: 0, flags: SmdAllocFlags(edgeID: 0)) }

        let unterminated = SmdAllocEntry(nameBytes: [UInt8](repeating: 0x41, count: 20), cid: 0, flags: SmdAllocFlags(rawValue: 0), refCount: 1)
        #expect(throws: WireError(field: "tbl[2].name", offset: 64, reason: "no NUL terminator in 20 bytes")) {
            try unterminated.validatedName(field: "tbl[2]", offset: 64)
        }
        let control = SmdAllocEntry(nameBytes: [0x41, 0x42, 0x07, 0x43], cid: 0, flags: SmdAllocFlags(rawValue: 0), refCount: 1)
        #expect(throws: WireError(field: "e.name", offset: 2, reason: "byte 0x7 at index 2 is not printable ASCII")) {
            try control.validatedName(field: "e")
        }
        let empty = SmdAllocEntry(nameBytes: [], cid: 0, flags: SmdAllocFlags(rawValue: 0), refCount: 0)
        #expect(empty.hasEmptyName)
        #expect(try empty.validatedName() == "")
    }

    // MARK: Channel info

    @Test func byteLayoutOffsets() {
        let layout = SmdInfoLayout.byte
        #expect(layout.size == 20 && layout.pairSize == 40 && layout.flagWidth == 1)
        #expect(layout.stateOffset == 0)
        #expect(SmdChannelFlag.allCases.map { layout.offset(of: $0) } == [4, 5, 6, 7, 8, 9, 10, 11])
        #expect(SmdChannelFlag.allCases.map(\.description) == ["fDSR", "fCTS", "fCD", "fRI", "fHEAD", "fTAIL", "fSTATE", "fBLOCKREADINTR"])
        #expect(layout.tailOffset == 12 && layout.headOffset == 16)
        #expect(layout.offset(of: .tx) == 0 && layout.offset(of: .rx) == 20)
    }

    @Test func wordLayoutOffsets() {
        let layout = SmdInfoLayout.word
        #expect(layout.size == 44 && layout.pairSize == 88 && layout.flagWidth == 4)
        #expect(SmdChannelFlag.allCases.map { layout.offset(of: $0) } == [4, 8, 12, 16, 20, 24, 28, 32])
        #expect(layout.tailOffset == 36 && layout.headOffset == 40)
        #expect(layout.offset(of: .tx) == 0 && layout.offset(of: .rx) == 44)
    }

    @Test func layoutFromItemSize() {
        #expect(SmdInfoLayout(infoItemSize: 40) == .byte)
        #expect(SmdInfoLayout(infoItemSize: 88) == .word)
        for size in [0, 20, 44, 48, 80, 96] { #expect(SmdInfoLayout(infoItemSize: size) == nil) }
    }

    static let sample = SmdChannelInfo(state: 2, flags: [1, 1, 1, 0, 1, 0, 1, 1], tail: 0x0000_0123, head: 0x0000_0456)

    @Test func byteInfoGolden() throws {
        let golden = WireTestSupport.bytes("02000000 01010100 01000101 23010000 56040000")
        #expect(Self.sample.serialized(layout: .byte) == golden)
        #expect(try SmdChannelInfo(layout: .byte, from: ByteReader(golden, order: .little), at: 0) == Self.sample)
    }

    @Test func wordInfoGolden() throws {
        let golden = WireTestSupport.bytes(
            "02000000 01000000 01000000 01000000 00000000 01000000 00000000 01000000 01000000 23010000 56040000")
        #expect(golden.count == 44)
        #expect(Self.sample.serialized(layout: .word) == golden)
        #expect(try SmdChannelInfo(layout: .word, from: ByteReader(golden, order: .little), at: 0) == Self.sample)
    }

    @Test(arguments: SmdInfoLayout.allCases)
    func pairGolden(layout: SmdInfoLayout) throws {
        var pair = SmdChannelInfoPair()
        pair.tx = SmdChannelInfo(state: 1, tail: 8, head: 0x20)
        pair.tx[.state] = 1
        pair.rx = SmdChannelInfo(state: 6, tail: 0x40, head: 4)
        pair.rx[.blockReadInterrupt] = 1
        let bytes = pair.serialized(layout: layout)
        #expect(bytes.count == layout.pairSize)
        let rx = layout.size
        #expect(WireTestSupport.read(bytes, at: 0, width: 4, order: .little) == 1)
        #expect(bytes[layout.offset(of: .state)] == 1)
        #expect(WireTestSupport.read(bytes, at: layout.tailOffset, width: 4, order: .little) == 8)
        #expect(WireTestSupport.read(bytes, at: layout.headOffset, width: 4, order: .little) == 0x20)
        #expect(WireTestSupport.read(bytes, at: rx, width: 4, order: .little) == 6)
        #expect(bytes[rx + layout.offset(of: .blockReadInterrupt)] == 1)
        #expect(WireTestSupport.read(bytes, at: rx + layout.tailOffset, width: 4, order: .little) == 0x40)
        #expect(WireTestSupport.read(bytes, at: rx + layout.headOffset, width: 4, order: .little) == 4)
        #expect(try SmdChannelInfoPair(infoItem: bytes) == pair)
        #expect(pair[.rx].state == 6)
    }

    @Test func pairRejectsOtherItemSizes() {
        #expect(throws: WireError(field: "smd_channel_info", offset: 0, reason: "an info item of 48 bytes is neither a byte pair (40) nor a word pair (88)")) {
            try SmdChannelInfoPair(infoItem: [UInt8](repeating: 0, count: 48))
        }
    }

    @Test func byteFlagsKeepLowEightBits() throws {
        var info = SmdChannelInfo()
        info[.ri] = 0x1FF
        let bytes = info.serialized(layout: .byte)
        #expect(bytes[7] == 0xFF)
        #expect(try SmdChannelInfo(layout: .byte, from: ByteReader(bytes, order: .little), at: 0)[.ri] == 0xFF)
    }

    // MARK: Packet header

    @Test func packetHeaderGolden() throws {
        #expect(SmdPacketHeader.size == 20)
        let header = SmdPacketHeader(length: 0x0102_0304)
        let golden = WireTestSupport.bytes("04030201 00000000 00000000 00000000 00000000")
        #expect(header.serialized() == golden)
        #expect(try SmdPacketHeader(from: ByteReader(golden, order: .little), at: 0) == header)
        let odd = WireTestSupport.bytes("05000000 01000000 02000000 03000000 04000000")
        let parsed = try SmdPacketHeader(from: ByteReader(odd, order: .little), at: 0)
        #expect(parsed.length == 5 && parsed.reserved == [1, 2, 3, 4])
    }

    @Test func packetFitRule() {
        // 20 + len must be strictly below the FIFO size.
        #expect(SmdPacketHeader.fits(length: 1003, fifoSize: 1024))
        #expect(!SmdPacketHeader.fits(length: 1004, fifoSize: 1024))
        #expect(!SmdPacketHeader.fits(length: -1, fifoSize: 1024))
        #expect(SmdPacketHeader(length: 11).fits(fifoSize: 32))
        #expect(!SmdPacketHeader(length: 12).fits(fifoSize: 32))
    }
}

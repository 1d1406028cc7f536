import Testing

import AmpWire

/// Bytes from hex digits; spaces are ignored. Test-only: traps on malformed literals.
private func hex(_ digits: String) -> [UInt8] {
    let clean = Array(digits.filter { !$0.isWhitespace })
    return stride(from: 0, to: clean.count, by: 2).map { UInt8(String(clean[$0...$0 + 1]), radix: 16)! }
}

@Suite("VringTests")
struct VringTests {
    // MARK: Layout

    struct ExpectedLayout: Sendable, CustomStringConvertible {
        var num, align, avail, availRing, usedEvent, used, usedRing, availEvent, total, allocation: Int
        var description: String { "num \(num) align \(align)" }
    }

    static let layouts: [ExpectedLayout] = [
        // The remoteproc default: the used ring starts on the third page.
        ExpectedLayout(
            num: 256, align: 4096, avail: 4096, availRing: 4100, usedEvent: 4612, used: 8192, usedRing: 8196,
            availEvent: 10244, total: 10246, allocation: 12288),
        ExpectedLayout(
            num: 16, align: 16, avail: 256, availRing: 260, usedEvent: 292, used: 304, usedRing: 308,
            availEvent: 436, total: 438, allocation: 4096),
        ExpectedLayout(
            num: 8, align: 16, avail: 128, availRing: 132, usedEvent: 148, used: 160, usedRing: 164,
            availEvent: 228, total: 230, allocation: 4096),
        ExpectedLayout(
            num: 4, align: 4096, avail: 64, availRing: 68, usedEvent: 76, used: 4096, usedRing: 4100,
            availEvent: 4132, total: 4134, allocation: 8192),
        // Smallest ring, no padding at all.
        ExpectedLayout(
            num: 1, align: 1, avail: 16, availRing: 20, usedEvent: 22, used: 24, usedRing: 28,
            availEvent: 36, total: 38, allocation: 4096),
        // Largest ring.
        ExpectedLayout(
            num: 32768, align: 4096, avail: 524_288, availRing: 524_292, usedEvent: 589_828, used: 593_920,
            usedRing: 593_924, availEvent: 856_068, total: 856_070, allocation: 860_160),
        // Largest alignment a u32 field can hold.
        ExpectedLayout(
            num: 256, align: 1 << 31, avail: 4096, availRing: 4100, usedEvent: 4612, used: 2_147_483_648,
            usedRing: 2_147_483_652, availEvent: 2_147_485_700, total: 2_147_485_702, allocation: 2_147_487_744),
    ]

    @Test("layout offsets and sizes", arguments: layouts)
    func layoutOffsets(expected: ExpectedLayout) throws {
        let layout = try VringLayout(num: expected.num, align: expected.align)
        #expect(layout.num == expected.num)
        #expect(layout.align == expected.align)
        #expect(layout.descTableOffset == 0)
        #expect(layout.availOffset == expected.avail)
        #expect(layout.availIdxOffset == expected.avail + 2)
        #expect(layout.availRingOffset == expected.availRing)
        #expect(layout.usedEventOffset == expected.usedEvent)
        #expect(layout.usedOffset == expected.used)
        #expect(layout.usedIdxOffset == expected.used + 2)
        #expect(layout.usedRingOffset == expected.usedRing)
        #expect(layout.availEventOffset == expected.availEvent)
        #expect(layout.totalSize == expected.total)
        #expect(try layout.allocationSize() == expected.allocation)
    }

    @Test func allocationWithOtherPageSizes() throws {
        let layout = try VringLayout(num: 256, align: 4096)
        #expect(try layout.allocationSize(pageSize: 1) == 10246)
        #expect(try layout.allocationSize(pageSize: 16384) == 16384)
        #expect(try layout.allocationSize(pageSize: 65536) == 65536)
        #expect(try layout.allocationSize(pageSize: 1 << 62) == 1 << 62)
    }

    @Test(arguments: [0, 3, 6, 100, 255, 32769, 65536, 1 << 20, -1, -256, Int.min])
    func rejectsBadNum(num: Int) {
        #expect(throws: WireError(
            field: "vring.num", offset: 0, reason: "\(num) is not a power of two between 1 and 32768")
        ) {
            try VringLayout(num: num, align: 4096)
        }
    }

    @Test(arguments: [0, 3, 12, 4095, 4097, 1 << 32, 1 << 62, -4096, Int.min])
    func rejectsBadAlign(align: Int) {
        #expect(throws: WireError(
            field: "vring.align", offset: 0, reason: "\(align) is not a power of two between 1 and 2147483648")
        ) {
            try VringLayout(num: 256, align: align)
        }
    }

    @Test(arguments: [0, 3, 4095, -4096, Int.min])
    func rejectsBadPageSize(pageSize: Int) throws {
        let layout = try VringLayout(num: 256, align: 4096)
        #expect(throws: WireError(
            field: "vring.page_size", offset: 0, reason: "\(pageSize) is not a positive power of two")
        ) {
            try layout.allocationSize(pageSize: pageSize)
        }
    }

    @Test func slotAndEntryOffsets() throws {
        let layout = try VringLayout(num: 256, align: 4096)
        #expect(layout.slot(of: 0) == 0)
        #expect(layout.slot(of: 255) == 255)
        #expect(layout.slot(of: 256) == 0)
        #expect(layout.slot(of: 65535) == 255)
        #expect(layout.availEntryOffset(forIndex: 0) == 4100)
        #expect(layout.availEntryOffset(forIndex: 65535) == 4100 + 2 * 255)
        #expect(layout.availEntryOffset(forIndex: 256) == 4100)
        #expect(layout.usedEntryOffset(forIndex: 1) == 8204)
        #expect(layout.usedEntryOffset(forIndex: 257) == 8204)
        #expect(layout.usedEntryOffset(forIndex: 65535) == 8196 + 8 * 255)
        #expect(try layout.descriptorOffset(0) == 0)
        #expect(try layout.descriptorOffset(255) == 4080)
        #expect(throws: WireError(field: "vring_desc", offset: 0, reason: "descriptor index 256 is not below num 256")) {
            try layout.descriptorOffset(256)
        }
        #expect(throws: WireError(field: "vring_desc", offset: 0, reason: "descriptor index -1 is not below num 256")) {
            try layout.descriptorOffset(-1)
        }
        let single = try VringLayout(num: 1, align: 1)
        #expect(single.slot(of: 65535) == 0)
        #expect(single.usedEntryOffset(forIndex: 12345) == 28)
    }

    /// A whole two-entry ring written through the layout's offsets, compared byte for byte.
    @Test func smallRingGoldenImage() throws {
        let layout = try VringLayout(num: 2, align: 4)
        #expect(layout.totalSize == 66)
        var writer = ByteWriter(count: layout.totalSize, order: .little)
        VringDescriptor(address: 0x1000, length: 0x200, flags: .write).write(to: &writer, at: try layout.descriptorOffset(0))
        VringDescriptor(address: 0x1200, length: 0x10, flags: .next, next: 0).write(to: &writer, at: try layout.descriptorOffset(1))
        writer.put(VringAvailFlags.noInterrupt.rawValue, at: layout.availOffset)
        writer.put(UInt16(0xFFFF), at: layout.availIdxOffset)
        writer.put(UInt16(1), at: layout.availEntryOffset(forIndex: 0xFFFE))
        writer.put(UInt16(0), at: layout.availEntryOffset(forIndex: 0xFFFF))
        writer.put(UInt16(0xABCD), at: layout.usedEventOffset)
        writer.put(VringUsedFlags.noNotify.rawValue, at: layout.usedOffset)
        writer.put(UInt16(3), at: layout.usedIdxOffset)
        VringUsedElement(id: 1, length: 0x44).write(to: &writer, at: layout.usedEntryOffset(forIndex: 2))
        writer.put(UInt16(0x1234), at: layout.availEventOffset)
        let expected: [String] = [
            "0010000000000000 00020000 0200 0000",  // desc[0] @0: addr, len, flags WRITE, next
            "0012000000000000 10000000 0100 0000",  // desc[1] @16: flags NEXT
            "0100 ffff 0100 0000 cdab",  // avail @32: flags, idx, ring[2], used_event @40
            "0000",  // padding to a multiple of 4 @42
            "0100 0300",  // used @44: flags, idx
            "0100000044000000 0000000000000000",  // used.ring[0], ring[1] @48
            "3412",  // avail_event @64
        ]
        #expect(writer.bytes == hex(expected.joined()))
    }

    // MARK: Descriptor and used element

    static let descriptor = VringDescriptor(
        address: 0x0102_0304_0506_0708, length: 0x090A_0B0C, flags: VringDescriptor.Flags(rawValue: 0x0D0E), next: 0x0F10)

    @Test func descriptorGoldenLittleEndian() throws {
        let golden = hex("0807060504030201 0c0b0a09 0e0d 100f")
        #expect(VringDescriptor.size == 16)
        #expect(Self.descriptor.serialized(order: .little) == golden)
        #expect(try VringDescriptor.parse(golden, order: .little) == Self.descriptor)
    }

    @Test func descriptorGoldenBigEndian() throws {
        let golden = hex("0102030405060708 090a0b0c 0d0e 0f10")
        #expect(Self.descriptor.serialized(order: .big) == golden)
        #expect(try VringDescriptor.parse(golden, order: .big) == Self.descriptor)
    }

    @Test(arguments: ByteOrder.allCases)
    func descriptorAtOffsetAndRoundTrip(order: ByteOrder) throws {
        let descriptor = VringDescriptor(address: 0xFFFF_FFFF_0000_0001, length: 512, flags: [.next, .write, .indirect], next: 7)
        var writer = ByteWriter(count: 40, order: order)
        descriptor.write(to: &writer, at: 24)
        #expect(writer.bytes.prefix(24).allSatisfy { $0 == 0 })
        let read = try VringDescriptor(from: ByteReader(writer.bytes, order: order), at: 24)
        #expect(read == descriptor)
        #expect(read.flags.rawValue == 7)
        #expect(read.flags.contains(.indirect))
    }

    @Test func descriptorFlagValues() {
        #expect(VringDescriptor.Flags.next.rawValue == 1)
        #expect(VringDescriptor.Flags.write.rawValue == 2)
        #expect(VringDescriptor.Flags.indirect.rawValue == 4)
    }

    @Test func descriptorTruncated() {
        #expect(throws: WireError(
            field: "vring_desc", offset: 0, reason: "needs 16 bytes but only 15 remain (input is 15 bytes)")
        ) {
            try VringDescriptor.parse([UInt8](repeating: 0, count: 15), order: .little)
        }
        #expect(throws: WireError(
            field: "vring_desc", offset: 20, reason: "needs 16 bytes but only 12 remain (input is 32 bytes)")
        ) {
            try VringDescriptor(from: ByteReader([UInt8](repeating: 0, count: 32), order: .big), at: 20)
        }
    }

    static let usedElement = VringUsedElement(id: 0x1112_1314, length: 0x1516_1718)

    @Test func usedElementGolden() throws {
        let little = hex("14131211 18171615")
        let big = hex("11121314 15161718")
        #expect(VringUsedElement.size == 8)
        #expect(Self.usedElement.serialized(order: .little) == little)
        #expect(Self.usedElement.serialized(order: .big) == big)
        #expect(try VringUsedElement.parse(little, order: .little) == Self.usedElement)
        #expect(try VringUsedElement.parse(big, order: .big) == Self.usedElement)
    }

    @Test(arguments: ByteOrder.allCases)
    func usedElementAtOffset(order: ByteOrder) throws {
        var writer = ByteWriter(order: order)
        Self.usedElement.write(to: &writer, at: 4)
        #expect(writer.bytes.count == 12)
        #expect(try VringUsedElement(from: ByteReader(writer.bytes, order: order), at: 4) == Self.usedElement)
        #expect(throws: WireError(
            field: "vring_used_elem", offset: 5, reason: "needs 8 bytes but only 7 remain (input is 12 bytes)")
        ) {
            try VringUsedElement(from: ByteReader(writer.bytes, order: order), at: 5)
        }
    }

    // MARK: Constants

    @Test func ringFlagAndFeatureConstants() {
        #expect(VringAvailFlags.noInterrupt.rawValue == 1)
        #expect(VringUsedFlags.noNotify.rawValue == 1)
        #expect(VirtioFeatureBit.ringIndirectDescriptors.rawValue == 28)
        #expect(VirtioFeatureBit.ringEventIndex.rawValue == 29)
        #expect(VirtioFeatureBit.rpmsgNameService.rawValue == 0)
        #expect(VirtioFeatureBit.ringIndirectDescriptors.mask == 0x1000_0000)
        #expect(VirtioFeatureBit.ringEventIndex.mask == 0x2000_0000)
        #expect(VirtioFeatureBit.rpmsgNameService.mask == 1)
        #expect(VirtioFeatureBit(rawValue: 31).mask == 0x8000_0000)
        #expect(VirtioFeatureBit(rawValue: 32).mask == 0)
        #expect(VirtioFeatureBit.rpmsgNameService.isSet(in: 0x2000_0001))
        #expect(VirtioFeatureBit.ringEventIndex.isSet(in: 0x2000_0001))
        #expect(!VirtioFeatureBit.ringIndirectDescriptors.isSet(in: 0x2000_0001))
        #expect(VirtioDeviceID.rpmsg == 7)
    }

    @Test func statusConstants() {
        #expect(VirtioStatus.acknowledge.rawValue == 1)
        #expect(VirtioStatus.driver.rawValue == 2)
        #expect(VirtioStatus.driverOK.rawValue == 4)
        #expect(VirtioStatus.featuresOK.rawValue == 8)
        #expect(VirtioStatus.failed.rawValue == 128)
        #expect(VirtioStatus.rpmsgReady.rawValue == 7)
    }

    // MARK: Index arithmetic

    struct EventCase: Sendable, CustomStringConvertible {
        var event, new, old: UInt16
        var expected: Bool
        var description: String { "event \(event) new \(new) old \(old) -> \(expected)" }
    }

    static let eventCases: [EventCase] = [
        EventCase(event: 0, new: 1, old: 0, expected: true),
        EventCase(event: 4, new: 5, old: 0, expected: true),
        EventCase(event: 5, new: 5, old: 0, expected: false),  // event not reached yet
        EventCase(event: 0, new: 5, old: 1, expected: false),  // event already behind old
        EventCase(event: 1, new: 5, old: 1, expected: true),
        EventCase(event: 3, new: 3, old: 3, expected: false),  // no movement, never notify
        // Indices crossing 65535 -> 0: moved from 65534 to 2 (entries 65534, 65535, 0, 1).
        EventCase(event: 65533, new: 2, old: 65534, expected: false),
        EventCase(event: 65534, new: 2, old: 65534, expected: true),
        EventCase(event: 65535, new: 2, old: 65534, expected: true),
        EventCase(event: 0, new: 2, old: 65534, expected: true),
        EventCase(event: 1, new: 2, old: 65534, expected: true),
        EventCase(event: 2, new: 2, old: 65534, expected: false),
        EventCase(event: 65535, new: 0, old: 65535, expected: true),
        EventCase(event: 0, new: 0, old: 65535, expected: false),
        // A full 32768-entry batch.
        EventCase(event: 32767, new: 32768, old: 0, expected: true),
        EventCase(event: 32768, new: 32768, old: 0, expected: false),
    ]

    @Test(arguments: eventCases)
    func needEvent(testCase: EventCase) {
        #expect(VringIndex.needEvent(event: testCase.event, new: testCase.new, old: testCase.old) == testCase.expected)
    }

    /// The formula equals "event lies in the wrapping window [old, new)" for every combination sampled.
    @Test func needEventMatchesWindowDefinition() {
        var state: UInt32 = 0x1234_5678
        func next() -> UInt16 {
            state = state &* 1_664_525 &+ 1_013_904_223
            return UInt16(truncatingIfNeeded: state >> 16)
        }
        for _ in 0..<20000 {
            let old = next()
            let new = old &+ (next() & 0x3FF)
            let event = old &+ (next() & 0x7FF) &- 0x200
            let inWindow = (event &- old) < (new &- old)
            #expect(VringIndex.needEvent(event: event, new: new, old: old) == inWindow)
        }
    }

    @Test func suppressedBehindMeansOneTo32768EntriesBehind() {
        #expect(!VringIndex.isSuppressedBehind(event: 10, index: 10))  // at the index: the next move crosses it
        #expect(VringIndex.isSuppressedBehind(event: 9, index: 10))
        #expect(VringIndex.isSuppressedBehind(event: 65535, index: 0))  // across the wrap
        #expect(VringIndex.isSuppressedBehind(event: 10 &- 32768, index: 10))
        #expect(!VringIndex.isSuppressedBehind(event: 10 &- 32769, index: 10))
        #expect(!VringIndex.isSuppressedBehind(event: 11, index: 10))  // ahead
        // Whatever an event index 1...32768 behind, no move of up to 32768 entries from the index crosses it.
        for behind in [1, 2, 100, 32767, 32768] {
            let event = UInt16(truncatingIfNeeded: 5000 - behind)
            #expect(VringIndex.isSuppressedBehind(event: event, index: 5000))
            for move in [1, 256, 32768] {
                #expect(!VringIndex.needEvent(event: event, new: UInt16(5000 + move), old: 5000), "behind \(behind), move \(move)")
            }
        }
    }

    @Test func distanceWraps() {
        #expect(VringIndex.distance(from: 10, to: 14) == 4)
        #expect(VringIndex.distance(from: 65535, to: 1) == 2)
        #expect(VringIndex.distance(from: 7, to: 7) == 0)
        #expect(VringIndex.distance(from: 0, to: 65535) == 65535)
    }
}

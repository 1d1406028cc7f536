import Testing

import AmpWire

/// Bytes from hex digits; spaces are ignored. Test-only: traps on malformed literals.
private func hex(_ digits: String) -> [UInt8] {
    let clean = Array(digits.filter { !$0.isWhitespace })
    return stride(from: 0, to: clean.count, by: 2).map { UInt8(String(clean[$0...$0 + 1]), radix: 16)! }
}

@Suite("RpmsgWireTests")
struct RpmsgWireTests {
    // MARK: Constants

    @Test func constants() {
        #expect(RpmsgConstants.headerSize == 16)
        #expect(RpmsgHeader.size == 16)
        #expect(RpmsgConstants.defaultBufferSize == 512)
        #expect(RpmsgConstants.defaultMTU == 496)
        #expect(RpmsgConstants.maxBufferCount == 512)
        #expect(RpmsgConstants.addressAny == 0xFFFF_FFFF)
        #expect(RpmsgConstants.reservedAddressLimit == 1024)
        #expect(RpmsgConstants.nameServiceAddress == 53)
        #expect(RpmsgConstants.nameSize == 32)
        #expect(RpmsgConstants.mtu(bufferSize: 512) == 496)
        #expect(RpmsgConstants.mtu(bufferSize: 4096) == 4080)
        #expect(RpmsgConstants.mtu(bufferSize: 16) == 0)
        #expect(RpmsgConstants.mtu(bufferSize: 8) == 0)
    }

    @Test(arguments: [(0, 0), (1, 2), (2, 4), (64, 128), (128, 256), (255, 510), (256, 512), (512, 512), (32768, 512)])
    func bufferCount(vringNum: Int, expected: Int) {
        #expect(RpmsgConstants.bufferCount(vringNum: vringNum) == expected)
    }

    // MARK: Header

    static let header = RpmsgHeader(
        source: 0x0102_0304, destination: 0x0506_0708, reserved: 0x090A_0B0C, length: 0x0D0E, flags: 0x0F10)

    @Test func headerGolden() throws {
        let little = hex("04030201 08070605 0c0b0a09 0e0d 100f")
        let big = hex("01020304 05060708 090a0b0c 0d0e 0f10")
        #expect(Self.header.serialized(order: .little) == little)
        #expect(Self.header.serialized(order: .big) == big)
        #expect(try RpmsgHeader(from: ByteReader(little, order: .little), at: 0) == Self.header)
        #expect(try RpmsgHeader(from: ByteReader(big, order: .big), at: 0) == Self.header)
    }

    @Test func headerTruncated() {
        #expect(throws: WireError(field: "rpmsg_hdr", offset: 4, reason: "needs 16 bytes but only 12 remain (input is 16 bytes)")) {
            try RpmsgHeader(from: ByteReader([UInt8](repeating: 0, count: 16), order: .little), at: 4)
        }
    }

    // MARK: Message

    @Test func messageGoldenLittleEndian() throws {
        let message = try RpmsgMessage(source: 0x400, destination: 0x35, payload: Array("hello".utf8))
        #expect(message.header == RpmsgHeader(source: 0x400, destination: 0x35, length: 5))
        #expect(message.wireSize == 21)
        let golden = hex("00040000 35000000 00000000 0500 0000 68656c6c6f")
        #expect(message.serialized(order: .little) == golden)
        #expect(try RpmsgMessage.parse(golden, order: .little) == message)
    }

    @Test func messageGoldenBigEndian() throws {
        let message = try RpmsgMessage(
            source: 0xAABB_CCDD, destination: 0x1122_3344, payload: [0xFE, 0xED], flags: 0x5566, reserved: 0x7788_99AA)
        let golden = hex("aabbccdd 11223344 778899aa 0002 5566 feed")
        #expect(message.serialized(order: .big) == golden)
        #expect(try RpmsgMessage.parse(golden, order: .big) == message)
        #expect(message.source == 0xAABB_CCDD)
        #expect(message.destination == 0x1122_3344)
    }

    /// A full 512-byte buffer of which the sender wrote only header plus 5 bytes.
    @Test(arguments: ByteOrder.allCases)
    func messageInLargerBuffer(order: ByteOrder) throws {
        let message = try RpmsgMessage(source: 1024, destination: 1025, payload: [1, 2, 3, 4, 5])
        var writer = ByteWriter(count: 512, order: order)
        message.write(to: &writer, at: 0)
        #expect(writer.bytes.count == 512)
        let read = try RpmsgMessage.parse(writer.bytes, order: order, validLength: 21)
        #expect(read == message)
        #expect(read.payload == [1, 2, 3, 4, 5])
        // Without a valid length the whole buffer counts; the header still says 5 bytes.
        #expect(try RpmsgMessage.parse(writer.bytes, order: order).payload == [1, 2, 3, 4, 5])
    }

    @Test func messageOfFullMTU() throws {
        let message = try RpmsgMessage(source: 1024, destination: 53, payload: [UInt8](repeating: 0x5A, count: 496))
        let bytes = message.serialized(order: .little)
        #expect(bytes.count == 512)
        #expect(try RpmsgMessage.parse(bytes, order: .little, validLength: 512) == message)
    }

    @Test func emptyPayload() throws {
        let message = try RpmsgMessage(source: 1, destination: 2, payload: [])
        #expect(message.serialized(order: .little) == hex("01000000 02000000 00000000 0000 0000"))
        #expect(try RpmsgMessage.parse(message.serialized(order: .little), order: .little, validLength: 16) == message)
    }

    @Test func headerLengthBeyondValidBytes() {
        var writer = ByteWriter(count: 512, order: .little)
        RpmsgHeader(source: 1024, destination: 1025, length: 6).write(to: &writer, at: 0)
        #expect(throws: WireError(
            field: "rpmsg_hdr.len", offset: 12, reason: "payload length 6 exceeds the 5 valid bytes after the header")
        ) {
            try RpmsgMessage.parse(writer.bytes, order: .little, validLength: 21)
        }
        RpmsgHeader(source: 1024, destination: 1025, length: 497).write(to: &writer, at: 0)
        #expect(throws: WireError(
            field: "rpmsg_hdr.len", offset: 12, reason: "payload length 497 exceeds the 496 valid bytes after the header")
        ) {
            try RpmsgMessage.parse(writer.bytes, order: .little)
        }
        RpmsgHeader(source: 1024, destination: 1025, length: 0xFFFF).write(to: &writer, at: 0)
        #expect(throws: WireError(
            field: "rpmsg_hdr.len", offset: 12, reason: "payload length 65535 exceeds the 496 valid bytes after the header")
        ) {
            try RpmsgMessage.parse(writer.bytes, order: .little, validLength: 512)
        }
    }

    @Test func validLengthOutsideBuffer() {
        let buffer = [UInt8](repeating: 0, count: 512)
        #expect(throws: WireError(field: "rpmsg.valid_length", offset: 0, reason: "valid length 513 is outside the 512-byte buffer")) {
            try RpmsgMessage.parse(buffer, order: .little, validLength: 513)
        }
        #expect(throws: WireError(field: "rpmsg.valid_length", offset: 0, reason: "valid length -1 is outside the 512-byte buffer")) {
            try RpmsgMessage.parse(buffer, order: .little, validLength: -1)
        }
    }

    @Test func tooFewValidBytesForHeader() {
        #expect(throws: WireError(field: "rpmsg_hdr", offset: 0, reason: "needs 16 bytes but only 15 are valid")) {
            try RpmsgMessage.parse([UInt8](repeating: 0, count: 512), order: .little, validLength: 15)
        }
        #expect(throws: WireError(field: "rpmsg_hdr", offset: 0, reason: "needs 16 bytes but only 0 are valid")) {
            try RpmsgMessage.parse([], order: .big)
        }
    }

    @Test func payloadTooLongForLengthField() throws {
        #expect(throws: WireError(
            field: "rpmsg_hdr.len", offset: 12, reason: "payload of 65536 bytes does not fit the u16 length field")
        ) {
            try RpmsgMessage(source: 1, destination: 2, payload: [UInt8](repeating: 0, count: 65536))
        }
        #expect(try RpmsgMessage(source: 1, destination: 2, payload: [UInt8](repeating: 0, count: 65535)).header.length == 65535)
    }

    // MARK: Names

    @Test func nameLimits() throws {
        let longest = String(repeating: "n", count: 31)
        #expect(try RpmsgName(longest).bytes.count == 31)
        #expect(try RpmsgName("rpmsg-client-sample").string == "rpmsg-client-sample")
        #expect(try RpmsgName("").bytes.isEmpty)
        #expect(throws: WireError(field: "rpmsg_name", offset: 0, reason: "name is 32 bytes; at most 31 fit in char[32]")) {
            try RpmsgName(longest + "x")
        }
        #expect(throws: WireError(field: "rpmsg_name", offset: 3, reason: "name contains a NUL byte at index 3")) {
            try RpmsgName(bytes: [0x61, 0x62, 0x63, 0, 0x64])
        }
        // Bytes are kept exactly, even when they are not UTF-8.
        let raw = try RpmsgName(bytes: [0xFF, 0x41])
        #expect(raw.bytes == [0xFF, 0x41])
        #expect(raw.string == "\u{FFFD}A")
    }

    @Test func nameReadStopsAtNULAndForcesLastByte() throws {
        var padded = Array("abc".utf8) + [0] + Array("junk".utf8)
        padded += [UInt8](repeating: 0x7A, count: 32 - padded.count)
        #expect(try RpmsgName.read(from: ByteReader(padded, order: .little), at: 0, field: "n").bytes == Array("abc".utf8))
        let unterminated = [UInt8](repeating: 0x41, count: 32)
        #expect(try RpmsgName.read(from: ByteReader(unterminated, order: .little), at: 0, field: "n").string
            == String(repeating: "A", count: 31))
        #expect(throws: WireError(field: "n", offset: 1, reason: "needs 32 bytes but only 31 remain (input is 32 bytes)")) {
            try RpmsgName.read(from: ByteReader(unterminated, order: .little), at: 1, field: "n")
        }
    }

    // MARK: Name service

    @Test func nameServiceGolden() throws {
        let message = NameServiceMessage(name: try RpmsgName("rpmsg-raw"), address: 0x0A0B_0C0D, action: .destroy)
        let name = hex("72706d73672d726177") + [UInt8](repeating: 0, count: 23)
        let little = name + hex("0d0c0b0a 01000000")
        let big = name + hex("0a0b0c0d 00000001")
        #expect(NameServiceMessage.size == 40)
        #expect(message.serialized(order: .little) == little)
        #expect(message.serialized(order: .big) == big)
        #expect(try NameServiceMessage.parse(little, order: .little) == message)
        #expect(try NameServiceMessage.parse(big, order: .big) == message)
    }

    @Test(arguments: ByteOrder.allCases)
    func nameServiceRoundTripAndActions(order: ByteOrder) throws {
        let create = NameServiceMessage(name: try RpmsgName("rpmsg-client-sample"), address: 1024, action: .create)
        #expect(create.flags == 0)
        #expect(create.action == .create)
        #expect(try NameServiceMessage.parse(create.serialized(order: order), order: order) == create)
        // Only bit 0 decides; other bits are kept as read.
        let odd = NameServiceMessage(name: try RpmsgName("x"), address: 5, flags: 0x8000_0003)
        let read = try NameServiceMessage.parse(odd.serialized(order: order), order: order)
        #expect(read.flags == 0x8000_0003)
        #expect(read.action == .destroy)
        #expect(NameServiceMessage(name: try RpmsgName("x"), address: 5, flags: 2).action == .create)
    }

    @Test func nameServiceWithoutNULReadsFirst31Bytes() throws {
        let bytes = [UInt8](repeating: 0x42, count: 32) + hex("35000000 00000000")
        let message = try NameServiceMessage.parse(bytes, order: .little)
        #expect(message.name.bytes == [UInt8](repeating: 0x42, count: 31))
        #expect(message.address == 53)
        #expect(message.action == .create)
        // Writing it back terminates the name: byte 31 becomes 0.
        #expect(message.serialized(order: .little)[31] == 0)
        #expect(message.serialized(order: .little)[30] == 0x42)
    }

    @Test(arguments: [0, 16, 39, 41, 56, 512])
    func nameServiceRejectsOtherLengths(length: Int) {
        #expect(throws: WireError(
            field: "rpmsg_ns_msg", offset: 0,
            reason: "payload is \(length) bytes; a name-service message is exactly 40")
        ) {
            try NameServiceMessage.parse([UInt8](repeating: 0, count: length), order: .little)
        }
    }

    @Test func nameServiceAfterHeader() throws {
        let announcement = NameServiceMessage(name: try RpmsgName("svc"), address: 0x401, action: .create)
        let message = try RpmsgMessage(
            source: 0x401, destination: RpmsgConstants.nameServiceAddress, payload: announcement.serialized(order: .little))
        let parsed = try RpmsgMessage.parse(message.serialized(order: .little), order: .little)
        #expect(parsed.header.length == 40)
        #expect(try NameServiceMessage.parse(parsed.payload, order: .little) == announcement)
    }

    // MARK: Endpoint info

    @Test func endpointInfoGolden() throws {
        let info = EndpointInfo(name: try RpmsgName("rpmsg-chrdev"), source: 0x1122_3344, destination: 0x5566_7788)
        let name = hex("72706d73672d636872646576") + [UInt8](repeating: 0, count: 20)
        let little = name + hex("44332211 88776655")
        let big = name + hex("11223344 55667788")
        #expect(EndpointInfo.size == 40)
        #expect(info.serialized(order: .little) == little)
        #expect(info.serialized(order: .big) == big)
        #expect(try EndpointInfo.parse(little, order: .little) == info)
        #expect(try EndpointInfo.parse(big, order: .big) == info)
    }

    @Test(arguments: ByteOrder.allCases)
    func endpointInfoDefaultsAndOffset(order: ByteOrder) throws {
        let info = EndpointInfo(name: try RpmsgName("ept"))
        #expect(info.source == 0xFFFF_FFFF)
        #expect(info.destination == 0xFFFF_FFFF)
        var writer = ByteWriter(count: 48, order: order)
        info.write(to: &writer, at: 8)
        #expect(try EndpointInfo(from: ByteReader(writer.bytes, order: order), at: 8) == info)
        #expect(throws: WireError(
            field: "rpmsg_endpoint_info", offset: 9, reason: "needs 40 bytes but only 39 remain (input is 48 bytes)")
        ) {
            try EndpointInfo(from: ByteReader(writer.bytes, order: order), at: 9)
        }
    }

    @Test func endpointInfoForcesNameTermination() throws {
        let bytes = [UInt8](repeating: 0x43, count: 32) + hex("00040000 ffffffff")
        let info = try EndpointInfo.parse(bytes, order: .little)
        #expect(info.name.bytes.count == 31)
        #expect(info.source == 1024)
        #expect(info.destination == RpmsgConstants.addressAny)
    }

    @Test(arguments: [0, 39, 41])
    func endpointInfoRejectsOtherLengths(length: Int) {
        #expect(throws: WireError(
            field: "rpmsg_endpoint_info", offset: 0,
            reason: "argument is \(length) bytes; rpmsg_endpoint_info is exactly 40")
        ) {
            try EndpointInfo.parse([UInt8](repeating: 0, count: length), order: .big)
        }
    }
}

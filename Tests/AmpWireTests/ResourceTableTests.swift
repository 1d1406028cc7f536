// Golden-byte tests of the resource table: one entry of every kind (carveout, devmem, trace, vdev with two
// vrings and 4 config bytes, vendor 128, unknown 7) in both byte orders, every field distinct so a wrong
// offset shows; sizes and constants; round trips; warnings.

import AmpWire
import Testing

@Suite("ResourceTableTests")
struct ResourceTableTests {
    typealias Support = WireTestSupport

    /// Little-endian golden table, 292 bytes. Entries at 40, 96, 152, 200, 272, 284.
    static let goldenLittle = Support.bytes(
        """
        01000000 06000000 00000000 00000000
        28000000 60000000 98000000 c8000000 10010000 1c010000
        00000000 00000010 0000d43e 00001000 14000000 00000000
        74657874000000000000000000000000 00000000000000000000000000000000
        01000000 00000060 0000004a 00000001 0e000000 00000000
        6c346366670000000000000000000000 00000000000000000000000000000000
        02000000 00400800 00800000 00000000
        72355f74726163650000000000000000 00000000000000000000000000000000
        03000000 07000000 1f000000 09000000 08000000 04000000 05 02 00 00
        ffffffff 00100000 00010000 01000000 00000000
        0040d43e 40000000 20000000 02000000 0040d40e
        deadbeef
        80000000 0102030405060708
        07000000 a1a2a3a4
        """)

    /// Widths of every field of the golden table, in order, for deriving the big-endian golden.
    static let fieldWidths: [Int] =
        Support.repeated(4, 4) + Support.repeated(4, 6)
        + Support.repeated(4, 6) + Support.repeated(1, 32)  // carveout
        + Support.repeated(4, 6) + Support.repeated(1, 32)  // devmem
        + Support.repeated(4, 4) + Support.repeated(1, 32)  // trace
        + Support.repeated(4, 6) + Support.repeated(1, 4) + Support.repeated(4, 10) + Support.repeated(1, 4)  // vdev
        + [4] + Support.repeated(1, 8)  // vendor
        + [4] + Support.repeated(1, 4)  // unknown

    static var goldenBig: [UInt8] { Support.swappingFields(goldenLittle, widths: fieldWidths) }

    static func golden(_ order: ByteOrder) -> [UInt8] { order == .little ? goldenLittle : goldenBig }

    static let carveout = Resource.Carveout(da: 0x1000_0000, pa: 0x3ED4_0000, len: 0x10_0000, flags: 0x14, name: "text")
    static let devmem = Resource.Devmem(da: 0x6000_0000, pa: 0x4A00_0000, len: 0x100_0000, flags: 0x0E, name: "l4cfg")
    static let trace = Resource.Trace(da: 0x8_4000, len: 0x8000, name: "r5_trace")
    static let vdev = Resource.VirtioDevice(
        id: 7, notifyid: 0x1F, dfeatures: 9, gfeatures: 8, status: 5,
        vrings: [
            .init(da: ResourceTable.addressAny, align: 0x1000, num: 0x100, notifyid: 1, pa: 0),
            .init(da: 0x3ED4_4000, align: 0x40, num: 0x20, notifyid: 2, pa: 0x0ED4_4000),
        ],
        config: [0xDE, 0xAD, 0xBE, 0xEF])

    static let resources: [Resource] = [
        .carveout(carveout), .devmem(devmem), .trace(trace), .vdev(vdev),
        .vendor(type: 128, data: [1, 2, 3, 4, 5, 6, 7, 8]), .unknown(type: 7, data: [0xA1, 0xA2, 0xA3, 0xA4]),
    ]

    static let expected = ResourceTable(
        version: 1, reserved: [0, 0], offsets: [40, 96, 152, 200, 272, 284],
        entries: zip([40, 96, 152, 200, 272, 284], resources).map { ResourceTableEntry(offset: $0, resource: $1) },
        size: 292)

    @Test func sizesAndConstants() {
        #expect(ResourceTable.headerSize == 16)
        #expect(ResourceTable.entryHeaderSize == 4 && ResourceTable.offsetSize == 4)
        #expect(ResourceTable.carveoutSize == 52 && ResourceTable.devmemSize == 52)
        #expect(ResourceTable.traceSize == 44)
        #expect(ResourceTable.vdevHeaderSize == 24 && ResourceTable.vringSize == 20)
        #expect(ResourceTable.addressAny == 0xFFFF_FFFF)
        #expect(ResourceType.carveout == 0 && ResourceType.devmem == 1 && ResourceType.trace == 2)
        #expect(ResourceType.vdev == 3 && ResourceType.last == 4)
        #expect(ResourceType.vendorRange == 128...512)
        #expect(Self.resources.map(\.encodedSize) == [56, 56, 48, 72, 12, 8])
        #expect(Self.resources.map(\.type) == [0, 1, 2, 3, 128, 7])
        #expect(Self.goldenLittle.count == 292)
        #expect(Resource.VdevOffset.vring(1) == 44 && Resource.VdevOffset.config(vringCount: 2) == 64)
        #expect(Resource.MemoryOffset.name == 20 && Resource.TraceOffset.name == 12 && Resource.VringOffset.pa == 16)
    }

    @Test(arguments: [ByteOrder.little, .big])
    func goldenParse(order: ByteOrder) throws {
        let table = try ResourceTable.parse(Self.golden(order), order: order)
        #expect(table.version == 1 && table.reserved == [0, 0] && table.size == 292)
        #expect(table.offsets == [40, 96, 152, 200, 272, 284])
        #expect(table.entries.map(\.offset) == [40, 96, 152, 200, 272, 284])
        #expect(table.entries[0].resource == .carveout(Self.carveout))
        #expect(table.entries[1].resource == .devmem(Self.devmem))
        #expect(table.entries[2].resource == .trace(Self.trace))
        #expect(table.entries[3].resource == .vdev(Self.vdev))
        #expect(table.entries[4].resource == .vendor(type: 128, data: [1, 2, 3, 4, 5, 6, 7, 8]))
        #expect(table.entries[5].resource == .unknown(type: 7, data: [0xA1, 0xA2, 0xA3, 0xA4]))
        #expect(table == Self.expected)
        #expect(table.warnings == ["unknown@284 has unknown type 7; Linux skips it"])
    }

    @Test(arguments: [ByteOrder.little, .big])
    func goldenSerialise(order: ByteOrder) {
        #expect(Self.expected.serialised(order: order) == Self.golden(order))
        // The contiguous-layout initialiser computes the same offsets and size.
        #expect(ResourceTable(resources: Self.resources) == Self.expected)
    }

    @Test(arguments: [ByteOrder.little, .big])
    func roundTripWithSpareSlotsAndPadding(order: ByteOrder) throws {
        // Like the Xilinx tables: 8 offset slots for 2 entries are not representable (num says 2), but
        // entries placed after a gap and trailing padding are.
        let table = ResourceTable(
            offsets: [120, 48],
            entries: [
                .init(offset: 120, resource: .trace(.init(da: 0x3ED2_01BC, len: 0x1000, name: "r5_trace"))),
                .init(offset: 48, resource: .vdev(.init(id: 7, notifyid: 31, dfeatures: 1, vrings: [
                    .init(da: ResourceTable.addressAny, align: 0x1000, num: 256, notifyid: 1),
                    .init(da: ResourceTable.addressAny, align: 0x1000, num: 256, notifyid: 2),
                ]))),
            ],
            size: 256)
        let bytes = table.serialised(order: order)
        #expect(bytes.count == 256)
        #expect(try ResourceTable.parse(bytes, order: order) == table)
        #expect(table.warnings.isEmpty)
    }

    @Test func vendorAndUnknownDataRunToTheNearestLaterOffset() throws {
        // Offsets out of order: the unknown entry at 24 runs to the trace at 40, not to the table end.
        var writer = [UInt8](repeating: 0, count: 100)
        Support.patch(&writer, at: 0, width: 4, value: 1, order: .little)
        Support.patch(&writer, at: 4, width: 4, value: 2, order: .little)
        Support.patch(&writer, at: 16, width: 4, value: 40, order: .little)
        Support.patch(&writer, at: 20, width: 4, value: 24, order: .little)
        Support.patch(&writer, at: 24, width: 4, value: 5, order: .little)
        for index in 28..<40 { writer[index] = UInt8(index) }
        Support.patch(&writer, at: 40, width: 4, value: 2, order: .little)
        let table = try ResourceTable.parse(writer, order: .little)
        #expect(table.entries[1].resource == .unknown(type: 5, data: Array(28..<40)))
        #expect(table.serialised(order: .little) == writer)
        // The last entry's data runs to the table end; vendor 512 is still vendor, 513 is unknown.
        Support.patch(&writer, at: 24, width: 4, value: 512, order: .little)
        Support.patch(&writer, at: 16, width: 4, value: 96, order: .little)
        Support.patch(&writer, at: 96, width: 4, value: 513, order: .little)
        let reordered = try ResourceTable.parse(writer, order: .little)
        #expect(reordered.entries[1].resource.type == 512)
        if case .vendor(_, let data) = reordered.entries[1].resource {
            #expect(data.count == 68)  // 28 ..< 96
        } else {
            Issue.record("type 512 should be vendor")
        }
        #expect(reordered.entries[0].resource == .unknown(type: 513, data: []))
    }

    @Test func namesUseAllThirtyTwoBytes() throws {
        let long = String(repeating: "n", count: 32)
        let table = ResourceTable(resources: [.carveout(.init(da: 1, pa: 2, len: 3, name: long + "ignored"))])
        let bytes = table.serialised(order: .little)
        #expect(Array(bytes[44..<76]) == Array(long.utf8))
        let parsed = try ResourceTable.parse(bytes, order: .little)
        #expect(parsed.entries[0].resource == .carveout(.init(da: 1, pa: 2, len: 3, name: long)))
        #expect(parsed.serialised(order: .little) == bytes)
    }

    @Test func emptyTableWithSpareSlot() throws {
        // The TI PRU "empty" table: num 0 plus one unused zero offset slot.
        let bytes = Support.bytes("01000000 00000000 00000000 00000000 00000000")
        let table = try ResourceTable.parse(bytes, order: .little)
        #expect(table.offsets.isEmpty && table.entries.isEmpty && table.size == 20)
        #expect(table.warnings.isEmpty)
        #expect(table.serialised(order: .little) == bytes)
    }

    @Test func warnings() {
        let trace = Resource.trace(.init(da: 0, len: 16, name: "t"))
        // Entry inside the offset array, unaligned entry, duplicate offset, overlapping entries.
        let table = ResourceTable(
            offsets: [16, 30, 30, 60],
            entries: [
                .init(offset: 16, resource: trace), .init(offset: 30, resource: trace),
                .init(offset: 30, resource: trace), .init(offset: 60, resource: trace),
            ],
            size: 200)
        #expect(table.warnings == [
            "offset[0] = 16 points inside the table header and offset array (bytes 0..<32)",
            "offset[1] = 30 points inside the table header and offset array (bytes 0..<32)",
            "offset[1] = 30 is not 4-byte aligned",
            "offset[2] = 30 points inside the table header and offset array (bytes 0..<32)",
            "offset[2] = 30 is not 4-byte aligned",
            "trace@16 (bytes 16..<64) overlaps trace@30",
            "offset[1] and offset[2] both point at 30: the entry would be handled twice",
            "trace@30 (bytes 30..<78) overlaps trace@60",
        ])
        // Vendor entries and fixed or ANY vring addresses are not warned about.
        let clean = ResourceTable(resources: [
            .vendor(type: 200, data: [1, 2, 3, 4]),
            .vdev(.init(id: 7, notifyid: 0, dfeatures: 1, vrings: [
                .init(da: ResourceTable.addressAny, align: 16, num: 8, notifyid: 0),
                .init(da: 0x2ED4_0000, align: 16, num: 8, notifyid: 1),
            ])),
        ])
        #expect(clean.warnings.isEmpty)
    }

    @Test func corruptedTablesNeverTrap() {
        var generator = Support.SeededGenerator(seed: 7)
        var accepted = 0
        for order in ByteOrder.allCases {
            let golden = Self.golden(order)
            for length in 0...golden.count {
                _ = try? ResourceTable.parse(Array(golden.prefix(length)), order: order)
            }
            for _ in 0..<2000 {
                var bytes = golden
                for _ in 0..<Int.random(in: 1...3, using: &generator) {
                    bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
                }
                if let table = try? ResourceTable.parse(bytes, order: order) {
                    accepted += 1
                    _ = table.warnings
                    #expect(table.serialised(order: order).count == bytes.count)
                }
            }
        }
        #expect(accepted > 100)
    }
}

// ResourceHandler on synthetic tables: golden write-backs (da, pa, notifyid), records, offsets, buffer
// pools and vring sizes. Error rules and their exact messages are in ResourceHandlerErrorTests.swift.

import AmpProfiles
import AmpWire
import Testing

@testable import AmpRemoteproc

@Suite("ResourceHandlerTests")
struct ResourceHandlerTests {
    typealias Support = RemoteprocTestSupport

    /// Seven entries, one of each kind:
    ///   0 @ 0x2c  carveout "text" fixed da 0x10000000 len 0x20000
    ///   1 @ 0x64  carveout "heap" da ANY len 0x1800
    ///   2 @ 0x9c  devmem "l4cfg" da = pa = 0x4A000000 len 0x1000
    ///   3 @ 0xd4  trace "log" da 0x10020000 len 0x400
    ///   4 @ 0x104 vdev rpmsg, 2 vrings ANY (num 256, align 4096), 4 config bytes
    ///   5 @ 0x14c vendor type 130
    ///   6 @ 0x154 unknown type 7
    static let fullTable: [Resource] = [
        Support.carveout("text", da: 0x1000_0000, len: 0x2_0000),
        Support.carveout("heap", da: Support.any, len: 0x1800),
        Support.devmem("l4cfg", da: 0x4A00_0000, pa: 0x4A00_0000, len: 0x1000),
        Support.trace("log", da: 0x1002_0000, len: 0x400),
        Support.vdev(vrings: [Support.vring(), Support.vring()], config: [1, 2, 3, 4]),
        .vendor(type: 130, data: [1, 2, 3, 4]),
        .unknown(type: 7, data: [9, 9, 9, 9]),
    ]

    @Test func fullTableGetsGoldenAllocations() throws {
        let allocation = try Support.handle(Self.fullTable, map: try Support.standardMap())
        #expect(ResourceTable(resources: Self.fullTable).entries.map(\.offset) == [0x2c, 0x64, 0x9c, 0xd4, 0x104, 0x14c, 0x154])

        #expect(
            allocation.carveouts == [
                CarveoutRecord(entryIndex: 0, entryOffset: 0x2c, name: "text", da: 0x1000_0000, pa: 0x8000_0000, len: 0x2_0000, flags: 0, segmentOffset: 0x1000),
                // First fit after "text" and the trace buffer (reserved), page aligned.
                CarveoutRecord(entryIndex: 1, entryOffset: 0x64, name: "heap", da: 0x1002_1000, pa: 0x8002_1000, len: 0x1800, flags: 0, segmentOffset: 0x22000),
            ])
        #expect(
            allocation.devmems == [
                DevmemRecord(entryIndex: 2, entryOffset: 0x9c, name: "l4cfg", da: 0x4A00_0000, pa: 0x4A00_0000, len: 0x1000, flags: 0, segmentOffset: 0x109000)
            ])
        #expect(
            allocation.traces == [
                TraceRecord(index: 0, entryIndex: 3, entryOffset: 0xd4, name: "log", da: 0x1002_0000, len: 0x400, segmentOffset: 0x21000)
            ])
        let vdev = try #require(allocation.vdevs.first)
        #expect(allocation.vdevs.count == 1)
        #expect(vdev.index == 0 && vdev.entryIndex == 4 && vdev.entryOffset == 0x104 && vdev.id == 7 && vdev.dfeatures == 1)
        #expect(
            vdev.vrings == [
                VringRecord(index: 0, da: 0x1002_3000, pa: 0x8002_3000, num: 256, align: 4096, notifyid: 0, segmentOffset: 0x24000, size: 12288, tableOffset: 0x120),
                VringRecord(index: 1, da: 0x1002_6000, pa: 0x8002_6000, num: 256, align: 4096, notifyid: 1, segmentOffset: 0x27000, size: 12288, tableOffset: 0x134),
            ])
        #expect(vdev.bufferPool == BufferPoolRecord(da: 0x1002_9000, pa: 0x8002_9000, segmentOffset: 0x2a000, count: 512, bufferSize: 512))
        #expect(vdev.statusOffset == 0x11c && vdev.gfeaturesOffset == 0x114 && vdev.configOffset == 0x148 && vdev.configLength == 4)
        #expect(
            allocation.tablePlacement
                == TablePlacement(da: 0x1006_9000, pa: 0x8006_9000, segmentOffset: 0x6a000, size: 348, inAllocatedCarveout: true))
        #expect(
            allocation.memoryEntries == [
                MemoryEntry(name: "text", da: 0x1000_0000, pa: 0x8000_0000, length: 0x2_0000, segmentOffset: 0x1000, region: "ram"),
                MemoryEntry(name: "heap", da: 0x1002_1000, pa: 0x8002_1000, length: 0x1800, segmentOffset: 0x22000, region: "ram"),
                MemoryEntry(name: "vdev0vring0", da: 0x1002_3000, pa: 0x8002_3000, length: 0x3000, segmentOffset: 0x24000, region: "ram"),
                MemoryEntry(name: "vdev0vring1", da: 0x1002_6000, pa: 0x8002_6000, length: 0x3000, segmentOffset: 0x27000, region: "ram"),
                MemoryEntry(name: "vdev0buffer", da: 0x1002_9000, pa: 0x8002_9000, length: 0x4_0000, segmentOffset: 0x2a000, region: "ram"),
                MemoryEntry(name: "rsctable", da: 0x1006_9000, pa: 0x8006_9000, length: 348, segmentOffset: 0x6a000, region: "ram"),
            ])
        #expect(
            allocation.skipped == [
                SkippedEntry(entryIndex: 5, entryOffset: 0x14c, type: 130, reason: "no vendor-specific handler on this host"),
                SkippedEntry(entryIndex: 6, entryOffset: 0x154, type: 7, reason: "not a resource type remoteproc knows"),
            ])
        #expect(
            allocation.warnings == [
                "vendor resource type 130 (entry 5 @ 0x14c): skipped: no vendor-specific handler on this host",
                "unknown resource type 7 (entry 6 @ 0x154): skipped: not a resource type remoteproc knows",
            ])
        #expect(allocation.segmentOffset(ofTableOffset: vdev.statusOffset) == 0x6a11c)
    }

    @Test func writeBacksLandAtTheirOffsetsInTheLoadedTable() throws {
        let allocation = try Support.handle(Self.fullTable, map: try Support.standardMap())
        let bytes = allocation.tableBytes
        let original = ResourceTable(resources: Self.fullTable).serialised(order: .host)
        #expect(bytes.count == 348)
        // carveout "text": da unchanged, pa written; "heap": da and pa written.
        #expect(Support.u32(bytes, 0x30) == 0x1000_0000 && Support.u32(bytes, 0x34) == 0x8000_0000)
        #expect(Support.u32(bytes, 0x68) == 0x1002_1000 && Support.u32(bytes, 0x6c) == 0x8002_1000)
        // vrings: da @+0, notifyid @+12, pa @+16; align and num untouched.
        #expect(Support.u32(bytes, 0x120) == 0x1002_3000 && Support.u32(bytes, 0x12c) == 0 && Support.u32(bytes, 0x130) == 0x8002_3000)
        #expect(Support.u32(bytes, 0x134) == 0x1002_6000 && Support.u32(bytes, 0x140) == 1 && Support.u32(bytes, 0x144) == 0x8002_6000)
        #expect(Support.u32(bytes, 0x124) == 4096 && Support.u32(bytes, 0x128) == 256)
        // Exactly those 9 words changed; devmem, trace, vendor and unknown bytes are as they were.
        let changed = stride(from: 0, to: 348, by: 4).filter { Support.u32(bytes, $0) != Support.u32(original, $0) }
        #expect(changed == [0x34, 0x68, 0x6c, 0x120, 0x12c, 0x130, 0x134, 0x140, 0x144])
        // The decoded table matches the bytes.
        #expect(try ResourceTable.parse(bytes, order: .host) == allocation.table)
        guard case .vdev(let vdev) = allocation.table?.entries[4].resource else {
            Issue.record("entry 4 is not a vdev")
            return
        }
        #expect(vdev.vrings.map(\.notifyid) == [0, 1] && vdev.notifyid == 0 && vdev.config == [1, 2, 3, 4])
    }

    @Test func tableGoesToItsShAddrWhenThatIsInTheMap() throws {
        let resources = [Support.carveout("data", da: Support.any, len: 0x1000)]
        let allocation = try Support.handle(resources, map: try Support.standardMap(), tableAddress: 0x1000_0800)
        // The table (0x4c bytes at 0x10000800) is reserved: the carveout skips its page.
        #expect(allocation.carveouts.map(\.da) == [0x1000_1000])
        #expect(
            allocation.tablePlacement
                == TablePlacement(da: 0x1000_0800, pa: 0x8000_0800, segmentOffset: 0x1800, size: 0x4c, inAllocatedCarveout: false))
        #expect(allocation.memoryEntries.map(\.name) == ["data"])
        // sh_addr outside the map: "rsctable" instead.
        let elsewhere = try Support.handle(resources, map: try Support.standardMap(), tableAddress: 0x0800_0000)
        #expect(elsewhere.tablePlacement?.inAllocatedCarveout == true && elsewhere.tablePlacement?.da == 0x1000_1000)
    }

    @Test func notifyIDsRunAcrossVdevsInTableOrderAndOnlyRpmsgGetsABufferPool() throws {
        let resources = [
            Support.vdev(vrings: [Support.vring(align: 16, num: 8), Support.vring(align: 16, num: 8)]),
            Support.vdev(id: 3, vrings: [Support.vring(align: 16, num: 4)]),
            Support.vdev(vrings: [Support.vring(align: 16, num: 128), Support.vring(align: 16, num: 128)]),
        ]
        let allocation = try Support.handle(resources, map: try Support.standardMap(), bufferSize: 1024)
        #expect(allocation.vdevs.map(\.index) == [0, 1, 2])
        #expect(allocation.vdevs.map { $0.vrings.map(\.notifyid) } == [[0, 1], [2], [3, 4]])
        #expect(allocation.vdevs.map { $0.bufferPool?.count } == [16, nil, 256])
        let pool = try #require(allocation.vdevs[2].bufferPool)
        #expect(pool.bufferSize == 1024 && pool.length == 256 * 1024 && pool.rxCount == 128 && pool.txCount == 128)
        #expect(pool.da(ofBuffer: 128) == pool.da + 128 * 1024 && pool.segmentOffset(ofBuffer: 1) == pool.segmentOffset + 1024)
        #expect(
            allocation.memoryEntries.map(\.name)
                == ["vdev0vring0", "vdev0vring1", "vdev0buffer", "vdev1vring0", "vdev2vring0", "vdev2vring1", "vdev2buffer", "rsctable"])
        // Small rings take one page each; the 16 * 1024-byte pool takes 4 pages, the 256 * 1024-byte one 64.
        #expect(allocation.memoryEntries.map(\.da) == [0x1000_0000, 0x1000_1000, 0x1000_2000, 0x1000_6000, 0x1000_7000, 0x1000_8000, 0x1000_9000, 0x1004_9000])
        #expect(allocation.vdevs[0].vrings.map(\.size) == [4096, 4096])
    }

    @Test func ringSizesFollowTheVringLayout() throws {
        // Allocated rings own whole pages; a ring at a fixed address owns exactly vring_size bytes.
        let resources = [
            Support.vdev(vrings: [Support.vring(align: 4096, num: 256), Support.vring(da: 0x2000_0000, align: 4096, num: 256)]),
            Support.vdev(id: 5, vrings: [Support.vring(da: 0x2000_2806, align: 64, num: 32)]),
        ]
        let allocation = try Support.handle(resources, map: try Support.standardMap())
        #expect(allocation.vdevs[0].vrings.map(\.size) == [12288, 10246])
        #expect(allocation.vdevs[0].vrings.map(\.da) == [0x1000_0000, 0x2000_0000])
        #expect(allocation.vdevs[0].vrings[1].pa == 0x4000_0000 && allocation.vdevs[0].vrings[1].segmentOffset == 0x101000)
        // num 32 align 64: avail ends at 512 + 70 = 582 -> used at 640, size 640 + 6 + 256 = 902.
        #expect(allocation.vdevs[1].vrings.map(\.size) == [902])
        #expect(allocation.vdevs[1].vrings[0].notifyid == 2)
    }

    @Test func fixedRingsMayLieInDevmemRegions() throws {
        let resources = [Support.vdev(id: 5, vrings: [Support.vring(da: 0x4A00_4000, align: 16, num: 16)])]
        let allocation = try Support.handle(resources, map: try Support.standardMap())
        #expect(allocation.vdevs[0].vrings[0].segmentOffset == 0x10d000 && allocation.vdevs[0].vrings[0].pa == 0x4A00_4000)
        #expect(allocation.memoryEntries.first?.region == "l4")
    }

    @Test func vringDaZeroIsAllocatedWithAWarning() throws {
        let resources = [Support.vdev(vrings: [Support.vring(da: 0, align: 16, num: 16), Support.vring(da: 0, align: 16, num: 16)])]
        let allocation = try Support.handle(resources, map: try Support.standardMap())
        #expect(allocation.vdevs[0].vrings.map(\.da) == [0x1000_0000, 0x1000_1000])
        #expect(
            allocation.warnings == [
                "vdev 0 vring 0 (entry 0 @ 0x14): da 0 treated as ANY: the host allocates the ring and writes its address back (as Linux without an IOMMU)",
                "vdev 0 vring 1 (entry 0 @ 0x14): da 0 treated as ANY: the host allocates the ring and writes its address back (as Linux without an IOMMU)",
            ])
    }

    @Test func carveoutWithDaAnyOverridesAFixedPaWithAWarning() throws {
        let allocation = try Support.handle([Support.carveout("c", da: Support.any, pa: 0x1234, len: 0x100)], map: try Support.standardMap())
        #expect(allocation.carveouts.first?.pa == 0x8000_0000)
        #expect(allocation.warnings == ["carveout 'c' (entry 0 @ 0x14): pa 0x1234 given with da ANY is ignored; pa 0x80000000 written back"])
    }

    @Test func reservedRangesAreAvoided() throws {
        let reserved = [MemoryAllocator.Range(owner: "PT_LOAD segment 1", da: 0x1000_0000, length: 0x8_0001)]
        let allocation = try Support.handle(
            [Support.carveout("c", da: Support.any, len: 0x100)], map: try Support.standardMap(), reserved: reserved)
        #expect(allocation.carveouts.first?.da == 0x1008_1000)
        // A fixed carveout may cover a reserved range (firmware code inside its "text" carveout).
        let fixed = try Support.handle(
            [Support.carveout("text", da: 0x1000_0000, len: 0x10_0000)], map: try Support.standardMap(), reserved: reserved)
        #expect(fixed.carveouts.first?.segmentOffset == 0x1000)
    }

    @Test func emptyTableNeedsOnlyItsPlacement() throws {
        let allocation = try Support.handle([], map: try Support.standardMap(), tableAddress: 0x2000_0000)
        #expect(allocation.tableBytes == [1, 0, 0, 0] + [UInt8](repeating: 0, count: 12))
        #expect(allocation.tablePlacement?.segmentOffset == 0x101000)
        #expect(allocation.carveouts.isEmpty && allocation.vdevs.isEmpty && allocation.warnings.isEmpty)
        let none = ResourceAllocation.empty(rproc: "dsp")
        #expect(none.table == nil && none.tablePlacement == nil && none.tableBytes.isEmpty && none.segmentOffset(ofTableOffset: 4) == nil)
    }
}

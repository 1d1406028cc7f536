// SegmentImage on real POSIX shared-memory segments: the control block written by prepare, firmware
// segments copied and zero-filled, the loaded table and trace records published, and reading the table back
// from a segment whose control block may have been corrupted. Every segment is unlinked afterwards.

import AmpProfiles
import AmpSystem
import AmpWire
import Glibc
import Testing

@testable import AmpRemoteproc

@Suite("SegmentImageTests")
struct SegmentImageTests {
    typealias Support = RemoteprocTestSupport

    static func prepare(_ segment: SharedMemorySegment, _ map: RemoteMemoryMap) throws(RemoteprocError) -> SegmentImage {
        try SegmentImage.prepare(
            segment: segment, map: map, rproc: "dsp", generation: 7, hostPid: 4242, bufferSize: 512, heartbeatPeriodMs: 250)
    }

    @Test func prepareZeroesTheSegmentAndWritesTheControlBlock() throws {
        let map = try Support.standardMap()
        let name: String
        do {
            let segment = try Support.segment(size: map.segmentSize)
            name = segment.name
            _ = try Self.prepare(segment, map)
            let page = try segment.read(at: 0, count: 4096)
            #expect(Array(page[0..<16]) == Array("AMPSOC01".utf8) + [1, 0, 0, 0, 0x00, 0x10, 0, 0])
            #expect(Support.u64(page, 0x10) == 0x119000)
            #expect(Support.u32(page, 0x18) == 7 && Support.u32(page, 0x1C) == ControlBlock.HostState.loading.rawValue)
            #expect(Support.u32(page, 0x20) == 0 && Support.u32(page, 0x24) == 0 && Support.u64(page, 0x28) == 0)
            #expect(Support.u32(page, 0x30) == 250 && Support.u32(page, 0x34) == 0)
            #expect(Support.u32(page, 0x100) == 0 && Support.u32(page, 0x104) == 0 && Support.u32(page, 0x108) == 0)
            #expect(Support.u32(page, 0x10C) == 3 && Support.u32(page, 0x110) == 4242 && Support.u32(page, 0x114) == 512)
            // Region 0, byte for byte: da, pa, size, kind, segmentOffset u64, name[8].
            #expect(
                Array(page[0x200..<0x220])
                    == [0, 0, 0, 0x10, 0, 0, 0, 0x80, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 0, 0, 0] + Array("ram".utf8) + [0, 0, 0, 0, 0])
            let reader = ByteReader(page, order: .host)
            for region in map.regions {
                #expect(try MemoryRegionRecord.parse(reader, at: ControlBlock.regionRecordOffset(region.index)) == region.record)
            }
            #expect(page[0x260..<0x1000].allSatisfy { $0 == 0 })  // region 3 onwards, traces, reserved
            #expect(page[0x180..<0x200].allSatisfy { $0 == 0 })  // both mailboxes
            #expect(page[0x38..<0x100].allSatisfy { $0 == 0 })  // crash fields
            // The 0xAA fill is gone everywhere.
            #expect(try segment.read(at: 0x1000, count: 16) == [UInt8](repeating: 0, count: 16))
            #expect(try segment.read(at: map.segmentSize - 16, count: 16) == [UInt8](repeating: 0, count: 16))
            // Zeroing freed the pages (MADV_REMOVE) instead of writing 1.1 MiB of zeros: only the control
            // page and the two pages read above hold memory (st_blocks counts 512-byte units).
            var info = stat()
            #expect(stat("/dev/shm" + name, &info) == 0)
            #expect(info.st_blocks <= 3 * 8)
        }
        #expect(!Support.segmentExists(name))
    }

    @Test func aSegmentSmallerThanTheMapIsRefused() throws {
        let map = try Support.standardMap()
        let name: String
        do {
            let segment = try Support.segment(size: 0x10000)
            name = segment.name
            let error = Support.error { () throws(RemoteprocError) in try Self.prepare(segment, map) }
            #expect(error?.description == "dsp: segment \(segment.name): is 0x10000 bytes, the memory map needs 0x119000")
            #expect(error?.code == .outOfRange)
        }
        #expect(!Support.segmentExists(name))
    }

    // MARK: Loading

    /// trace "log" (0x10001000, 0x100), an rpmsg vdev with two num-8 rings, carveout "buf" ANY 0x800: 200 bytes.
    static let table = ResourceTable(resources: [
        Support.trace("log", da: 0x1000_1000, len: 0x100),
        Support.vdev(vrings: [Support.vring(align: 16, num: 8), Support.vring(align: 16, num: 8)]),
        Support.carveout("buf", da: Support.any, len: 0x800),
    ])

    static let code: [UInt8] = (0..<0x200).map { UInt8(truncatingIfNeeded: $0 * 7 + 1) }

    /// Segment 0 in "ram" (0x200 file bytes holding the table at +0x100, memsz 0x400), segment 1 outside the map
    /// (like a host executable's), segment 2 empty, and a PT_NOTE.
    static func firmware() throws -> FirmwareImage {
        var data = code
        let table = Self.table.serialised(order: .host)
        data.replaceSubrange(0x100..<(0x100 + table.count), with: table)
        let builder = ELFImageBuilder(
            class: .elf32, order: .little, machine: ELFHeader.EM_ARM,
            segments: [
                ELFImageBuilder.Segment(vaddr: 0x1000_0000, memsz: 0x400, data: data),
                ELFImageBuilder.Segment(vaddr: 0x40_0000, data: [UInt8](repeating: 0xEE, count: 16)),
                ELFImageBuilder.Segment(vaddr: 0x2000_0000, memsz: 0, data: []),
                ELFImageBuilder.Segment(type: ELFProgramHeader.PT_NOTE, vaddr: 0x1000_0000, data: [1, 2, 3, 4]),
            ],
            sections: [
                ELFImageBuilder.Section(
                    name: ".resource_table", addr: 0x1000_0100, contents: .inSegment(segment: 0, offset: 0x100, size: UInt64(table.count)))
            ])
        return try FirmwareImage(bytes: builder.build(), path: "fw.elf", rproc: "dsp")
    }

    @Test func loadCopiesSegmentsAndPublishesTheTableAndTraces() throws {
        let map = try Support.standardMap()
        let firmware = try Self.firmware()
        let allocation = try ResourceHandler.handle(firmware: firmware, memoryMap: map, rproc: "dsp")
        // Rings and pool land after segment 0 (0x10000000 + 0x400) and the trace buffer.
        #expect(allocation.memoryEntries.map(\.da) == [0x1000_2000, 0x1000_3000, 0x1000_4000, 0x1000_6000])
        #expect(allocation.tablePlacement == TablePlacement(da: 0x1000_0100, pa: 0x8000_0100, segmentOffset: 0x1100, size: 200, inAllocatedCarveout: false))
        let name: String
        do {
            let segment = try Support.segment(size: map.segmentSize)
            name = segment.name
            let image = try Self.prepare(segment, map)
            let report = try image.load(firmware: firmware, allocation: allocation)
            #expect(report.loaded == [SegmentImage.LoadedSegment(index: 0, da: 0x1000_0000, segmentOffset: 0x1000, filesz: 0x200, memsz: 0x400, region: "ram")])
            #expect(
                report.skipped == [
                    SegmentImage.SkippedSegment(index: 1, paddr: 0x40_0000, memsz: 16, reason: "outside the memory map"),
                    SegmentImage.SkippedSegment(index: 2, paddr: 0x2000_0000, memsz: 0, reason: "p_memsz is 0"),
                ])
            #expect(
                report.summary
                    == ["loaded 1 of 3 PT_LOAD segments into the memory map; left out: segment 1 (outside the memory map), segment 2 (p_memsz is 0)"])
            // Code around the table as in the file, the loaded table (with write-backs) in between, zeros to memsz.
            #expect(try segment.read(at: 0x1000, count: 0x100) == Array(Self.code[0..<0x100]))
            #expect(try segment.read(at: 0x1100, count: 200) == allocation.tableBytes)
            #expect(try segment.read(at: 0x11C8, count: 0x38) == Array(Self.code[0x1C8..<0x200]))
            #expect(try segment.read(at: 0x1200, count: 0x200) == [UInt8](repeating: 0, count: 0x200))
            let page = try segment.read(at: 0, count: 4096)
            #expect(Support.u32(page, 0x100) == 0x1100 && Support.u32(page, 0x104) == 200 && Support.u32(page, 0x108) == 0x1000_0100)
            #expect(Support.u32(page, 0x600) == 0x1000_1000 && Support.u32(page, 0x604) == 0x100 && Support.u64(page, 0x608) == 0)
            #expect(page[0x610..<0x680].allSatisfy { $0 == 0 })
            // Reading back gives the allocation's table.
            #expect(try image.readLoadedTable() == allocation.table)
            let back = try SegmentImage.readLoadedTable(segment: segment, rproc: "dsp")
            guard case .vdev(let vdev) = back.entries[1].resource else {
                Issue.record("entry 1 is not a vdev")
                return
            }
            #expect(vdev.vrings.map(\.da) == [0x1000_2000, 0x1000_3000] && vdev.vrings.map(\.notifyid) == [0, 1])
            #expect(try SegmentImage.readTraceRecord(segment: segment, index: 0, rproc: "dsp") == (0x1000_1000, 0x100, 0))
        }
        #expect(!Support.segmentExists(name))
    }

    @Test func aTableOutsideTheMapGoesToTheRsctableCarveout() throws {
        let map = try Support.standardMap()
        let table = ResourceTable(resources: [Support.carveout("data", da: Support.any, len: 0x1000)])
        let bytes = ELFImageBuilder(
            class: .elf32, order: .little, machine: ELFHeader.EM_ARM,
            segments: [ELFImageBuilder.Segment(vaddr: 0x40_0000, data: [1, 2, 3])],
            sections: [ELFImageBuilder.Section(name: ".resource_table", addr: 0x40_1000, data: table.serialised(order: .host))]
        ).build()
        let firmware = try FirmwareImage(bytes: bytes, path: "native", rproc: "dsp")
        let allocation = try ResourceHandler.handle(firmware: firmware, memoryMap: map, rproc: "dsp")
        #expect(allocation.tablePlacement == TablePlacement(da: 0x1000_1000, pa: 0x8000_1000, segmentOffset: 0x2000, size: 0x4c, inAllocatedCarveout: true))
        let name: String
        do {
            let segment = try Support.segment(size: map.segmentSize)
            name = segment.name
            let lines = try SegmentImage.build(
                segment: segment, memoryMap: map, firmware: firmware, allocation: allocation, generation: 1, hostPid: 1, bufferSize: 512,
                heartbeatPeriodMs: 0, rproc: "dsp")
            #expect(lines == ["loaded 0 of 1 PT_LOAD segments into the memory map; left out: segment 0 (outside the memory map)"])
            let page = try segment.read(at: 0, count: 4096)
            #expect(Support.u32(page, 0x100) == 0x2000 && Support.u32(page, 0x104) == 0x4c && Support.u32(page, 0x108) == 0x1000_1000)
            let back = try SegmentImage.readLoadedTable(segment: segment, rproc: "dsp")
            #expect(back == allocation.table)
            #expect(back.entries.first?.resource == Support.carveout("data", da: 0x1000_0000, pa: 0x8000_0000, len: 0x1000))
        }
        #expect(!Support.segmentExists(name))
    }

    @Test func aPositionIndependentHostExecutableHasNoDeviceAddresses() throws {
        // A native PIE executable's first PT_LOAD starts at 0, like the TCM region: it must neither be copied
        // (it would cross the region's edge) nor reserve the region, and its sh_addr is no device address.
        let map = try Support.map([MemoryRegionProfile(name: "tcm", kind: .carveout, da: 0, pa: 0xFFE0_0000, size: 0x2_0000)])
        let table = ResourceTable(resources: [Support.carveout("data", da: Support.any, len: 0x1000)])
        let bytes = ELFImageBuilder(
            class: .elf64, order: .little, type: ELFHeader.ET_DYN, machine: ELFHeader.EM_X86_64,
            segments: [
                ELFImageBuilder.Segment(vaddr: 0, memsz: 0x3_0000, data: [UInt8](repeating: 0x90, count: 0x100)),
                ELFImageBuilder.Segment(vaddr: 0x3_1000, data: [1, 2, 3, 4]),
            ],
            sections: [ELFImageBuilder.Section(name: ".resource_table", addr: 0x800, data: table.serialised(order: .host))]
        ).build()
        let firmware = try FirmwareImage(bytes: bytes, path: "native", rproc: "dsp")
        #expect(!firmware.hasDeviceAddresses && firmware.tableDeviceAddress == nil && firmware.tableSection?.addr == 0x800)
        let allocation = try ResourceHandler.handle(firmware: firmware, memoryMap: map, rproc: "dsp")
        #expect(allocation.carveouts.map(\.da) == [0])
        #expect(allocation.tablePlacement == TablePlacement(da: 0x1000, pa: 0xFFE0_1000, segmentOffset: 0x2000, size: 0x4c, inAllocatedCarveout: true))
        let name: String
        do {
            let segment = try Support.segment(size: map.segmentSize)
            name = segment.name
            let image = try Self.prepare(segment, map)
            let report = try image.load(firmware: firmware, allocation: allocation)
            #expect(report.loaded.isEmpty)
            #expect(report.skipped.map(\.index) == [0, 1])
            #expect(report.skipped.allSatisfy { $0.reason == "position-independent host executable" })
            // Native firmware is the normal case: nothing worth a boot-log line.
            #expect(report.summary == [])
            #expect(try segment.read(at: 0x1000, count: 0x100) == [UInt8](repeating: 0, count: 0x100))
            #expect(try image.readLoadedTable() == allocation.table)
        }
        #expect(!Support.segmentExists(name))
    }

    @Test func aSegmentCrossingARegionEdgeIsAnError() throws {
        let map = try Support.standardMap()
        func failure(_ builder: ELFImageBuilder) throws -> RemoteprocError? {
            let firmware = try FirmwareImage(bytes: builder.build(), path: "cross.elf", rproc: "dsp")
            let segment = try Support.segment(size: map.segmentSize)
            defer { try? segment.unlink() }
            let image = try Self.prepare(segment, map)
            return Support.error { () throws(RemoteprocError) in try image.load(firmware: firmware, allocation: .empty(rproc: "dsp")) }
        }
        let crossing = try failure(
            ELFImageBuilder(
                class: .elf32, order: .little, machine: ELFHeader.EM_ARM,
                segments: [
                    ELFImageBuilder.Segment(vaddr: 0x1000_0000, data: [1]),
                    ELFImageBuilder.Segment(vaddr: 0x100F_FF00, memsz: 0x200, data: [UInt8](repeating: 1, count: 0x10)),
                ]))
        #expect(
            crossing?.description
                == "dsp: firmware cross.elf: PT_LOAD segment 1: p_paddr 0x100fff00 p_memsz 0x200 crosses the edge of memory map region 'ram' (da 0x10000000 len 0x100000)")
        #expect(crossing?.code == .invalidArgument)
        let wrapping = try failure(
            ELFImageBuilder(
                class: .elf64, order: .little, machine: ELFHeader.EM_AARCH64,
                segments: [ELFImageBuilder.Segment(vaddr: 0xFFFF_FFFF_FFFF_FF00, memsz: 0x200, data: [])]))
        #expect(
            wrapping?.description
                == "dsp: firmware cross.elf: PT_LOAD segment 0: p_paddr 0xffffffffffffff00 p_memsz 0x200: the range wraps around the address space")
    }

    // MARK: Reading back an untrusted control block

    @Test func readingBackChecksEveryPublishedValue() throws {
        let map = try Support.standardMap()
        let firmware = try Self.firmware()
        let allocation = try ResourceHandler.handle(firmware: firmware, memoryMap: map, rproc: "dsp")
        let name: String
        do {
            let segment = try Support.segment(size: map.segmentSize)
            name = segment.name
            let image = try Self.prepare(segment, map)
            try image.load(firmware: firmware, allocation: allocation)
            func put(_ value: UInt32, at offset: Int) throws {
                var writer = ByteWriter(count: 4, order: .host)
                writer.put(value, at: 0)
                try segment.write(writer.bytes, at: offset)
            }
            func message() -> String? {
                Support.error { () throws(RemoteprocError) in try SegmentImage.readLoadedTable(segment: segment, rproc: "dsp") }?.description
            }
            let prefix = "dsp: segment \(segment.name): "
            try put(0x10, at: 0x100)
            #expect(message() == prefix + "control block tableOffset at offset 0x100: 0x10 points into the control block")
            try put(0x118F80, at: 0x100)
            #expect(
                message() == prefix + "control block tableSize at offset 0x104: table at 0x118f80 + 0xc8 bytes runs past the end of the 0x119000-byte segment")
            try put(0x1100, at: 0x100)
            try put(4, at: 0x104)
            #expect(message() == prefix + "control block tableSize at offset 0x104: 4 is smaller than a table header (16)")
            try put(200, at: 0x104)
            try put(2, at: 0x1100)  // the remote scribbled over ver
            #expect(message() == prefix + "loaded resource table at segment offset 0x1100: resource_table.ver at offset 0 (0x0): version 2, expected 1")
            try put(0, at: 0x100)
            let none = Support.error { () throws(RemoteprocError) in try image.readLoadedTable() }
            #expect(none?.description == prefix + "no loaded resource table is published (tableOffset is 0)")
            #expect(none?.code == .noEntry)
            try put(2, at: 0x8)
            #expect(message() == prefix + "control block layoutVersion at offset 0x8: is 2, expected 1")
            try segment.write(Array("AMPSOC02".utf8), at: 0)
            #expect(message() == prefix + "control block magic at offset 0x0: is 414d50534f433032, expected \"AMPSOC01\"")
        }
        #expect(!Support.segmentExists(name))
    }

    // MARK: A real firmware

    @Test func zcu102EchoTestLoadsIntoARealSegment() throws {
        let firmware = try Support.fixture("zcu102-r5-xlnx-echo-test")
        let map = try Support.map([
            MemoryRegionProfile(name: "ddr", kind: .carveout, da: 0x3ED0_0000, pa: 0x3ED0_0000, size: 0x4_0000),
            MemoryRegionProfile(name: "rpmsg", kind: .carveout, da: 0x3ED4_0000, pa: 0x3ED4_0000, size: 0x10_0000),
        ])
        let allocation = try ResourceHandler.handle(firmware: firmware, memoryMap: map, rproc: "dsp")
        let name: String
        do {
            let segment = try Support.segment(size: map.segmentSize)
            name = segment.name
            let image = try Self.prepare(segment, map)
            let report = try image.load(firmware: firmware, allocation: allocation)
            #expect(report.loaded.map(\.index) == [1, 2] && report.skipped.map(\.index) == [0])
            #expect(report.loaded.map(\.segmentOffset) == [0x1000, 0x21000])
            let text = try #require(firmware.elf.segmentData(at: 1))
            #expect(try segment.read(at: 0x1000, count: text.count) == Array(text))
            // Segment 2 is the table (0x100 file bytes, now the loaded table) and .bss up to 0x1850.
            #expect(try segment.read(at: 0x21000, count: 0x100) == allocation.tableBytes)
            #expect(try segment.read(at: 0x21100, count: 0x1750) == [UInt8](repeating: 0, count: 0x1750))
            #expect(try image.readLoadedTable() == allocation.table)
            #expect(try SegmentImage.readTraceRecord(segment: segment, index: 0, rproc: "dsp") == (0x3ED2_01BC, 0x1000, 0))
        }
        #expect(!Support.segmentExists(name))
    }
}

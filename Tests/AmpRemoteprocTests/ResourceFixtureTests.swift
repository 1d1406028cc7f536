// The resource tables of the real firmware fixtures (/work/shared/fixtures/firmware, see SOURCES.md there)
// handled against a memory map modelled on each board, with every allocation asserted. The firmware's own
// PT_LOAD segments are reserved, so allocations land after them.

import AmpProfiles
import AmpWire
import Testing

@testable import AmpRemoteproc

@Suite("ResourceFixtureTests")
struct ResourceFixtureTests {
    typealias Support = RemoteprocTestSupport

    static func handle(_ name: String, _ regions: [MemoryRegionProfile]) throws -> ResourceAllocation {
        let firmware = try Support.fixture(name)
        return try ResourceHandler.handle(firmware: firmware, memoryMap: try Support.map(regions), rproc: "dsp")
    }

    static func region(_ name: String, _ kind: MemoryRegionProfile.Kind = .carveout, da: UInt32, pa: UInt32? = nil, size: UInt32) -> MemoryRegionProfile {
        MemoryRegionProfile(name: name, kind: kind, da: da, pa: pa ?? da, size: size)
    }

    /// ZynqMP R5 (lockstep) echo test: vrings ANY (num 256, align 4096), trace at 0x3ED201BC in the
    /// firmware's .bss, table at 0x3ED20000. Map: the firmware's DDR window and a separate rpmsg pool.
    @Test func zcu102EchoTest() throws {
        let allocation = try Self.handle(
            "zcu102-r5-xlnx-echo-test", [Self.region("ddr", da: 0x3ED0_0000, size: 0x4_0000), Self.region("rpmsg", da: 0x3ED4_0000, size: 0x10_0000)])
        #expect(allocation.traces == [TraceRecord(index: 0, entryIndex: 1, entryOffset: 116, name: "r5_trace", da: 0x3ED2_01BC, len: 0x1000, segmentOffset: 0x211BC)])
        let vdev = try #require(allocation.vdevs.first)
        // After .text (ends 0x3ED1254C): two rings; the 256 KiB pool fits neither gap of "ddr" and goes to "rpmsg".
        #expect(
            vdev.vrings == [
                VringRecord(index: 0, da: 0x3ED1_3000, pa: 0x3ED1_3000, num: 256, align: 4096, notifyid: 0, segmentOffset: 0x14000, size: 0x3000, tableOffset: 76),
                VringRecord(index: 1, da: 0x3ED1_6000, pa: 0x3ED1_6000, num: 256, align: 4096, notifyid: 1, segmentOffset: 0x17000, size: 0x3000, tableOffset: 96),
            ])
        #expect(vdev.bufferPool == BufferPoolRecord(da: 0x3ED4_0000, pa: 0x3ED4_0000, segmentOffset: 0x41000, count: 512, bufferSize: 512))
        #expect(allocation.tablePlacement == TablePlacement(da: 0x3ED2_0000, pa: 0x3ED2_0000, segmentOffset: 0x21000, size: 256, inAllocatedCarveout: false))
        let bytes = allocation.tableBytes
        // The firmware's notify ids 1 and 2 become 0 and 1; the vdev's own notifyid (31) stays.
        #expect(Support.u32(bytes, 76) == 0x3ED1_3000 && Support.u32(bytes, 88) == 0 && Support.u32(bytes, 92) == 0x3ED1_3000)
        #expect(Support.u32(bytes, 96) == 0x3ED1_6000 && Support.u32(bytes, 108) == 1 && Support.u32(bytes, 112) == 0x3ED1_6000)
        #expect(Support.u32(bytes, 48 + 8) == 31)
        #expect(bytes[164...].allSatisfy { $0 == 0 } && bytes.count == 256)
        #expect(allocation.warnings.isEmpty && allocation.skipped.isEmpty)
    }

    /// MicroBlaze-V with fixed vrings at 0x2ED40000 / 0x2ED44000: they are claimed as given (exact ring size);
    /// the pool goes after them.
    @Test func kr260FixedVrings() throws {
        let allocation = try Self.handle(
            "kr260-mbv32-zephyr-openamp", [Self.region("lmb", da: 0, size: 0x2_0000), Self.region("shm", da: 0x2ED4_0000, size: 0x10_0000)])
        let vdev = try #require(allocation.vdevs.first)
        #expect(
            vdev.vrings == [
                VringRecord(index: 0, da: 0x2ED4_0000, pa: 0x2ED4_0000, num: 256, align: 4096, notifyid: 0, segmentOffset: 0x21000, size: 10246, tableOffset: 48),
                VringRecord(index: 1, da: 0x2ED4_4000, pa: 0x2ED4_4000, num: 256, align: 4096, notifyid: 1, segmentOffset: 0x25000, size: 10246, tableOffset: 68),
            ])
        #expect(vdev.bufferPool == BufferPoolRecord(da: 0x2ED4_7000, pa: 0x2ED4_7000, segmentOffset: 0x28000, count: 512, bufferSize: 512))
        #expect(allocation.tablePlacement == TablePlacement(da: 0x15440, pa: 0x15440, segmentOffset: 0x16440, size: 88, inAllocatedCarveout: false))
        #expect(Support.u32(allocation.tableBytes, 48 + 12) == 0 && Support.u32(allocation.tableBytes, 48 + 16) == 0x2ED4_0000)
    }

    /// Kria KV260 R5 with Zephyr: small rings (num 8, align 16) allocated in TCM after the firmware.
    @Test func kv260SmallRings() throws {
        let allocation = try Self.handle("kv260-r5-zephyr-rpmsg-multi", [Self.region("tcm", da: 0, pa: 0xFFE0_0000, size: 0x2_0000)])
        let vdev = try #require(allocation.vdevs.first)
        #expect(vdev.vrings.map(\.da) == [0xB000, 0xC000])
        #expect(vdev.vrings.map(\.pa) == [0xFFE0_B000, 0xFFE0_C000])
        #expect(vdev.vrings.map(\.segmentOffset) == [0xC000, 0xD000])
        #expect(vdev.vrings.map(\.size) == [4096, 4096])
        #expect(vdev.bufferPool == BufferPoolRecord(da: 0xD000, pa: 0xFFE0_D000, segmentOffset: 0xE000, count: 16, bufferSize: 512))
        #expect(allocation.tablePlacement == TablePlacement(da: 0xAA04, pa: 0xFFE0_AA04, segmentOffset: 0xBA04, size: 88, inAllocatedCarveout: false))
    }

    static let stm32Map = [Self.region("retram", da: 0, pa: 0x3800_0000, size: 0x1_0000), Self.region("sram", da: 0x1000_0000, size: 0x6_0000)]

    /// STM32MP157 Cortex-M4: rings after the code in RETRAM, Zephyr's 1025-byte log in SRAM.
    @Test func stm32RpmsgMulti() throws {
        let allocation = try Self.handle("stm32mp157c-dk2-zephyr-rpmsg-multi", Self.stm32Map)
        let vdev = try #require(allocation.vdevs.first)
        #expect(vdev.vrings.map(\.da) == [0xA000, 0xB000] && vdev.vrings.map(\.pa) == [0x3800_A000, 0x3800_B000])
        #expect(vdev.vrings.map(\.notifyid) == [0, 1] && vdev.vrings.map(\.tableOffset) == [52, 72])
        #expect(vdev.bufferPool == BufferPoolRecord(da: 0xC000, pa: 0x3800_C000, segmentOffset: 0xD000, count: 16, bufferSize: 512))
        #expect(allocation.traces == [TraceRecord(index: 0, entryIndex: 1, entryOffset: 92, name: "Zephyr_log", da: 0x1000_0955, len: 1025, segmentOffset: 0x11955)])
        #expect(allocation.tablePlacement?.segmentOffset == 0xA5F4 && allocation.tablePlacement?.da == 0x95F4)
        #expect(allocation.memoryEntries.map(\.name) == ["vdev0vring0", "vdev0vring1", "vdev0buffer"])
    }

    @Test func stm32HelloHasOnlyATrace() throws {
        let allocation = try Self.handle("stm32mp157c-dk2-zephyr-hello", Self.stm32Map)
        #expect(allocation.traces == [TraceRecord(index: 0, entryIndex: 0, entryOffset: 20, name: "Zephyr_log", da: 0x1000_0371, len: 1025, segmentOffset: 0x11371)])
        #expect(allocation.tablePlacement?.segmentOffset == 0x7CCC && allocation.memoryEntries.isEmpty && allocation.vdevs.isEmpty)
        let firmware = try Support.fixture("stm32mp157c-dk2-zephyr-hello")
        #expect(allocation.tableBytes == firmware.tableBytes)
    }

    static let pruMap = [
        Self.region("dram", da: 0, pa: 0x4A30_0000, size: 0x2000), Self.region("shram", da: 0x1_0000, pa: 0x4A31_0000, size: 0x3000),
        Self.region("ddr", da: 0x8F00_0000, size: 0x10_0000),
    ]

    /// TI PRU with rpmsg: vring da 0 (host allocates), num 16 align 16; the PRU interrupt map (type 5) is skipped.
    @Test func pruLockinRpmsg() throws {
        let allocation = try Self.handle("am335x-pru0-lockin-rpmsg", Self.pruMap)
        let vdev = try #require(allocation.vdevs.first)
        #expect(vdev.vrings.map(\.da) == [0x1_0000, 0x1_1000] && vdev.vrings.map(\.pa) == [0x4A31_0000, 0x4A31_1000])
        #expect(vdev.vrings.map(\.segmentOffset) == [0x3000, 0x4000])
        // 32 buffers of 512 bytes do not fit the last page of shared RAM: they go to DDR.
        #expect(vdev.bufferPool == BufferPoolRecord(da: 0x8F00_0000, pa: 0x8F00_0000, segmentOffset: 0x6000, count: 32, bufferSize: 512))
        #expect(allocation.skipped == [SkippedEntry(entryIndex: 1, entryOffset: 92, type: 5, reason: "not a resource type remoteproc knows")])
        #expect(
            allocation.warnings == [
                "vdev 0 vring 0 (entry 0 @ 0x18): da 0 treated as ANY: the host allocates the ring and writes its address back (as Linux without an IOMMU)",
                "vdev 0 vring 1 (entry 0 @ 0x18): da 0 treated as ANY: the host allocates the ring and writes its address back (as Linux without an IOMMU)",
                "unknown resource type 5 (entry 1 @ 0x5c): skipped: not a resource type remoteproc knows",
            ])
        #expect(allocation.tablePlacement?.segmentOffset == 0x1440)
        // The vendor bytes after the vdev are untouched.
        let firmware = try Support.fixture("am335x-pru0-lockin-rpmsg")
        #expect(allocation.tableBytes[92...] == firmware.tableBytes?[92...])
    }

    @Test func pruEmptyTable() throws {
        let allocation = try Self.handle("am335x-pru0-rc-encoder", Self.pruMap)
        #expect(allocation.table?.entries.isEmpty == true)
        #expect(allocation.tablePlacement == TablePlacement(da: 0x100, pa: 0x4A30_0100, segmentOffset: 0x1100, size: 20, inAllocatedCarveout: false))
        #expect(allocation.tableBytes == [1, 0, 0, 0] + [UInt8](repeating: 0, count: 16))
    }

    @Test func splitRPU0HasNoTable() throws {
        let allocation = try Self.handle("zcu102-r5-xlnx-split-rpu0", [Self.region("ddr", da: 0x3ED0_0000, size: 0x4_0000)])
        #expect(allocation == ResourceAllocation.empty(rproc: "dsp"))
    }
}

// The memory map's placement in the segment, address translation at the edges, validation messages, and
// the carveout allocator (first fit, alignment, claims, reservations).

import AmpProfiles
import AmpWire
import Testing

@testable import AmpRemoteproc

@Suite("MemoryMapTests")
struct MemoryMapTests {
    typealias Support = RemoteprocTestSupport

    @Test func regionsArePlacedAfterTheControlBlockOnPageBoundaries() throws {
        let map = try RemoteMemoryMap(
            regions: [
                MemoryRegionProfile(name: "a", kind: .carveout, da: 0x1000, pa: 0x9000_0000, size: 0x1800),
                MemoryRegionProfile(name: "b", kind: .devmem, da: 0x8000_0000, pa: 0x8000_0000, size: 0x10),
                MemoryRegionProfile(name: "c", kind: .carveout, da: 0xFFFF_F000, pa: 0x1000, size: 0x1000),
            ], rproc: "dsp")
        #expect(map.regions.map(\.segmentOffset) == [0x1000, 0x3000, 0x4000])
        #expect(map.segmentSize == 0x5000)
        #expect(map.regions.map(\.index) == [0, 1, 2])
        #expect(map.regions[1].record == MemoryRegionRecord(da: 0x8000_0000, pa: 0x8000_0000, size: 0x10, kind: .devmem, segmentOffset: 0x3000, name: "b"))
        // The last region ends exactly at the top of the 32-bit space.
        #expect(map.translate(da: UInt32(0xFFFF_FFFF), count: 1) == 0x4FFF)
        #expect(map.translate(da: UInt32(0xFFFF_FFFF), count: 2) == nil)
    }

    @Test func translationIsExactAtRegionEdgesAndOverflowSafe() throws {
        let map = try Support.standardMap()
        #expect(map.segmentSize == 0x119000)
        #expect(map.regions.map(\.segmentOffset) == [0x1000, 0x101000, 0x109000])
        #expect(map.translate(da: UInt32(0x1000_0000), count: 0x10_0000) == 0x1000)
        #expect(map.translate(da: UInt32(0x100F_FFFF), count: 1) == 0x100FFF)
        #expect(map.translate(da: UInt32(0x100F_FFFF), count: 2) == nil)
        #expect(map.translate(da: UInt32(0x0FFF_FFFF), count: 1) == nil)
        #expect(map.translate(da: UInt32(0x2000_0010), count: 0x10) == 0x101010)
        #expect(map.translate(da: UInt32(0x4A00_8000), count: 0) == 0x111000)
        #expect(map.translate(da: UInt32(0x1010_0000), count: 0) == nil)  // one past the end
        #expect(map.translate(da: UInt64.max, count: UInt64.max) == nil)
        #expect(map.translate(da: 0x1000_0000, count: UInt64.max) == nil)
        #expect(map.regions[0].pa(of: 0x1000_1234) == 0x8000_1234)
        #expect(map.regions(overlapping: 0x100F_F000, count: 0x1_0000).map(\.name) == ["ram"])
        #expect(map.regions(overlapping: 0x0, count: 0).isEmpty)
    }

    @Test func validationNamesTheRegionAtFault() throws {
        func message(_ regions: [MemoryRegionProfile]) -> String? {
            Support.error { () throws(RemoteprocError) in try RemoteMemoryMap(regions: regions, rproc: "dsp") }?.description
        }
        let ram = MemoryRegionProfile(name: "ram", kind: .carveout, da: 0x1000_0000, pa: 0x8000_0000, size: 0x10_0000)
        #expect(
            message([ram, MemoryRegionProfile(name: "ram2", kind: .devmem, da: 0x100F_F000, pa: 0, size: 0x2000)])
                == "dsp: memory map region 1 'ram2' (da 0x100ff000 len 0x2000) overlaps region 'ram' (da 0x10000000 len 0x100000)")
        #expect(
            message([MemoryRegionProfile(name: "toolongname", kind: .carveout, da: 0, pa: 0, size: 1)])
                == "dsp: memory map region 0 'toolongname': name must be 1 to 7 bytes, is 11")
        #expect(
            message([MemoryRegionProfile(name: "", kind: .carveout, da: 0, pa: 0, size: 1)])
                == "dsp: memory map region 0 '': name must be 1 to 7 bytes, is 0")
        #expect(message([MemoryRegionProfile(name: "z", kind: .carveout, da: 0, pa: 0, size: 0)]) == "dsp: memory map region 0 'z': size is 0")
        #expect(
            message([MemoryRegionProfile(name: "hi", kind: .carveout, da: 0xFFFF_F000, pa: 0, size: 0x2000)])
                == "dsp: memory map region 0 'hi': da 0xfffff000 + size 0x2000 is beyond the 32-bit device address space")
        #expect(
            message([MemoryRegionProfile(name: "hi", kind: .carveout, da: 0, pa: 0xFFFF_F000, size: 0x2000)])
                == "dsp: memory map region 0 'hi': pa 0xfffff000 + size 0x2000 is beyond the 32-bit physical address space")
        #expect(
            message([ram, MemoryRegionProfile(name: "ram", kind: .carveout, da: 0, pa: 0, size: 0x1000)])
                == "dsp: memory map region 1 'ram': name already used by region 0")
        let many = (0..<33).map { MemoryRegionProfile(name: "r\($0)", kind: .carveout, da: UInt32($0) * 0x1000, pa: 0, size: 0x1000) }
        #expect(message(many) == "dsp: memory map has 33 regions; the control block holds at most 32")
        let error = Support.error { () throws(RemoteprocError) in try RemoteMemoryMap(regions: many, rproc: "dsp") }
        #expect(error?.code == .invalidArgument)
        #expect(error?.rproc == "dsp")
    }

    @Test func anEmptyMapIsJustTheControlBlock() throws {
        let map = try Support.map([])
        #expect(map.segmentSize == 4096)
        #expect(map.translate(da: UInt32(0), count: 0) == nil)
    }

    // MARK: Allocator

    @Test func allocatorIsFirstFitPageAlignedAndSkipsClaimsAndReservations() throws {
        let map = try Support.standardMap()
        var allocator = MemoryAllocator(map: map)
        allocator.reserve(owner: "PT_LOAD segment 0", da: 0x1000_0000, length: 0x1234)
        let firstResult = allocator.allocate(owner: "a", length: 0x10)
        let first = try #require(firstResult)
        #expect(first.range == MemoryAllocator.Range(owner: "a", da: 0x1000_2000, length: 0x1000))
        #expect(first.region.name == "ram")
        try allocator.claim(owner: "fixed", da: 0x1000_3000, length: 0x800, kinds: [.carveout])
        let secondResult = allocator.allocate(owner: "b", length: 0x1001)
        let second = try #require(secondResult)
        #expect(second.range.da == 0x1000_4000 && second.range.length == 0x2000)
        // A fixed claim may cover a reservation but not a claim.
        try allocator.claim(owner: "over-reservation", da: 0x1000_0000, length: 0x1000, kinds: [.carveout])
        #expect(throws: MemoryAllocator.ClaimFailure.overlaps(MemoryAllocator.Range(owner: "b", da: 0x1000_4000, length: 0x2000))) {
            try allocator.claim(owner: "late", da: 0x1000_5FFF, length: 1, kinds: [.carveout])
        }
        // Spill into the next carveout region when the first is full; devmem regions are never used.
        let bigResult = allocator.allocate(owner: "big", length: 0xF_A000)
        let big = try #require(bigResult)
        #expect(big.range.da == 0x1000_6000 && big.region.name == "ram")
        let spillResult = allocator.allocate(owner: "spill", length: 0x1000)
        let spill = try #require(spillResult)
        #expect(spill.range.da == 0x2000_0000 && spill.region.name == "sram")
        let huge = allocator.allocate(owner: "huge", length: 0x9000)
        #expect(huge == nil)
        let free = allocator.largestFreeBlock()
        #expect(free.length == 0x7000 && free.region?.name == "sram")
        #expect(allocator.claims.map(\.owner) == ["a", "fixed", "b", "over-reservation", "big", "spill"])
    }

    @Test func claimFailuresSayWhatIsWrong() throws {
        let map = try Support.standardMap()
        var allocator = MemoryAllocator(map: map)
        #expect(throws: MemoryAllocator.ClaimFailure.outsideMap) {
            try allocator.claim(owner: "x", da: 0x3000_0000, length: 1, kinds: [.carveout])
        }
        #expect(throws: MemoryAllocator.ClaimFailure.crossesRegion(map.regions[0])) {
            try allocator.claim(owner: "x", da: 0x100F_F000, length: 0x2000, kinds: [.carveout])
        }
        #expect(throws: MemoryAllocator.ClaimFailure.wrongKind(map.regions[2])) {
            try allocator.claim(owner: "x", da: 0x4A00_0000, length: 0x10, kinds: [.carveout])
        }
        try allocator.claim(owner: "ring", da: 0x4A00_0000, length: 0x10, kinds: [.carveout, .devmem])
        #expect(allocator.claims == [MemoryAllocator.Range(owner: "ring", da: 0x4A00_0000, length: 0x10)])
    }

    @Test func largestFreeBlockWithoutCarveoutRegions() throws {
        let map = try Support.map([MemoryRegionProfile(name: "io", kind: .devmem, da: 0, pa: 0, size: 0x1000)])
        var allocator = MemoryAllocator(map: map)
        let none = allocator.allocate(owner: "a", length: 1)
        #expect(none == nil)
        let free = allocator.largestFreeBlock()
        #expect(free.length == 0 && free.region == nil)
    }
}

// Every rule of ResourceHandler that refuses a table, with the exact message and errno.

import AmpProfiles
import AmpWire
import Testing

@testable import AmpRemoteproc

extension ResourceHandlerTests {
    /// The error handling `resources` against `map` (default: the standard map) throws.
    private func failure(
        _ resources: [Resource], map: RemoteMemoryMap? = nil, bufferSize: Int = 512, sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> RemoteprocError? {
        let map = try map ?? Support.standardMap()
        return Support.error(
            { () throws(RemoteprocError) in try Support.handle(resources, map: map, bufferSize: bufferSize) },
            sourceLocation: sourceLocation)
    }

    @Test func overlappingFixedCarveoutsNameBoth() throws {
        let error = try failure([
            Support.carveout("text", da: 0x1000_0000, len: 0x2000),
            Support.carveout("data", da: 0x1000_1000, len: 0x1000),
        ])
        #expect(
            error?.description
                == "dsp: carveout 'data' (entry 1 @ 0x50): da 0x10001000 len 0x1000 overlaps carveout 'text' (entry 0 @ 0x18) at da 0x10000000 len 0x2000")
        #expect(error?.code == .invalidArgument)
        #expect(error?.rproc == "dsp")
    }

    @Test func fixedCarveoutRules() throws {
        #expect(
            try failure([Support.carveout("regs", da: 0x4A00_0000, len: 0x100)])?.description
                == "dsp: carveout 'regs' (entry 0 @ 0x14): da 0x4a000000 len 0x100 lies in devmem region 'l4' (da 0x4a000000 len 0x10000), not in a carveout region")
        #expect(
            try failure([Support.carveout("x", da: 0x100F_F000, len: 0x2000)])?.description
                == "dsp: carveout 'x' (entry 0 @ 0x14): da 0x100ff000 len 0x2000 crosses the edge of region 'ram' (da 0x10000000 len 0x100000)")
        #expect(
            try failure([Support.carveout("x", da: 0x3000_0000, len: 0x10)])?.description
                == "dsp: carveout 'x' (entry 0 @ 0x14): da 0x30000000 len 0x10 is not in the memory map")
        #expect(
            try failure([Support.carveout("x", da: 0x1000_0000, pa: 0x1000_0000, len: 0x1000)])?.description
                == "dsp: carveout 'x' (entry 0 @ 0x14): pa 0x10000000 disagrees with the memory map: da 0x10000000 is pa 0x80000000 in region 'ram' (da 0x10000000 len 0x100000)")
        #expect(try failure([Support.carveout("x", da: Support.any, len: 0)])?.description == "dsp: carveout 'x' (entry 0 @ 0x14): len is 0")
        // A fixed pa that agrees is fine.
        let allocation = try Support.handle(
            [Support.carveout("x", da: 0x1000_0000, pa: 0x8000_0000, len: 0x1000)], map: try Support.standardMap())
        #expect(allocation.carveouts.first?.pa == 0x8000_0000)
    }

    @Test func fixedAddressesAreReservedBeforeAnythingIsAllocated() throws {
        let allocation = try Support.handle(
            [Support.carveout("a", da: Support.any, len: 0x1000), Support.carveout("b", da: 0x1000_0000, len: 0x1000)],
            map: try Support.standardMap())
        #expect(allocation.carveouts.map(\.da) == [0x1000_1000, 0x1000_0000])
    }

    @Test func mapTooSmallNamesTheCarveoutAndTheLargestFreeBlock() throws {
        let big = try failure([Support.carveout("big", da: Support.any, len: 0x20_0000)])
        #expect(big?.description == "dsp: memory map too small for carveout 'big' (len 0x200000): largest free block is 0x100000 bytes in region 'ram'")
        #expect(big?.code == .noMemory)

        let tiny = { (size: UInt32) throws -> RemoteMemoryMap in
            try Support.map([MemoryRegionProfile(name: "tiny", kind: .carveout, da: 0, pa: 0, size: size)])
        }
        #expect(
            try failure([Support.vdev(vrings: [Support.vring(), Support.vring()])], map: try tiny(0x2000))?.description
                == "dsp: memory map too small for carveout 'vdev0vring0' (len 0x3000): largest free block is 0x2000 bytes in region 'tiny'")
        #expect(
            try failure([Support.vdev(vrings: [Support.vring(align: 16, num: 8), Support.vring(align: 16, num: 8)])], map: try tiny(0x3000))?
                .description
                == "dsp: memory map too small for carveout 'vdev0buffer' (len 0x2000): largest free block is 0x1000 bytes in region 'tiny'")
        #expect(
            try failure([Support.carveout("all", da: Support.any, len: 0x1000)], map: try tiny(0x1000))?.description
                == "dsp: memory map too small for carveout 'rsctable' (len 0x4c): largest free block is 0x0 bytes in region 'tiny'")
        let devmemOnly = try Support.map([MemoryRegionProfile(name: "io", kind: .devmem, da: 0, pa: 0, size: 0x1000)])
        #expect(
            try failure([Support.carveout("c", da: Support.any, len: 0x10)], map: devmemOnly)?.description
                == "dsp: memory map too small for carveout 'c' (len 0x10): the memory map has no carveout region")
    }

    @Test func devmemRules() throws {
        #expect(
            try failure([Support.devmem("bad", da: 0x5000_0000, pa: 0x5000_0000, len: 0x1000)])?.description
                == "dsp: devmem 'bad' (entry 0 @ 0x14): da 0x50000000 len 0x1000 is not in the memory map")
        #expect(
            try failure([Support.devmem("bad", da: 0x1000_0000, pa: 0x8000_0000, len: 0x1000)])?.description
                == "dsp: devmem 'bad' (entry 0 @ 0x14): da 0x10000000 len 0x1000 lies in carveout region 'ram' (da 0x10000000 len 0x100000), not in a devmem region")
        #expect(
            try failure([Support.devmem("bad", da: 0x4A00_F000, pa: 0x4A00_F000, len: 0x2000)])?.description
                == "dsp: devmem 'bad' (entry 0 @ 0x14): da 0x4a00f000 len 0x2000 crosses the edge of region 'l4' (da 0x4a000000 len 0x10000)")
        #expect(
            try failure([Support.devmem("bad", da: 0x4A00_0000, pa: 0x1234, len: 0x1000)])?.description
                == "dsp: devmem 'bad' (entry 0 @ 0x14): pa 0x1234 disagrees with the memory map: da 0x4a000000 is pa 0x4a000000 in region 'l4' (da 0x4a000000 len 0x10000)")
        #expect(
            try failure([Support.devmem("bad", da: Support.any, pa: Support.any, len: 0x1000)])?.description
                == "dsp: devmem 'bad' (entry 0 @ 0x14): da is ANY: device memory needs a fixed address")
        #expect(try failure([Support.devmem("bad", da: 0x4A00_0000, pa: Support.any, len: 0)])?.description == "dsp: devmem 'bad' (entry 0 @ 0x14): len is 0")
        // pa ANY is accepted and recorded as the map's; nothing is written back for devmem.
        let allocation = try Support.handle([Support.devmem("ok", da: 0x4A00_1000, pa: Support.any, len: 0x10)], map: try Support.standardMap())
        #expect(allocation.devmems.first?.pa == 0x4A00_1000)
        #expect(Support.u32(allocation.tableBytes, 0x14 + 8) == Support.any)
    }

    @Test func traceRules() throws {
        let outside = try failure([Support.trace("log", da: 0x3000_0000, len: 0x100)])
        #expect(outside?.description == "dsp: trace 'log' (entry 0 @ 0x14): da 0x30000000 len 0x100 is not in the memory map")
        #expect(outside?.code == .invalidArgument)
        #expect(
            try failure([Support.trace("log", da: 0x100F_FF00, len: 0x101)])?.description
                == "dsp: trace 'log' (entry 0 @ 0x14): da 0x100fff00 len 0x101 is not in the memory map")
        #expect(try failure([Support.trace("log", da: 0x1000_0000, len: 0)])?.description == "dsp: trace 'log' (entry 0 @ 0x14): len is 0")
        let nine = (0..<9).map { Support.trace("t\($0)", da: 0x1000_0000 + UInt32($0) * 0x100, len: 0x100) }
        let tooMany = try failure(nine)
        #expect(tooMany?.description == "dsp: trace 't8' (entry 8 @ 0x1b4): more than 8 trace buffers; the control block publishes at most 8")
        #expect(tooMany?.code == .noSpace)
        // Traces in devmem regions are fine.
        let allocation = try Support.handle([Support.trace("io", da: 0x4A00_0100, len: 0x100)], map: try Support.standardMap())
        #expect(allocation.traces.first?.segmentOffset == 0x109100)
    }

    @Test func vdevRules() throws {
        #expect(
            try failure([Support.vdev(vrings: [Support.vring(), Support.vring(), Support.vring()])])?.description
                == "dsp: vdev 0 (entry 0 @ 0x14): 3 vrings; at most 2 are supported")
        #expect(
            try failure([Support.vdev(vrings: [Support.vring(num: 3)])])?.description
                == "dsp: vdev 0 vring 0 (entry 0 @ 0x14): num 3 is not a power of two between 1 and 32768")
        #expect(
            try failure([Support.vdev(vrings: [Support.vring(), Support.vring(align: 0)])])?.description
                == "dsp: vdev 0 vring 1 (entry 0 @ 0x14): align 0 is not a power of two between 1 and 2147483648")
        #expect(
            try failure([
                Support.carveout("ipc", da: 0x1000_0000, len: 0x1_0000),
                Support.vdev(vrings: [Support.vring(da: 0x1000_4000)]),
            ])?.description
                == "dsp: vdev 0 vring 0 (entry 1 @ 0x50): da 0x10004000 len 0x2806 overlaps carveout 'ipc' (entry 0 @ 0x18) at da 0x10000000 len 0x10000")
        #expect(
            try failure([Support.vdev(vrings: [Support.vring(da: 0x1000_0000), Support.vring(da: 0x1000_2000)])])?.description
                == "dsp: vdev 0 vring 1 (entry 0 @ 0x14): da 0x10002000 len 0x2806 overlaps vdev 0 vring 0 (entry 0 @ 0x14) at da 0x10000000 len 0x2806")
        #expect(
            try failure([Support.vdev(vrings: [Support.vring(da: 0x3000_0000)])])?.description
                == "dsp: vdev 0 vring 0 (entry 0 @ 0x14): da 0x30000000 len 0x2806 is not in the memory map")
        // An rpmsg device without vrings gets no pool, only a warning.
        let allocation = try Support.handle([Support.vdev(vrings: [])], map: try Support.standardMap())
        #expect(allocation.vdevs.first?.bufferPool == nil)
        #expect(allocation.warnings == ["vdev 0 (entry 0 @ 0x14): rpmsg device without vrings: no buffer pool allocated"])
    }

    @Test func bufferSizeIsChecked() throws {
        #expect(try failure([], bufferSize: 16)?.description == "dsp: rpmsg buffer size 16 must be between 17 and 65536")
        #expect(try failure([], bufferSize: 65537)?.code == .invalidArgument)
    }
}

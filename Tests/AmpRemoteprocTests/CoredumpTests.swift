// CoredumpWriter: the ELF core parses back with ELFFile.parse, has one PT_LOAD per region whose data equals
// the segment's bytes, takes the firmware's machine, class and byte order, and lands atomically under its name.

import AmpSystem
import AmpWire
import Foundation
import Glibc
import Testing

@testable import AmpRemoteproc

@Suite("CoredumpTests")
struct CoredumpTests {
    typealias Support = RemoteprocTestSupport

    static func firmware(_ elfClass: ELFClass, machine: UInt16) throws -> FirmwareImage {
        let bytes = ELFImageBuilder(
            class: elfClass, order: .little, machine: machine, segments: [ELFImageBuilder.Segment(vaddr: 0x40_0000, data: [1])]
        ).build()
        return try FirmwareImage(bytes: bytes, path: "fw", rproc: "dsp")
    }

    @Test func coreHasOnePTLoadPerCarveoutRegionWithTheSegmentsBytes() throws {
        let map = try Support.standardMap()
        let directory = try Support.temporaryDirectory("core")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let name: String
        do {
            let segment = try Support.segment(size: map.segmentSize)
            name = segment.name
            _ = try SegmentImage.prepare(segment: segment, map: map, rproc: "dsp", generation: 1, hostPid: 1, bufferSize: 512, heartbeatPeriodMs: 0)
            try segment.write((0..<0x10_0000).map { UInt8(truncatingIfNeeded: $0 % 251) }, at: 0x1000)
            try segment.write([UInt8](repeating: 0x5A, count: 0x8000), at: 0x101000)
            try segment.write(Array("device registers".utf8), at: 0x109000)

            let path = try CoredumpWriter.write(
                segment: segment, memoryMap: map, firmware: try Self.firmware(.elf32, machine: ELFHeader.EM_ARM), rproc: "dsp",
                crashCount: 3, directory: directory + "/dumps/nested", unixTime: 1_700_000_000)
            #expect(path == directory + "/dumps/nested/dsp-3-1700000000.core")
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory + "/dumps/nested") == ["dsp-3-1700000000.core"])
            var info = stat()
            #expect(stat(path, &info) == 0 && info.st_mode & 0o777 == 0o600)

            let core = try ELFFile.parse([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
            #expect(core.header.type == ELFHeader.ET_CORE && core.header.machine == ELFHeader.EM_ARM)
            #expect(core.header.elfClass == .elf32 && core.header.byteOrder == .little && core.header.entry == 0)
            // Carveout regions only: device memory (the third region) is left out, as Linux does.
            #expect(core.sections.isEmpty && core.programHeaders.count == 2)
            for (index, region) in map.regions.filter({ $0.kind == .carveout }).enumerated() {
                let header = core.programHeaders[index]
                #expect(header.type == ELFProgramHeader.PT_LOAD && header.flags == 7 && header.align == 0)
                #expect(header.vaddr == UInt64(region.da) && header.paddr == UInt64(region.da))
                #expect(header.filesz == UInt64(region.size) && header.memsz == UInt64(region.size))
                let data = try #require(core.segmentData(at: index))
                #expect(Array(data) == (try segment.read(at: region.segmentOffset, count: Int(region.size))), "region \(region.name)")
            }
            #expect(!core.bytes.starts(with: Array("device registers".utf8)))
            // Neither the control block nor device memory is part of the dump: 52 + 2 * 32 header bytes plus the carveouts.
            #expect(core.bytes.count == 52 + 2 * 32 + 0x10_0000 + 0x8000)
        }
        #expect(!Support.segmentExists(name))
    }

    @Test func coreFollowsTheFirmwaresClass() throws {
        let map = try Support.map([.init(name: "ram", kind: .carveout, da: 0x8000_0000, pa: 0x8000_0000, size: 0x2000)])
        let segment = try Support.segment(size: map.segmentSize)
        defer { try? segment.unlink() }
        let bytes = try CoredumpWriter.image(
            segment: segment, memoryMap: map, machine: ELFHeader.EM_AARCH64, elfClass: .elf64, byteOrder: .little, rproc: "dsp")
        let core = try ELFFile.parse(bytes)
        #expect(core.header.elfClass == .elf64 && core.header.machine == ELFHeader.EM_AARCH64 && core.header.type == ELFHeader.ET_CORE)
        #expect(core.programHeaders.map(\.vaddr) == [0x8000_0000] && core.programHeaders.first?.filesz == 0x2000)
        // The segment was filled with 0xAA by the test helper and never prepared: the dump shows it as it is.
        #expect(core.segmentData(at: 0)?.allSatisfy { $0 == 0xAA } == true)
    }

    @Test func fileNamesAreSafe() {
        #expect(CoredumpWriter.fileName(rproc: "dsp", crashCount: 1, unixTime: 5) == "dsp-1-5.core")
        #expect(CoredumpWriter.fileName(rproc: "a/b c", crashCount: 2, unixTime: 6) == "a_b_c-2-6.core")
        #expect(CoredumpWriter.fileName(rproc: "..", crashCount: 0, unixTime: 0) == "_..-0-0.core")
        #expect(CoredumpWriter.fileName(rproc: "", crashCount: 0, unixTime: 0) == "_-0-0.core")
    }

    @Test func anUnusableDirectoryIsASystemError() throws {
        let map = try Support.map([.init(name: "ram", kind: .carveout, da: 0, pa: 0, size: 0x1000)])
        let directory = try Support.temporaryDirectory("core-bad")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = try Support.writeFile([1], named: "plain", in: directory)
        let segment = try Support.segment(size: map.segmentSize)
        defer { try? segment.unlink() }
        let firmware = try Self.firmware(.elf32, machine: ELFHeader.EM_ARM)
        let error = Support.error { () throws(RemoteprocError) in
            try CoredumpWriter.write(segment: segment, memoryMap: map, firmware: firmware, rproc: "dsp", crashCount: 1, directory: file, unixTime: 9)
        }
        #expect(error?.code == RemoteprocError.Code(rawValue: ENOTDIR))
        #expect(error?.description == "dsp: coredump: \(file)/dsp-1-9.core.tmp-\(getpid()): open: Not a directory")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["plain"])
    }
}

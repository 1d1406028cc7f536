// FirmwareImage: reading a firmware file, its resource table, and the refusals Linux's ELF loader makes.

import AmpSystem
import AmpWire
import Foundation
import Glibc
import Testing

@testable import AmpRemoteproc

@Suite("FirmwareImageTests")
struct FirmwareImageTests {
    typealias Support = RemoteprocTestSupport

    static let table = ResourceTable(resources: [Support.trace("log", da: 0x1000_1000, len: 0x100)])

    /// An ELF32 EM_ARM image: a code segment at 0x10000000, a PT_NOTE, and `.resource_table` with its own bytes.
    static func image(order: ByteOrder = .little, table: ResourceTable.Section? = nil) -> [UInt8] {
        var builder = ELFImageBuilder(
            class: .elf32, order: order, machine: ELFHeader.EM_ARM, entry: 0x1000_0101,
            segments: [
                ELFImageBuilder.Segment(vaddr: 0x1000_0000, align: 4, data: [UInt8](repeating: 0xC0, count: 0x40)),
                ELFImageBuilder.Segment(type: ELFProgramHeader.PT_NOTE, vaddr: 0, data: [1, 2, 3, 4]),
            ])
        if let table { builder.sections = [table.section] }
        return builder.build()
    }

    @Test func loadReadsTheImageAndItsTable() throws {
        let directory = try Support.temporaryDirectory("fw")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let bytes = Self.table.serialised(order: .little)
        let path = try Support.writeFile(
            Self.image(table: .init(addr: 0x1000_0800, contents: .bytes(bytes))), named: "fw.elf", in: directory)
        let firmware = try FirmwareImage.load(path: path, rproc: "dsp")
        #expect(firmware.path == path)
        #expect(firmware.machine == ELFHeader.EM_ARM && firmware.entry == 0x1000_0101)
        #expect(firmware.byteOrder == .little && firmware.elfClass == .elf32)
        #expect(firmware.cachedTable == Self.table)
        #expect(firmware.tableBytes == bytes)
        #expect(firmware.tableSection?.addr == 0x1000_0800 && firmware.tableSectionIndex == 1)
        #expect(firmware.tableDeviceAddress == 0x1000_0800)
        #expect(firmware.loadSegments.map(\.index) == [0])
        #expect(firmware.loadSegments.first?.header.paddr == 0x1000_0000)
        #expect(firmware.warnings.isEmpty)
    }

    @Test func aMissingFileIsENOENT() {
        let error = Support.error { () throws(RemoteprocError) in try FirmwareImage.load(path: "/nonexistent/fw.elf", rproc: "dsp") }
        #expect(error?.description == "dsp: firmware /nonexistent/fw.elf: open: No such file or directory")
        #expect(error?.code == .noEntry)
        #expect(error?.underlying == .system(SystemError(call: "open", subject: "/nonexistent/fw.elf", code: .noSuchFile)))
    }

    @Test func refusesWhatLinuxRefuses() throws {
        func message(_ bytes: [UInt8], _ name: String) -> String? {
            Support.error { () throws(RemoteprocError) in try FirmwareImage(bytes: bytes, path: name, rproc: "dsp") }?.description
        }
        #expect(
            message(Self.image(order: .big), "be.elf")
                == "dsp: firmware be.elf is big-endian but the host is little-endian: remoteproc structures are native-endian, so only little-endian firmware can be loaded")
        #expect(
            message(ELFImageBuilder(class: .elf64, order: .little, machine: ELFHeader.EM_AARCH64).build(), "empty.elf")
                == "dsp: firmware empty.elf has no program headers (e_phnum is 0): nothing to load")
        #expect(
            message(Array("hello".utf8), "junk")
                == "dsp: firmware junk: e_ident at offset 0 (0x0): input is 5 bytes, shorter than the 16-byte ELF identification")
        // A malformed table is reported at its file offset.
        var bad = Self.table
        bad.version = 2
        let image = Self.image(table: .init(addr: 0, contents: .bytes(bad.serialised(order: .little))))
        let sectionOffset = try ELFFile.parse(image).sections[1].offset
        #expect(
            message(image, "ver2.elf")
                == "dsp: firmware ver2.elf: resource_table.ver at offset \(sectionOffset) (0x\(String(sectionOffset, radix: 16))): version 2, expected 1")
        let error = Support.error { () throws(RemoteprocError) in try FirmwareImage(bytes: image, path: "ver2.elf", rproc: "dsp") }
        #expect(error?.code == .invalidArgument)
        #expect(error?.underlying == .wire(WireError(field: "resource_table.ver", offset: Int(sectionOffset), reason: "version 2, expected 1")))
    }

    @Test func emptyNoBitsAndAbsentTablesMeanNoResources() throws {
        let empty = try FirmwareImage(bytes: Self.image(table: .init(addr: 0x100, contents: .bytes([]))), path: "e.elf", rproc: "dsp")
        #expect(empty.cachedTable == nil && empty.tableBytes == nil && empty.tableSection?.size == 0 && empty.tableDeviceAddress == nil)
        #expect(empty.warnings == ["firmware e.elf: .resource_table is empty (sh_size 0): no resources"])
        let noBits = try FirmwareImage(
            bytes: Self.image(table: .init(addr: 0x100, contents: .noBits(size: 0x40))), path: "n.elf", rproc: "dsp")
        #expect(noBits.cachedTable == nil && noBits.tableSection?.size == 0x40)
        #expect(noBits.warnings == ["firmware n.elf: .resource_table is SHT_NOBITS: no resources"])
        let absent = try FirmwareImage(bytes: Self.image(), path: "a.elf", rproc: "dsp")
        #expect(absent.cachedTable == nil && absent.tableSection == nil && absent.warnings.isEmpty)
        let allocation = try ResourceHandler.handle(firmware: absent, memoryMap: try Support.standardMap(), rproc: "dsp")
        #expect(allocation == ResourceAllocation.empty(rproc: "dsp"))
    }

    @Test func checkExecutableNeedsTheExecuteBit() throws {
        let directory = try Support.temporaryDirectory("exec")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = try Support.writeFile(Self.image(), named: "fw.elf", in: directory)
        let firmware = try FirmwareImage.load(path: path, rproc: "dsp")
        #expect(chmod(path, 0o644) == 0)
        let error = Support.error { () throws(RemoteprocError) in try firmware.checkExecutable(rproc: "dsp") }
        #expect(
            error?.description
                == "dsp: firmware \(path) cannot be executed by the host (Permission denied): an emulated core runs its firmware as a process")
        #expect(error?.code == .permissionDenied)
        #expect(chmod(path, 0o755) == 0)
        try firmware.checkExecutable(rproc: "dsp")
    }

    @Test func everyRealFixtureLoads() throws {
        let expected: [(name: String, machine: UInt16, hasTable: Bool)] = [
            ("am335x-pru0-lockin-rpmsg", ELFHeader.EM_TI_PRU, true), ("am335x-pru0-rc-encoder", ELFHeader.EM_TI_PRU, true),
            ("kr260-mbv32-zephyr-openamp", ELFHeader.EM_RISCV, true), ("kv260-r5-zephyr-rpmsg-multi", ELFHeader.EM_ARM, true),
            ("stm32mp157c-dk2-zephyr-hello", ELFHeader.EM_ARM, true), ("stm32mp157c-dk2-zephyr-rpmsg-multi", ELFHeader.EM_ARM, true),
            ("zcu102-r5-xlnx-echo-test", ELFHeader.EM_ARM, true), ("zcu102-r5-xlnx-split-rpu0", ELFHeader.EM_ARM, false),
        ]
        for fixture in expected {
            let firmware = try Support.fixture(fixture.name)
            #expect(firmware.machine == fixture.machine, "\(fixture.name)")
            #expect((firmware.cachedTable != nil) == fixture.hasTable, "\(fixture.name)")
            #expect(firmware.tableBytes?.count == firmware.cachedTable?.size, "\(fixture.name)")
        }
        let split = try Support.fixture("zcu102-r5-xlnx-split-rpu0")
        #expect(split.tableSection?.addr == 0x3ED2_0000 && split.tableSectionIndex == 14)
    }
}

extension ResourceTable {
    /// A `.resource_table` section for ELFImageBuilder.
    struct Section {
        var addr: UInt64
        var contents: ELFImageBuilder.Section.Contents

        var section: ELFImageBuilder.Section {
            var type = ELFSectionHeader.SHT_PROGBITS
            if case .noBits = contents { type = ELFSectionHeader.SHT_NOBITS }
            return ELFImageBuilder.Section(
                name: ".resource_table", type: type, flags: ELFSectionHeader.SHF_ALLOC | ELFSectionHeader.SHF_WRITE, addr: addr,
                contents: contents)
        }
    }
}

// Whole-image tests: ELFImageBuilder output parses back to what was built (both classes and byte orders,
// executables with sections, core dumps without), data accessors, the resource-table locator, and the
// segment lookup for a section.

import AmpWire
import Testing

extension ELFTests {
    /// A small firmware-like image: a text segment, a data segment holding a `.resource_table`, a NOBITS
    /// `.bss`, and a non-allocated `.comment` with its own bytes.
    static func sampleBuilder(_ elfClass: ELFClass, _ order: ByteOrder, table: [UInt8] = [1, 2, 3, 4]) -> ELFImageBuilder {
        let text: [UInt8] = (0..<24).map { UInt8($0 * 3 + 1) }
        let data: [UInt8] = [0xAA, 0xBB, 0xCC, 0xDD] + table + [0x11, 0x22]
        return ELFImageBuilder(
            class: elfClass, order: order, type: ELFHeader.ET_EXEC, machine: ELFHeader.EM_ARM, entry: 0x1004,
            flags: 0x0500_0400,
            segments: [
                .init(flags: ELFProgramHeader.PF_R | ELFProgramHeader.PF_X, vaddr: 0x1000, align: 16, data: text),
                .init(flags: ELFProgramHeader.PF_R | ELFProgramHeader.PF_W, vaddr: 0x2000, paddr: 0x3ED2_0000,
                      memsz: 0x100, align: 4, data: data),
            ],
            sections: [
                .init(name: ".text", flags: ELFSectionHeader.SHF_ALLOC | ELFSectionHeader.SHF_EXECINSTR, addr: 0x1000,
                      addralign: 16, contents: .inSegment(segment: 0, offset: 0, size: UInt64(text.count))),
                .init(name: ".resource_table", flags: ELFSectionHeader.SHF_ALLOC | ELFSectionHeader.SHF_WRITE,
                      addr: 0x2004, contents: .inSegment(segment: 1, offset: 4, size: UInt64(table.count))),
                .init(name: ".bss", type: ELFSectionHeader.SHT_NOBITS, flags: 3, addr: 0x2010, contents: .noBits(size: 0xF0)),
                .init(name: ".comment", type: ELFSectionHeader.SHT_PROGBITS, flags: 0, addralign: 1, data: Array("hi!".utf8)),
            ])
    }

    @Test(arguments: [ELFClass.elf32, .elf64], [ByteOrder.little, .big])
    func builderRoundTrip(elfClass: ELFClass, order: ByteOrder) throws {
        let builder = Self.sampleBuilder(elfClass, order)
        let image = builder.build()
        let file = try ELFFile.parse(image)

        #expect(file.header.elfClass == elfClass && file.header.byteOrder == order)
        #expect(file.header.type == ELFHeader.ET_EXEC && file.header.machine == ELFHeader.EM_ARM)
        #expect(file.header.entry == 0x1004 && file.header.flags == 0x0500_0400)
        #expect(file.header.phnum == 2 && file.header.shnum == 6 && file.header.shstrndx == 5)
        #expect(file.warnings.isEmpty)

        #expect(file.programHeaders.count == 2)
        for (index, segment) in builder.segments.enumerated() {
            let parsed = file.programHeaders[index]
            #expect(parsed.type == segment.type && parsed.flags == segment.flags)
            #expect(parsed.vaddr == segment.vaddr && parsed.paddr == segment.paddr)
            #expect(parsed.memsz == segment.memsz && parsed.align == segment.align)
            #expect(parsed.filesz == UInt64(segment.data.count))
            #expect(parsed.offset % segment.align == segment.vaddr % segment.align)
            #expect(file.segmentData(at: index).map(Array.init) == segment.data)
        }
        #expect(file.segmentData(at: 2) == nil)

        #expect(file.sections.map(\.name) == ["", ".text", ".resource_table", ".bss", ".comment", ".shstrtab"])
        #expect(file.sections[0] == ELFSectionHeader(nameOffset: 0, type: ELFSectionHeader.SHT_NULL))
        for (index, section) in builder.sections.enumerated() {
            let parsed = file.sections[index + 1]
            #expect(parsed.type == section.type && parsed.flags == section.flags && parsed.addr == section.addr)
            #expect(parsed.addralign == section.addralign)
        }
        #expect(file.sectionData(at: 1).map(Array.init) == builder.segments[0].data)
        #expect(file.sectionData(at: 2).map(Array.init) == [1, 2, 3, 4])
        #expect(file.sections[3].size == 0xF0 && file.sectionData(at: 3)?.isEmpty == true)
        #expect(file.sectionData(at: 4).map(Array.init) == Array("hi!".utf8))
        #expect(file.sections[5].type == ELFSectionHeader.SHT_STRTAB)
        #expect(file.sectionIndex(named: ".bss") == 3 && file.sectionIndex(named: ".nope") == nil)

        // Header and tables re-serialise to the exact bytes in the image.
        #expect(Array(image[0..<elfClass.headerSize]) == file.header.serialised())
        let phoff = Int(file.header.phoff)
        #expect(Array(image[phoff..<phoff + elfClass.programHeaderSize]) == file.programHeaders[0].serialised(class: elfClass, order: order))
        let shoff = Int(file.header.shoff) + 2 * elfClass.sectionHeaderSize
        #expect(Array(image[shoff..<shoff + elfClass.sectionHeaderSize]) == file.sections[2].serialised(class: elfClass, order: order))
    }

    @Test func elf32LayoutIsExact() throws {
        // Header 52, phdrs at 52 (2 x 32 -> 116), text at 128 (aligned like vaddr 0x1000, mod 16), data at
        // 152 (10 bytes -> 162), .bss (no bytes) and .comment at 162 (3 bytes), .shstrtab at 165 (47 bytes)
        // -> 212, section headers at 212 (6 x 40) -> 452.
        let image = Self.sampleBuilder(.elf32, .little).build()
        let file = try ELFFile.parse(image)
        #expect(image.count == 452)
        #expect(file.header.phoff == 52 && file.header.shoff == 212)
        #expect(file.programHeaders.map(\.offset) == [128, 152])
        #expect(file.sections.map(\.offset) == [0, 128, 156, 162, 162, 165])
        #expect(file.sections[5].size == 47)
    }

    @Test(arguments: [ELFClass.elf32, .elf64], [ByteOrder.little, .big])
    func coreDumpWithoutSections(elfClass: ELFClass, order: ByteOrder) throws {
        let rwx = ELFProgramHeader.PF_R | ELFProgramHeader.PF_W | ELFProgramHeader.PF_X
        let builder = ELFImageBuilder(
            class: elfClass, order: order, type: ELFHeader.ET_CORE, machine: ELFHeader.EM_RISCV,
            segments: [
                .init(flags: rwx, vaddr: 0x3ED0_0000, align: 0, data: [UInt8](repeating: 0xFF, count: 5)),
                .init(flags: rwx, vaddr: 0x2000_0000, align: 0, data: [1, 2, 3]),
            ])
        let image = builder.build()
        let file = try ELFFile.parse(image)
        #expect(file.header.type == ELFHeader.ET_CORE && file.header.machine == ELFHeader.EM_RISCV)
        #expect(file.header.shoff == 0 && file.header.shnum == 0 && file.header.shstrndx == 0)
        #expect(file.sections.isEmpty)
        #expect(file.resourceTableSection() == .absent)
        #expect(file.programHeaders.map(\.paddr) == [0x3ED0_0000, 0x2000_0000])
        #expect(file.programHeaders.map(\.vaddr) == file.programHeaders.map(\.paddr))
        #expect(file.segmentData(at: 0).map(Array.init) == [UInt8](repeating: 0xFF, count: 5))
        #expect(file.segmentData(at: 1).map(Array.init) == [1, 2, 3])
        // Data is concatenated right after the program-header table.
        let tableEnd = UInt64(elfClass.headerSize + 2 * elfClass.programHeaderSize)
        #expect(file.programHeaders.map(\.offset) == [tableEnd, tableEnd + 5])
        #expect(image.count == Int(tableEnd) + 8)
    }

    @Test func imageWithoutProgramHeadersParsesWithAWarning() throws {
        let builder = ELFImageBuilder(
            class: .elf32, order: .little, type: ELFHeader.ET_REL, machine: ELFHeader.EM_ARM,
            sections: [.init(name: ".data", data: [9, 9])])
        let file = try ELFFile.parse(builder.build())
        #expect(!file.hasProgramHeaders && file.header.phnum == 0 && file.header.phoff == 0)
        #expect(file.warnings.count == 1)
        #expect(file.warnings.first?.contains("e_phnum is 0") == true)
    }

    @Test func sectionNamesAreEmptyWithoutAStringTable() throws {
        var image = Self.sampleBuilder(.elf32, .little).build()
        Support.patch(&image, at: 50, width: 2, value: 0, order: .little)  // e_shstrndx = SHN_UNDEF
        let file = try ELFFile.parse(image)
        #expect(file.sections.allSatisfy { $0.name.isEmpty })
        #expect(file.sections[2].nameOffset != 0)
        #expect(file.resourceTableSection() == .absent)
    }

    // MARK: Resource-table location

    @Test func bigEndianELF64CarriesABigEndianResourceTable() throws {
        let table = ResourceTable(resources: [
            .carveout(.init(da: 0x3ED4_0000, pa: ResourceTable.addressAny, len: 0x10_0000, name: "ddr")),
            .vdev(.init(id: 7, notifyid: 0, dfeatures: 1, vrings: [
                .init(da: ResourceTable.addressAny, align: 0x1000, num: 256, notifyid: 0),
                .init(da: ResourceTable.addressAny, align: 0x1000, num: 256, notifyid: 1),
            ])),
            .trace(.init(da: 0x3ED5_0000, len: 0x8000, name: "trace0")),
        ])
        let tableBytes = table.serialised(order: .big)
        let image = Self.sampleBuilder(.elf64, .big, table: tableBytes).build()
        let file = try ELFFile.parse(image)
        guard case .present(let index, let section, let bytes) = file.resourceTableSection() else {
            Issue.record("no resource table found")
            return
        }
        #expect(index == 2 && section.addr == 0x2004 && section.size == UInt64(tableBytes.count))
        #expect(bytes == tableBytes)
        #expect(try file.parseResourceTable() == table)
        // The same bytes read in the wrong order fail the version check.
        #expect(throws: WireError.self) { try ResourceTable.parse(bytes, order: .little) }

        let match = try #require(file.loadSegment(containing: section))
        #expect(match.index == 1 && match.basis == .fileOffset && match.offsetInSegment == 4)
    }

    @Test func resourceTableErrorsCarryFileOffsets() throws {
        var table = ResourceTable(resources: [.trace(.init(da: 1, len: 2, name: "t"))]).serialised(order: .little)
        table[0] = 2  // version 2
        let file = try ELFFile.parse(Self.sampleBuilder(.elf32, .little, table: table).build())
        let section = file.sections[2]
        let error = #expect(throws: WireError.self) { try file.parseResourceTable() }
        #expect(error?.field == "resource_table.ver")
        #expect(error?.offset == Int(section.offset))
    }

    @Test func emptyAndNoBitsResourceTables() throws {
        var builder = Self.sampleBuilder(.elf32, .little)
        builder.sections[1].contents = .inSegment(segment: 1, offset: 4, size: 0)
        let empty = try ELFFile.parse(builder.build())
        guard case .empty(let index, let section) = empty.resourceTableSection() else {
            Issue.record("expected .empty")
            return
        }
        #expect(index == 2 && section.size == 0)
        #expect(try empty.parseResourceTable() == nil)

        builder.sections[1].type = ELFSectionHeader.SHT_NOBITS
        builder.sections[1].contents = .noBits(size: 64)
        let noBits = try ELFFile.parse(builder.build())
        guard case .noBits(2, let nobitsSection) = noBits.resourceTableSection() else {
            Issue.record("expected .noBits")
            return
        }
        #expect(nobitsSection.size == 64)
        #expect(try noBits.parseResourceTable() == nil)
    }

    @Test func loadSegmentFallsBackToAddresses() throws {
        let file = try ELFFile.parse(Self.sampleBuilder(.elf32, .little).build())
        // A section that is not file-backed but lies in segment 1's memory, by physical address.
        let byPhysical = ELFSectionHeader(nameOffset: 0, type: ELFSectionHeader.SHT_NOBITS, addr: 0x3ED2_0080, size: 0x80)
        let physical = try #require(file.loadSegment(containing: byPhysical))
        #expect(physical.index == 1 && physical.basis == .physicalAddress && physical.offsetInSegment == 0x80)
        // One byte past p_memsz: no match by physical address; by virtual address neither.
        let tooLong = ELFSectionHeader(nameOffset: 0, type: ELFSectionHeader.SHT_NOBITS, addr: 0x3ED2_0080, size: 0x81)
        #expect(file.loadSegment(containing: tooLong) == nil)
        let byVirtual = ELFSectionHeader(nameOffset: 0, type: ELFSectionHeader.SHT_NOBITS, addr: 0x2010, size: 0x10)
        let virtual = try #require(file.loadSegment(containing: byVirtual))
        #expect(virtual.index == 1 && virtual.basis == .virtualAddress && virtual.offsetInSegment == 0x10)
        let direct = try #require(file.loadSegment(containingAddress: 0x1000, size: 24))
        #expect(direct.index == 0 && direct.basis == .physicalAddress && direct.offsetInSegment == 0)
        let overflow = ELFSectionHeader(nameOffset: 0, type: ELFSectionHeader.SHT_NOBITS, addr: .max, size: .max)
        #expect(file.loadSegment(containing: overflow) == nil)
    }
}

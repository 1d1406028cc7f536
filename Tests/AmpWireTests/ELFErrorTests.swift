// One test per ELF validation rule, asserting the exact field name and file offset of the error, plus a
// mutation test: truncated and randomly corrupted images either parse into a consistent value or throw,
// and never trap.

import AmpWire
import Testing

extension ELFTests {
    /// The ELF32 little-endian sample; its layout is pinned by `elf32LayoutIsExact`: phoff 52, shoff 212,
    /// 452 bytes, segment 1 data at 152, section 4 (.comment) at 162.
    static var elf32Sample: [UInt8] { sampleBuilder(.elf32, .little).build() }
    static var elf64BigSample: [UInt8] { sampleBuilder(.elf64, .big).build() }

    static func expectParseError(
        _ bytes: [UInt8], field: String, offset: Int, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let error = #expect(throws: WireError.self, sourceLocation: sourceLocation) { try ELFFile.parse(bytes) }
        #expect(error?.field == field, sourceLocation: sourceLocation)
        #expect(error?.offset == offset, sourceLocation: sourceLocation)
    }

    static func patched(_ image: [UInt8], _ patches: [(offset: Int, width: Int, value: UInt64)], order: ByteOrder = .little) -> [UInt8] {
        var bytes = image
        for patch in patches { Support.patch(&bytes, at: patch.offset, width: patch.width, value: patch.value, order: order) }
        return bytes
    }

    @Test func sampleImagesParse() throws {
        #expect(Self.elf32Sample.count == 452)
        let file = try ELFFile.parse(Self.elf64BigSample)
        #expect(file.header.phoff == 64 && file.sections.count == 6)
    }

    @Test func shorterThanIdentification() {
        Self.expectParseError([], field: "e_ident", offset: 0)
        Self.expectParseError(Array(Self.elf32Sample.prefix(15)), field: "e_ident", offset: 0)
    }

    @Test func shorterThanHeader() {
        Self.expectParseError(Array(Self.elf32Sample.prefix(51)), field: "elf_header", offset: 0)
        Self.expectParseError(Array(Self.elf64BigSample.prefix(63)), field: "elf_header", offset: 0)
    }

    @Test func badMagic() {
        var bytes = Self.elf32Sample
        bytes[2] = 0x4D
        Self.expectParseError(bytes, field: "e_ident.EI_MAG", offset: 0)
    }

    @Test func badClass() {
        for value: UInt8 in [0, 3, 0xFF] {
            var bytes = Self.elf32Sample
            bytes[4] = value
            Self.expectParseError(bytes, field: "e_ident.EI_CLASS", offset: 4)
        }
    }

    @Test func badDataEncoding() {
        for value: UInt8 in [0, 3] {
            var bytes = Self.elf64BigSample
            bytes[5] = value
            Self.expectParseError(bytes, field: "e_ident.EI_DATA", offset: 5)
        }
    }

    @Test func wrongProgramHeaderEntrySize() throws {
        Self.expectParseError(Self.patched(Self.elf32Sample, [(42, 2, 33)]), field: "e_phentsize", offset: 42)
        Self.expectParseError(Self.patched(Self.elf64BigSample, [(54, 2, 32)], order: .big), field: "e_phentsize", offset: 54)
        // With no program headers the entry size is irrelevant.
        let none = try ELFFile.parse(Self.patched(Self.elf32Sample, [(42, 2, 0), (44, 2, 0)]))
        #expect(none.programHeaders.isEmpty)
    }

    @Test func wrongSectionHeaderEntrySize() throws {
        Self.expectParseError(Self.patched(Self.elf32Sample, [(46, 2, 64)]), field: "e_shentsize", offset: 46)
        Self.expectParseError(Self.patched(Self.elf64BigSample, [(58, 2, 40)], order: .big), field: "e_shentsize", offset: 58)
        let none = try ELFFile.parse(Self.patched(Self.elf32Sample, [(46, 2, 0), (48, 2, 0)]))
        #expect(none.sections.isEmpty && none.resourceTableSection() == .absent)
    }

    @Test func programHeaderTableBeyondFile() {
        // The 64-byte table ends one byte past the end.
        Self.expectParseError(Self.patched(Self.elf32Sample, [(28, 4, 452 - 63)]), field: "e_phoff", offset: 28)
        Self.expectParseError(Self.patched(Self.elf32Sample, [(44, 2, 0xFFFF)]), field: "e_phoff", offset: 28)
        Self.expectParseError(
            Self.patched(Self.elf64BigSample, [(32, 8, 0xFFFF_FFFF_FFFF_FFF0)], order: .big), field: "e_phoff", offset: 32)
    }

    @Test func sectionHeaderTableBeyondFile() {
        Self.expectParseError(Self.patched(Self.elf32Sample, [(32, 4, 452 - 239)]), field: "e_shoff", offset: 32)
        Self.expectParseError(Self.patched(Self.elf32Sample, [(32, 4, 0xFFFF_FFFF)]), field: "e_shoff", offset: 32)
        Self.expectParseError(
            Self.patched(Self.elf64BigSample, [(40, 8, 0xFFFF_FFFF_FFFF_FFC0)], order: .big), field: "e_shoff", offset: 40)
    }

    @Test func sectionNameTableIndexOutOfRange() {
        Self.expectParseError(Self.patched(Self.elf32Sample, [(50, 2, 6)]), field: "e_shstrndx", offset: 50)
        Self.expectParseError(
            Self.patched(Self.elf32Sample, [(50, 2, UInt64(ELFSectionHeader.SHN_XINDEX))]), field: "e_shstrndx", offset: 50)
    }

    @Test func sectionNameOutsideStringTable() throws {
        // .shstrtab is 47 bytes; section 3's header is at 212 + 3 * 40.
        Self.expectParseError(Self.patched(Self.elf32Sample, [(332, 4, 47)]), field: "section[3].sh_name", offset: 332)
        Self.expectParseError(Self.patched(Self.elf32Sample, [(332, 4, 0xFFFF_FFFF)]), field: "section[3].sh_name", offset: 332)
        let lastByte = try ELFFile.parse(Self.patched(Self.elf32Sample, [(332, 4, 46)]))
        #expect(lastByte.sections[3].name == "")
        let suffix = try ELFFile.parse(Self.patched(Self.elf32Sample, [(332, 4, 2)]))
        #expect(suffix.sections[3].name == "text")
    }

    @Test func sectionBeyondFile() throws {
        // Section 4 (.comment, 3 bytes at 162); its header is at 372: sh_offset at 388, sh_size at 392.
        Self.expectParseError(Self.patched(Self.elf32Sample, [(388, 4, 453)]), field: "section[4].sh_offset", offset: 388)
        Self.expectParseError(Self.patched(Self.elf32Sample, [(388, 4, 450)]), field: "section[4].sh_size", offset: 392)
        Self.expectParseError(Self.patched(Self.elf32Sample, [(392, 4, 291)]), field: "section[4].sh_size", offset: 392)
        let fits = try ELFFile.parse(Self.patched(Self.elf32Sample, [(392, 4, 290)]))
        #expect(fits.sectionData(at: 4)?.count == 290)
        // A NOBITS section (3, .bss) may claim any range.
        let bss = try ELFFile.parse(Self.patched(Self.elf32Sample, [(348, 4, 0xFFFF_FFF0), (352, 4, 0xFFFF_FFFF)]))
        #expect(bss.sections[3].offset == 0xFFFF_FFF0 && bss.sectionData(at: 3)?.isEmpty == true)

        // ELF64: offset + size overflows.
        let elf64 = try ELFFile.parse(Self.elf64BigSample)
        let header4 = Int(elf64.header.shoff) + 4 * 64
        Self.expectParseError(
            Self.patched(Self.elf64BigSample, [(header4 + 24, 8, 8), (header4 + 32, 8, UInt64.max - 4)], order: .big),
            field: "section[4].sh_size", offset: header4 + 32)
        Self.expectParseError(
            Self.patched(Self.elf64BigSample, [(header4 + 24, 8, UInt64.max - 1)], order: .big),
            field: "section[4].sh_offset", offset: header4 + 24)
    }

    @Test func segmentBeyondFile() throws {
        // Program header 1 is at 84: p_offset at 88, p_filesz at 100 (10 bytes at 152, memsz 0x100).
        Self.expectParseError(Self.patched(Self.elf32Sample, [(88, 4, 453)]), field: "program_header[1].p_offset", offset: 88)
        Self.expectParseError(Self.patched(Self.elf32Sample, [(88, 4, 445)]), field: "program_header[1].p_filesz", offset: 100)
        Self.expectParseError(Self.patched(Self.elf32Sample, [(100, 4, 301)]), field: "program_header[1].p_filesz", offset: 100)
        let fits = try ELFFile.parse(Self.patched(Self.elf32Sample, [(100, 4, 300), (104, 4, 300)]))
        #expect(fits.segmentData(at: 1)?.count == 300)

        let elf64 = try ELFFile.parse(Self.elf64BigSample)
        let header1 = Int(elf64.header.phoff) + 56
        Self.expectParseError(
            Self.patched(Self.elf64BigSample, [(header1 + 8, 8, UInt64.max)], order: .big),
            field: "program_header[1].p_offset", offset: header1 + 8)
        Self.expectParseError(
            Self.patched(Self.elf64BigSample, [(header1 + 32, 8, UInt64.max), (header1 + 40, 8, UInt64.max)], order: .big),
            field: "program_header[1].p_filesz", offset: header1 + 32)
    }

    @Test func fileSizeExceedsMemorySizeInLoadSegment() throws {
        // Program header 0 at 52: 24 bytes in the file, p_memsz at 72.
        Self.expectParseError(Self.patched(Self.elf32Sample, [(72, 4, 23)]), field: "program_header[0].p_filesz", offset: 68)
        // Other segment types (PT_NOTE, processor-specific attributes) may have p_memsz 0.
        let note = try ELFFile.parse(
            Self.patched(Self.elf32Sample, [(52, 4, UInt64(ELFProgramHeader.PT_NOTE)), (72, 4, 0)]))
        #expect(note.programHeaders[0].type == ELFProgramHeader.PT_NOTE && note.programHeaders[0].memsz == 0)
    }

    // MARK: Mutation

    @Test func corruptedImagesNeverTrap() throws {
        let table = ResourceTable(resources: [
            .vdev(.init(id: 7, notifyid: 0, dfeatures: 1, vrings: [.init(da: 0, align: 16, num: 16, notifyid: 0)])),
            .trace(.init(da: 0x100, len: 0x40, name: "log")),
        ])
        let images = [
            Self.sampleBuilder(.elf32, .little, table: table.serialised(order: .little)).build(),
            Self.sampleBuilder(.elf64, .big, table: table.serialised(order: .big)).build(),
        ]
        var generator = Support.SeededGenerator(seed: 0x5EED)
        var accepted = 0
        var rejected = 0
        func check(_ bytes: [UInt8]) {
            guard let file = try? ELFFile.parse(bytes) else {
                rejected += 1
                return
            }
            accepted += 1
            for index in file.programHeaders.indices where file.segmentData(at: index) == nil {
                Issue.record("segment \(index) data outside a parsed file")
            }
            for index in file.sections.indices where file.sectionData(at: index) == nil {
                Issue.record("section \(index) data outside a parsed file")
            }
            if case .present(_, let section, let tableBytes) = file.resourceTableSection() {
                _ = file.loadSegment(containing: section)
                if let parsed = try? ResourceTable.parse(tableBytes, order: file.header.byteOrder) {
                    _ = parsed.warnings
                    #expect(parsed.serialised(order: file.header.byteOrder).count == tableBytes.count)
                }
            }
        }
        for image in images {
            for length in 0...image.count { check(Array(image.prefix(length))) }
            for _ in 0..<3000 {
                var bytes = image
                for _ in 0..<Int.random(in: 1...4, using: &generator) {
                    let value: UInt8 = [0, 0xFF, 0x7F, 0x80, UInt8.random(in: 0...255, using: &generator)]
                        .randomElement(using: &generator) ?? 0
                    bytes[Int.random(in: 0..<bytes.count, using: &generator)] = value
                }
                check(bytes)
            }
        }
        #expect(accepted > 100)
        #expect(rejected > 1000)
    }
}

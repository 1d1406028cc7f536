// Golden-byte tests of the ELF file, program and section headers in both classes and byte orders, and a
// field-by-field offset check: patching one field at its documented offset must change only that field.

import AmpWire
import Testing

@Suite("ELFTests")
struct ELFTests {
    typealias Support = WireTestSupport

    // MARK: Golden bytes

    /// ELF32 little-endian header, every field distinct.
    static let elf32LittleHeader = Support.bytes(
        """
        7f454c46 01 01 01 61 02 00000000000000
        0200 f300 01000000
        44332211 34010000 c3b2a100 00040005
        3400 2000 0300 2800 1c00 1b00
        """)

    /// ELF64 big-endian header.
    static let elf64BigHeader = Support.bytes(
        """
        7f454c46 02 02 01 09 05 00000000000000
        0004 0015 00000001
        0102030405060708 0000000000000a40 1122334455667788
        89abcdef
        0040 0038 0002 0040 0005 0004
        """)

    @Test func classSizes() {
        #expect(ELFClass.elf32.rawValue == 32 && ELFClass.elf64.rawValue == 64)
        #expect(ELFClass.elf32.identValue == 1 && ELFClass.elf64.identValue == 2)
        #expect(ELFClass.elf32.headerSize == 52 && ELFClass.elf64.headerSize == 64)
        #expect(ELFClass.elf32.programHeaderSize == 32 && ELFClass.elf64.programHeaderSize == 56)
        #expect(ELFClass.elf32.sectionHeaderSize == 40 && ELFClass.elf64.sectionHeaderSize == 64)
        #expect(Self.elf32LittleHeader.count == 52 && Self.elf64BigHeader.count == 64)
        #expect(ELFProgramHeader.PT_LOAD == 1 && ELFSectionHeader.SHT_NOBITS == 8)
        #expect(ELFHeader.ET_EXEC == 2 && ELFHeader.ET_CORE == 4 && ELFHeader.EM_ARM == 40)
    }

    @Test func elf32LittleEndianHeaderGolden() throws {
        let header = try ELFHeader.parse(Self.elf32LittleHeader)
        let expected = ELFHeader(
            elfClass: .elf32, byteOrder: .little, osabi: 0x61, abiVersion: 2, type: ELFHeader.ET_EXEC,
            machine: ELFHeader.EM_RISCV, version: 1, entry: 0x1122_3344, phoff: 0x134, shoff: 0xA1_B2C3,
            flags: 0x0500_0400, ehsize: 52, phentsize: 32, phnum: 3, shentsize: 40, shnum: 28, shstrndx: 27)
        #expect(header == expected)
        #expect(expected.serialised() == Self.elf32LittleHeader)
    }

    @Test func elf64BigEndianHeaderGolden() throws {
        let header = try ELFHeader.parse(Self.elf64BigHeader)
        let expected = ELFHeader(
            elfClass: .elf64, byteOrder: .big, osabi: 9, abiVersion: 5, type: ELFHeader.ET_CORE,
            machine: ELFHeader.EM_PPC64, version: 1, entry: 0x0102_0304_0506_0708, phoff: 0xA40,
            shoff: 0x1122_3344_5566_7788, flags: 0x89AB_CDEF, ehsize: 64, phentsize: 56, phnum: 2, shentsize: 64,
            shnum: 5, shstrndx: 4)
        #expect(header == expected)
        #expect(expected.serialised() == Self.elf64BigHeader)
    }

    @Test(arguments: [ELFClass.elf32, .elf64], [ByteOrder.little, .big])
    func headerRoundTrip(elfClass: ELFClass, order: ByteOrder) throws {
        let header = ELFHeader(
            elfClass: elfClass, byteOrder: order, osabi: 3, abiVersion: 1, type: ELFHeader.ET_DYN,
            machine: ELFHeader.EM_AARCH64, entry: 0x8000_0010, phoff: 0x40, shoff: 0x1234, flags: 0x77,
            phnum: 4, shnum: 9, shstrndx: 8)
        let bytes = header.serialised()
        #expect(bytes.count == elfClass.headerSize)
        #expect(try ELFHeader.parse(bytes) == header)
    }

    /// Header fields with their offsets and widths per class.
    static func headerFields(_ elfClass: ELFClass) -> [(String, Int, Int, (ELFHeader) -> UInt64)] {
        let wide = elfClass == .elf64
        let word = elfClass.wordSize
        return [
            ("EI_OSABI", 7, 1, { UInt64($0.osabi) }),
            ("EI_ABIVERSION", 8, 1, { UInt64($0.abiVersion) }),
            ("e_type", 16, 2, { UInt64($0.type) }),
            ("e_machine", 18, 2, { UInt64($0.machine) }),
            ("e_version", 20, 4, { UInt64($0.version) }),
            ("e_entry", 24, word, { $0.entry }),
            ("e_phoff", wide ? 32 : 28, word, { $0.phoff }),
            ("e_shoff", wide ? 40 : 32, word, { $0.shoff }),
            ("e_flags", wide ? 48 : 36, 4, { UInt64($0.flags) }),
            ("e_ehsize", wide ? 52 : 40, 2, { UInt64($0.ehsize) }),
            ("e_phentsize", wide ? 54 : 42, 2, { UInt64($0.phentsize) }),
            ("e_phnum", wide ? 56 : 44, 2, { UInt64($0.phnum) }),
            ("e_shentsize", wide ? 58 : 46, 2, { UInt64($0.shentsize) }),
            ("e_shnum", wide ? 60 : 48, 2, { UInt64($0.shnum) }),
            ("e_shstrndx", wide ? 62 : 50, 2, { UInt64($0.shstrndx) }),
        ]
    }

    /// A value of `width` bytes with no zero byte, differing from any golden value.
    static func marker(width: Int) -> UInt64 {
        [1: 0x5A, 2: 0xA55A, 4: 0xC3A5_5A3C, 8: 0x0F1E_2D3C_4B5A_6978][width] ?? 0
    }

    /// Patches each field in turn and checks that exactly that field changed, to the patched value.
    static func checkFieldOffsets<T>(
        base: [UInt8], order: ByteOrder, fields: [(String, Int, Int, (T) -> UInt64)],
        parse: ([UInt8]) throws -> T
    ) throws {
        let original = try parse(base)
        for (name, offset, width, get) in fields {
            var bytes = base
            let value = marker(width: width)
            Support.patch(&bytes, at: offset, width: width, value: value, order: order)
            let patched = try parse(bytes)
            #expect(get(patched) == value, "\(name) is not at offset \(offset)")
            for (other, _, _, otherGet) in fields where other != name {
                #expect(otherGet(patched) == otherGet(original), "patching \(name) changed \(other)")
            }
        }
    }

    @Test(arguments: [ELFClass.elf32, .elf64], [ByteOrder.little, .big])
    func headerFieldOffsets(elfClass: ELFClass, order: ByteOrder) throws {
        let base = ELFHeader(elfClass: elfClass, byteOrder: order, type: 1, machine: 2).serialised()
        try Self.checkFieldOffsets(base: base, order: order, fields: Self.headerFields(elfClass)) {
            try ELFHeader.parse($0)
        }
    }

    // MARK: Program headers

    static let elf32ProgramHeaderLittle = Support.bytes(
        "01000000 20000100 0000d23e 0400d20e 50010000 50180000 05000000 00000100")
    static let elf32ProgramHeader = ELFProgramHeader(
        type: ELFProgramHeader.PT_LOAD, flags: ELFProgramHeader.PF_R | ELFProgramHeader.PF_X, offset: 0x1_0020,
        vaddr: 0x3ED2_0000, paddr: 0x0ED2_0004, filesz: 0x150, memsz: 0x1850, align: 0x1_0000)

    static let elf64ProgramHeaderLittle = Support.bytes(
        """
        01000000 06000000 4023010000000000 00503412c0ffffff 0010008000000000
        a00a000000000000 b80b000000000000 0000200000000000
        """)
    static let elf64ProgramHeader = ELFProgramHeader(
        type: ELFProgramHeader.PT_LOAD, flags: ELFProgramHeader.PF_R | ELFProgramHeader.PF_W, offset: 0x1_2340,
        vaddr: 0xFFFF_FFC0_1234_5000, paddr: 0x8000_1000, filesz: 0xAA0, memsz: 0xBB8, align: 0x20_0000)

    static func programHeaderGolden(_ elfClass: ELFClass, _ order: ByteOrder) -> [UInt8] {
        switch (elfClass, order) {
        case (.elf32, .little): elf32ProgramHeaderLittle
        case (.elf32, .big): Support.swappingFields(elf32ProgramHeaderLittle, widths: Support.repeated(4, 8))
        case (.elf64, .little): elf64ProgramHeaderLittle
        case (.elf64, .big): Support.swappingFields(elf64ProgramHeaderLittle, widths: [4, 4] + Support.repeated(8, 6))
        }
    }

    @Test(arguments: [ELFClass.elf32, .elf64], [ByteOrder.little, .big])
    func programHeaderGolden(elfClass: ELFClass, order: ByteOrder) throws {
        let golden = Self.programHeaderGolden(elfClass, order)
        let expected = elfClass == .elf32 ? Self.elf32ProgramHeader : Self.elf64ProgramHeader
        #expect(golden.count == elfClass.programHeaderSize)
        #expect(try ELFProgramHeader.parse(golden, class: elfClass, order: order) == expected)
        #expect(expected.serialised(class: elfClass, order: order) == golden)
    }

    static var elf32ProgramHeaderFields: [(String, Int, Int, (ELFProgramHeader) -> UInt64)] {
        [
            ("p_type", 0, 4, { UInt64($0.type) }), ("p_offset", 4, 4, { $0.offset }),
            ("p_vaddr", 8, 4, { $0.vaddr }), ("p_paddr", 12, 4, { $0.paddr }),
            ("p_filesz", 16, 4, { $0.filesz }), ("p_memsz", 20, 4, { $0.memsz }),
            ("p_flags", 24, 4, { UInt64($0.flags) }), ("p_align", 28, 4, { $0.align }),
        ]
    }

    static var elf64ProgramHeaderFields: [(String, Int, Int, (ELFProgramHeader) -> UInt64)] {
        [
            ("p_type", 0, 4, { UInt64($0.type) }), ("p_flags", 4, 4, { UInt64($0.flags) }),
            ("p_offset", 8, 8, { $0.offset }), ("p_vaddr", 16, 8, { $0.vaddr }),
            ("p_paddr", 24, 8, { $0.paddr }), ("p_filesz", 32, 8, { $0.filesz }),
            ("p_memsz", 40, 8, { $0.memsz }), ("p_align", 48, 8, { $0.align }),
        ]
    }

    @Test(arguments: [ELFClass.elf32, .elf64], [ByteOrder.little, .big])
    func programHeaderFieldOffsets(elfClass: ELFClass, order: ByteOrder) throws {
        let fields = elfClass == .elf32 ? Self.elf32ProgramHeaderFields : Self.elf64ProgramHeaderFields
        try Self.checkFieldOffsets(base: Self.programHeaderGolden(elfClass, order), order: order, fields: fields) {
            try ELFProgramHeader.parse($0, class: elfClass, order: order)
        }
    }

    // MARK: Section headers

    static let elf32SectionHeaderLittle = Support.bytes(
        "1b000000 01000000 03000000 0000d23e 00000400 00010000 07000000 09000000 40000000 10000000")
    static let elf32SectionHeader = ELFSectionHeader(
        nameOffset: 0x1B, type: ELFSectionHeader.SHT_PROGBITS, flags: 3, addr: 0x3ED2_0000, offset: 0x4_0000,
        size: 0x100, link: 7, info: 9, addralign: 0x40, entsize: 0x10)

    static let elf64SectionHeaderLittle = Support.bytes(
        """
        2a000000 08000000 0300000000000000 003012000080ffff 0050000000000000 0018000000000000
        02000000 11000000 0010000000000000 1800000000000000
        """)
    static let elf64SectionHeader = ELFSectionHeader(
        nameOffset: 0x2A, type: ELFSectionHeader.SHT_NOBITS, flags: 3, addr: 0xFFFF_8000_0012_3000, offset: 0x5000,
        size: 0x1800, link: 2, info: 0x11, addralign: 0x1000, entsize: 0x18)

    static func sectionHeaderGolden(_ elfClass: ELFClass, _ order: ByteOrder) -> [UInt8] {
        switch (elfClass, order) {
        case (.elf32, .little): elf32SectionHeaderLittle
        case (.elf32, .big): Support.swappingFields(elf32SectionHeaderLittle, widths: Support.repeated(4, 10))
        case (.elf64, .little): elf64SectionHeaderLittle
        case (.elf64, .big):
            Support.swappingFields(elf64SectionHeaderLittle, widths: [4, 4, 8, 8, 8, 8, 4, 4, 8, 8])
        }
    }

    @Test(arguments: [ELFClass.elf32, .elf64], [ByteOrder.little, .big])
    func sectionHeaderGolden(elfClass: ELFClass, order: ByteOrder) throws {
        let golden = Self.sectionHeaderGolden(elfClass, order)
        let expected = elfClass == .elf32 ? Self.elf32SectionHeader : Self.elf64SectionHeader
        #expect(golden.count == elfClass.sectionHeaderSize)
        #expect(try ELFSectionHeader.parse(golden, class: elfClass, order: order) == expected)
        #expect(expected.serialised(class: elfClass, order: order) == golden)
    }

    @Test(arguments: [ELFClass.elf32, .elf64], [ByteOrder.little, .big])
    func sectionHeaderFieldOffsets(elfClass: ELFClass, order: ByteOrder) throws {
        let w = elfClass.wordSize
        let wide = elfClass == .elf64
        let fields: [(String, Int, Int, (ELFSectionHeader) -> UInt64)] = [
            ("sh_name", 0, 4, { UInt64($0.nameOffset) }), ("sh_type", 4, 4, { UInt64($0.type) }),
            ("sh_flags", 8, w, { $0.flags }), ("sh_addr", wide ? 16 : 12, w, { $0.addr }),
            ("sh_offset", wide ? 24 : 16, w, { $0.offset }), ("sh_size", wide ? 32 : 20, w, { $0.size }),
            ("sh_link", wide ? 40 : 24, 4, { UInt64($0.link) }), ("sh_info", wide ? 44 : 28, 4, { UInt64($0.info) }),
            ("sh_addralign", wide ? 48 : 32, w, { $0.addralign }), ("sh_entsize", wide ? 56 : 36, w, { $0.entsize }),
        ]
        try Self.checkFieldOffsets(base: Self.sectionHeaderGolden(elfClass, order), order: order, fields: fields) {
            try ELFSectionHeader.parse($0, class: elfClass, order: order)
        }
    }

    @Test func headersAtAnOffsetInALargerBuffer() throws {
        let buffer = [UInt8](repeating: 0xEE, count: 7) + Self.elf64ProgramHeaderLittle + [0xEE]
        let parsed = try ELFProgramHeader.parse(buffer, at: 7, class: .elf64, order: .little, index: 4)
        #expect(parsed == Self.elf64ProgramHeader)
        #expect(throws: WireError.self) { try ELFProgramHeader.parse(buffer, at: 9, class: .elf64, order: .little) }
    }
}

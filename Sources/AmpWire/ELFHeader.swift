// The ELF file header (Elf32_Ehdr / Elf64_Ehdr), read and written at explicit offsets.
//
//   field        ELF32 offset/size   ELF64 offset/size
//   e_ident      0  / 16             0  / 16   (see ELFClass.swift)
//   e_type       16 / 2              16 / 2
//   e_machine    18 / 2              18 / 2
//   e_version    20 / 4              20 / 4
//   e_entry      24 / 4              24 / 8
//   e_phoff      28 / 4              32 / 8
//   e_shoff      32 / 4              40 / 8
//   e_flags      36 / 4              48 / 4
//   e_ehsize     40 / 2              52 / 2
//   e_phentsize  42 / 2              54 / 2
//   e_phnum      44 / 2              56 / 2
//   e_shentsize  46 / 2              58 / 2
//   e_shnum      48 / 2              60 / 2
//   e_shstrndx   50 / 2              62 / 2
//   total        52                  64
//
// Multi-byte fields use the byte order named in e_ident[EI_DATA]. ELF32 words are widened to UInt64 here.

/// The ELF file header.
public struct ELFHeader: Sendable, Hashable {
    /// `e_ident[EI_CLASS]`.
    public var elfClass: ELFClass
    /// `e_ident[EI_DATA]`: the byte order of every multi-byte field in the file.
    public var byteOrder: ByteOrder
    /// `e_ident[EI_OSABI]`.
    public var osabi: UInt8
    /// `e_ident[EI_ABIVERSION]`.
    public var abiVersion: UInt8
    /// `e_type`: ET_EXEC, ET_CORE, ...
    public var type: UInt16
    /// `e_machine`: EM_ARM, EM_RISCV, ...
    public var machine: UInt16
    /// `e_version`, normally EV_CURRENT (1).
    public var version: UInt32
    /// `e_entry`: the entry point (boot address).
    public var entry: UInt64
    /// `e_phoff`: file offset of the program-header table.
    public var phoff: UInt64
    /// `e_shoff`: file offset of the section-header table.
    public var shoff: UInt64
    /// `e_flags`: processor-specific flags.
    public var flags: UInt32
    /// `e_ehsize`: the size of this header as recorded in the file.
    public var ehsize: UInt16
    /// `e_phentsize`: size of one program header.
    public var phentsize: UInt16
    /// `e_phnum`: number of program headers.
    public var phnum: UInt16
    /// `e_shentsize`: size of one section header.
    public var shentsize: UInt16
    /// `e_shnum`: number of section headers.
    public var shnum: UInt16
    /// `e_shstrndx`: index of the section holding section names; SHN_UNDEF (0) means none.
    public var shstrndx: UInt16

    public init(
        elfClass: ELFClass, byteOrder: ByteOrder, osabi: UInt8 = 0, abiVersion: UInt8 = 0,
        type: UInt16, machine: UInt16, version: UInt32 = ELFHeader.EV_CURRENT, entry: UInt64 = 0,
        phoff: UInt64 = 0, shoff: UInt64 = 0, flags: UInt32 = 0, ehsize: UInt16? = nil,
        phentsize: UInt16? = nil, phnum: UInt16 = 0, shentsize: UInt16? = nil, shnum: UInt16 = 0,
        shstrndx: UInt16 = 0
    ) {
        self.elfClass = elfClass
        self.byteOrder = byteOrder
        self.osabi = osabi
        self.abiVersion = abiVersion
        self.type = type
        self.machine = machine
        self.version = version
        self.entry = entry
        self.phoff = phoff
        self.shoff = shoff
        self.flags = flags
        self.ehsize = ehsize ?? UInt16(elfClass.headerSize)
        self.phentsize = phentsize ?? UInt16(elfClass.programHeaderSize)
        self.phnum = phnum
        self.shentsize = shentsize ?? UInt16(elfClass.sectionHeaderSize)
        self.shnum = shnum
        self.shstrndx = shstrndx
    }

    // MARK: Constants

    public static let ET_NONE: UInt16 = 0
    public static let ET_REL: UInt16 = 1
    public static let ET_EXEC: UInt16 = 2
    public static let ET_DYN: UInt16 = 3
    public static let ET_CORE: UInt16 = 4

    public static let EM_NONE: UInt16 = 0
    public static let EM_386: UInt16 = 3
    public static let EM_MIPS: UInt16 = 8
    public static let EM_PPC: UInt16 = 20
    public static let EM_PPC64: UInt16 = 21
    public static let EM_ARM: UInt16 = 40
    public static let EM_X86_64: UInt16 = 62
    public static let EM_XTENSA: UInt16 = 94
    public static let EM_TI_C6000: UInt16 = 140
    public static let EM_TI_PRU: UInt16 = 144
    public static let EM_AARCH64: UInt16 = 183
    public static let EM_MICROBLAZE: UInt16 = 189
    public static let EM_RISCV: UInt16 = 243

    /// The constant name of a machine number this file defines ("EM_ARM", "EM_RISCV", ...), or nil.
    public static func machineName(_ machine: UInt16) -> String? {
        switch machine {
        case EM_NONE: "EM_NONE"
        case EM_386: "EM_386"
        case EM_MIPS: "EM_MIPS"
        case EM_PPC: "EM_PPC"
        case EM_PPC64: "EM_PPC64"
        case EM_ARM: "EM_ARM"
        case EM_X86_64: "EM_X86_64"
        case EM_XTENSA: "EM_XTENSA"
        case EM_TI_C6000: "EM_TI_C6000"
        case EM_TI_PRU: "EM_TI_PRU"
        case EM_AARCH64: "EM_AARCH64"
        case EM_MICROBLAZE: "EM_MICROBLAZE"
        case EM_RISCV: "EM_RISCV"
        default: nil
        }
    }

    public static let EV_CURRENT: UInt32 = 1
    public static let ELFOSABI_NONE: UInt8 = 0

    // MARK: Field offsets

    /// Field offsets of the class-dependent part of the header.
    struct Layout {
        let entry: Int, phoff: Int, shoff: Int, flags: Int
        let ehsize: Int, phentsize: Int, phnum: Int, shentsize: Int, shnum: Int, shstrndx: Int

        static let elf32 = Layout(
            entry: 24, phoff: 28, shoff: 32, flags: 36,
            ehsize: 40, phentsize: 42, phnum: 44, shentsize: 46, shnum: 48, shstrndx: 50)
        static let elf64 = Layout(
            entry: 24, phoff: 32, shoff: 40, flags: 48,
            ehsize: 52, phentsize: 54, phnum: 56, shentsize: 58, shnum: 60, shstrndx: 62)

        static func of(_ elfClass: ELFClass) -> Layout { elfClass == .elf32 ? elf32 : elf64 }
    }

    static let typeOffset = 16
    static let machineOffset = 18
    static let versionOffset = 20

    // MARK: Parsing

    /// Parses the file header at the start of `bytes`.
    ///
    /// Checks the identification (length, magic, class, data encoding) and that the whole header is
    /// present; the tables it points to are checked by `ELFFile.parse`.
    public static func parse(_ bytes: [UInt8]) throws(WireError) -> ELFHeader {
        guard bytes.count >= ELFIdent.size else {
            throw WireError(
                field: "e_ident", offset: 0,
                reason: "input is \(bytes.count) bytes, shorter than the \(ELFIdent.size)-byte ELF identification")
        }
        guard bytes[0] == 0x7F, bytes[1] == 0x45, bytes[2] == 0x4C, bytes[3] == 0x46 else {
            throw WireError(
                field: "e_ident.EI_MAG", offset: 0,
                reason: "bad magic \(Array(bytes[0..<4]).hexString), expected 7f454c46")
        }
        guard let elfClass = ELFClass(identValue: bytes[ELFIdent.classOffset]) else {
            throw WireError(
                field: "e_ident.EI_CLASS", offset: ELFIdent.classOffset,
                reason: "class \(bytes[ELFIdent.classOffset]) is neither 1 (ELF32) nor 2 (ELF64)")
        }
        guard let order = ELFIdent.byteOrder(forDataValue: bytes[ELFIdent.dataOffset]) else {
            throw WireError(
                field: "e_ident.EI_DATA", offset: ELFIdent.dataOffset,
                reason: "data encoding \(bytes[ELFIdent.dataOffset]) is neither 1 (little endian) nor 2 (big endian)")
        }
        guard bytes.count >= elfClass.headerSize else {
            throw WireError(
                field: "elf_header", offset: 0,
                reason: "input is \(bytes.count) bytes, shorter than the \(elfClass.headerSize)-byte \(elfClass) header")
        }
        let reader = ByteReader(bytes, order: order)
        let layout = Layout.of(elfClass)
        return ELFHeader(
            elfClass: elfClass,
            byteOrder: order,
            osabi: bytes[ELFIdent.osabiOffset],
            abiVersion: bytes[ELFIdent.abiVersionOffset],
            type: try reader.u16(at: typeOffset, field: "e_type"),
            machine: try reader.u16(at: machineOffset, field: "e_machine"),
            version: try reader.u32(at: versionOffset, field: "e_version"),
            entry: try reader.word(at: layout.entry, class: elfClass, field: "e_entry"),
            phoff: try reader.word(at: layout.phoff, class: elfClass, field: "e_phoff"),
            shoff: try reader.word(at: layout.shoff, class: elfClass, field: "e_shoff"),
            flags: try reader.u32(at: layout.flags, field: "e_flags"),
            ehsize: try reader.u16(at: layout.ehsize, field: "e_ehsize"),
            phentsize: try reader.u16(at: layout.phentsize, field: "e_phentsize"),
            phnum: try reader.u16(at: layout.phnum, field: "e_phnum"),
            shentsize: try reader.u16(at: layout.shentsize, field: "e_shentsize"),
            shnum: try reader.u16(at: layout.shnum, field: "e_shnum"),
            shstrndx: try reader.u16(at: layout.shstrndx, field: "e_shstrndx"))
    }

    // MARK: Serialising

    /// The header as `elfClass.headerSize` bytes. ELF32 words are truncated to 32 bits;
    /// `e_ident[EI_VERSION]` is written as 1 and the identification padding as zeros.
    public func serialised() -> [UInt8] {
        var writer = ByteWriter(count: elfClass.headerSize, order: byteOrder)
        writer.put(bytes: ELFIdent.magic, at: 0)
        writer.put(elfClass.identValue, at: ELFIdent.classOffset)
        writer.put(ELFIdent.dataValue(for: byteOrder), at: ELFIdent.dataOffset)
        writer.put(UInt8(1), at: ELFIdent.versionOffset)
        writer.put(osabi, at: ELFIdent.osabiOffset)
        writer.put(abiVersion, at: ELFIdent.abiVersionOffset)
        let layout = Layout.of(elfClass)
        writer.put(type, at: Self.typeOffset)
        writer.put(machine, at: Self.machineOffset)
        writer.put(version, at: Self.versionOffset)
        writer.putWord(entry, at: layout.entry, class: elfClass)
        writer.putWord(phoff, at: layout.phoff, class: elfClass)
        writer.putWord(shoff, at: layout.shoff, class: elfClass)
        writer.put(flags, at: layout.flags)
        writer.put(ehsize, at: layout.ehsize)
        writer.put(phentsize, at: layout.phentsize)
        writer.put(phnum, at: layout.phnum)
        writer.put(shentsize, at: layout.shentsize)
        writer.put(shnum, at: layout.shnum)
        writer.put(shstrndx, at: layout.shstrndx)
        return writer.bytes
    }
}

extension ByteReader {
    /// An ELF address or offset: 4 bytes for ELF32, 8 bytes for ELF64, widened to UInt64.
    func word(at offset: Int, class elfClass: ELFClass, field: String) throws(WireError) -> UInt64 {
        elfClass == .elf32 ? UInt64(try u32(at: offset, field: field)) : try u64(at: offset, field: field)
    }
}

extension ByteWriter {
    /// Writes an ELF address or offset: 4 bytes (truncated) for ELF32, 8 bytes for ELF64.
    mutating func putWord(_ value: UInt64, at offset: Int, class elfClass: ELFClass) {
        if elfClass == .elf32 {
            put(UInt32(truncatingIfNeeded: value), at: offset)
        } else {
            put(value, at: offset)
        }
    }
}

// ELF section headers (Elf32_Shdr / Elf64_Shdr): named regions of the file, such as `.resource_table`.
//
//   field         ELF32 offset/size   ELF64 offset/size
//   sh_name       0  / 4              0  / 4    offset of the name in the e_shstrndx string table
//   sh_type       4  / 4              4  / 4
//   sh_flags      8  / 4              8  / 8
//   sh_addr       12 / 4              16 / 8
//   sh_offset     16 / 4              24 / 8
//   sh_size       20 / 4              32 / 8
//   sh_link       24 / 4              40 / 4
//   sh_info       28 / 4              44 / 4
//   sh_addralign  32 / 4              48 / 8
//   sh_entsize    36 / 4              56 / 8
//   total         40                  64
//
// An SHT_NOBITS section (.bss) occupies no file bytes: its sh_offset and sh_size say nothing about the file.

/// One section header, with its name resolved from the section-name string table.
public struct ELFSectionHeader: Sendable, Hashable {
    /// `sh_name`: offset of the name in the section-name string table.
    public var nameOffset: UInt32
    /// The name read from the string table; empty when the file has no string table (e_shstrndx 0).
    public var name: String
    /// `sh_type`: SHT_PROGBITS, SHT_NOBITS, ...
    public var type: UInt32
    /// `sh_flags`: SHF_WRITE | SHF_ALLOC | SHF_EXECINSTR ...
    public var flags: UInt64
    /// `sh_addr`: address of the section in memory.
    public var addr: UInt64
    /// `sh_offset`: file offset of the section's bytes.
    public var offset: UInt64
    /// `sh_size`: size in bytes.
    public var size: UInt64
    /// `sh_link`.
    public var link: UInt32
    /// `sh_info`.
    public var info: UInt32
    /// `sh_addralign`.
    public var addralign: UInt64
    /// `sh_entsize`.
    public var entsize: UInt64

    public init(
        nameOffset: UInt32, name: String = "", type: UInt32, flags: UInt64 = 0, addr: UInt64 = 0,
        offset: UInt64 = 0, size: UInt64 = 0, link: UInt32 = 0, info: UInt32 = 0, addralign: UInt64 = 0,
        entsize: UInt64 = 0
    ) {
        self.nameOffset = nameOffset
        self.name = name
        self.type = type
        self.flags = flags
        self.addr = addr
        self.offset = offset
        self.size = size
        self.link = link
        self.info = info
        self.addralign = addralign
        self.entsize = entsize
    }

    /// Whether the section has bytes in the file (anything but SHT_NOBITS).
    public var occupiesFile: Bool { type != Self.SHT_NOBITS }

    // MARK: Constants

    public static let SHT_NULL: UInt32 = 0
    public static let SHT_PROGBITS: UInt32 = 1
    public static let SHT_SYMTAB: UInt32 = 2
    public static let SHT_STRTAB: UInt32 = 3
    public static let SHT_RELA: UInt32 = 4
    public static let SHT_NOTE: UInt32 = 7
    public static let SHT_NOBITS: UInt32 = 8
    public static let SHT_REL: UInt32 = 9

    public static let SHF_WRITE: UInt64 = 0x1
    public static let SHF_ALLOC: UInt64 = 0x2
    public static let SHF_EXECINSTR: UInt64 = 0x4

    /// `SHN_UNDEF`: as e_shstrndx, "no section-name string table".
    public static let SHN_UNDEF: UInt16 = 0
    /// `SHN_XINDEX`: extended section numbering, which this parser does not follow (it is rejected as an
    /// out-of-range e_shstrndx).
    public static let SHN_XINDEX: UInt16 = 0xFFFF

    // MARK: Field offsets

    struct Layout {
        let name: Int, type: Int, flags: Int, addr: Int, offset: Int, size: Int
        let link: Int, info: Int, addralign: Int, entsize: Int

        static let elf32 = Layout(
            name: 0, type: 4, flags: 8, addr: 12, offset: 16, size: 20, link: 24, info: 28, addralign: 32, entsize: 36)
        static let elf64 = Layout(
            name: 0, type: 4, flags: 8, addr: 16, offset: 24, size: 32, link: 40, info: 44, addralign: 48, entsize: 56)

        static func of(_ elfClass: ELFClass) -> Layout { elfClass == .elf32 ? elf32 : elf64 }
    }

    // MARK: Parsing and serialising

    /// Parses the section header at `offset` in `bytes`. The name is left empty (it lives in another
    /// section); `ELFFile.parse` resolves it. `index` only names the header in errors (`section[<index>]`).
    public static func parse(
        _ bytes: [UInt8], at offset: Int = 0, class elfClass: ELFClass, order: ByteOrder, index: Int = 0
    ) throws(WireError) -> ELFSectionHeader {
        try parse(ByteReader(bytes, order: order), at: offset, class: elfClass, index: index)
    }

    static func parse(
        _ reader: ByteReader, at offset: Int, class elfClass: ELFClass, index: Int
    ) throws(WireError) -> ELFSectionHeader {
        let layout = Layout.of(elfClass)
        let name = "section[\(index)]"
        try reader.require(offset: offset, count: elfClass.sectionHeaderSize, field: name)
        return ELFSectionHeader(
            nameOffset: try reader.u32(at: offset + layout.name, field: name + ".sh_name"),
            type: try reader.u32(at: offset + layout.type, field: name + ".sh_type"),
            flags: try reader.word(at: offset + layout.flags, class: elfClass, field: name + ".sh_flags"),
            addr: try reader.word(at: offset + layout.addr, class: elfClass, field: name + ".sh_addr"),
            offset: try reader.word(at: offset + layout.offset, class: elfClass, field: name + ".sh_offset"),
            size: try reader.word(at: offset + layout.size, class: elfClass, field: name + ".sh_size"),
            link: try reader.u32(at: offset + layout.link, field: name + ".sh_link"),
            info: try reader.u32(at: offset + layout.info, field: name + ".sh_info"),
            addralign: try reader.word(at: offset + layout.addralign, class: elfClass, field: name + ".sh_addralign"),
            entsize: try reader.word(at: offset + layout.entsize, class: elfClass, field: name + ".sh_entsize"))
    }

    /// The header as 40 (ELF32) or 64 (ELF64) bytes; ELF32 words are truncated to 32 bits. The name
    /// itself is not written (only `nameOffset`).
    public func serialised(class elfClass: ELFClass, order: ByteOrder) -> [UInt8] {
        var writer = ByteWriter(count: elfClass.sectionHeaderSize, order: order)
        write(into: &writer, at: 0, class: elfClass)
        return writer.bytes
    }

    func write(into writer: inout ByteWriter, at offset: Int, class elfClass: ELFClass) {
        let layout = Layout.of(elfClass)
        writer.put(nameOffset, at: offset + layout.name)
        writer.put(type, at: offset + layout.type)
        writer.putWord(flags, at: offset + layout.flags, class: elfClass)
        writer.putWord(addr, at: offset + layout.addr, class: elfClass)
        writer.putWord(self.offset, at: offset + layout.offset, class: elfClass)
        writer.putWord(size, at: offset + layout.size, class: elfClass)
        writer.put(link, at: offset + layout.link)
        writer.put(info, at: offset + layout.info)
        writer.putWord(addralign, at: offset + layout.addralign, class: elfClass)
        writer.putWord(entsize, at: offset + layout.entsize, class: elfClass)
    }
}

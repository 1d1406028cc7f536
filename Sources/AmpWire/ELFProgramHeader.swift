// ELF program headers (Elf32_Phdr / Elf64_Phdr): the segments a loader copies into memory.
//
//   field     ELF32 offset/size   ELF64 offset/size
//   p_type    0  / 4              0  / 4
//   p_flags   24 / 4              4  / 4    <- ELF64 moves p_flags up for alignment
//   p_offset  4  / 4              8  / 8
//   p_vaddr   8  / 4              16 / 8
//   p_paddr   12 / 4              24 / 8
//   p_filesz  16 / 4              32 / 8
//   p_memsz   20 / 4              40 / 8
//   p_align   28 / 4              48 / 8
//   total     32                  56
//
// remoteproc loads PT_LOAD segments at p_paddr (the device address): p_filesz bytes from p_offset,
// then zero-fill up to p_memsz.

/// One program header. Fields that are 32-bit in ELF32 are widened to UInt64.
public struct ELFProgramHeader: Sendable, Hashable {
    /// `p_type`: PT_LOAD, PT_NOTE, ...
    public var type: UInt32
    /// `p_flags`: PF_R | PF_W | PF_X.
    public var flags: UInt32
    /// `p_offset`: file offset of the segment's bytes.
    public var offset: UInt64
    /// `p_vaddr`: virtual address.
    public var vaddr: UInt64
    /// `p_paddr`: physical (device) address; remoteproc loads here.
    public var paddr: UInt64
    /// `p_filesz`: number of bytes in the file.
    public var filesz: UInt64
    /// `p_memsz`: number of bytes in memory (>= filesz for PT_LOAD; the rest is zero-filled).
    public var memsz: UInt64
    /// `p_align`.
    public var align: UInt64

    public init(
        type: UInt32, flags: UInt32, offset: UInt64, vaddr: UInt64, paddr: UInt64,
        filesz: UInt64, memsz: UInt64, align: UInt64
    ) {
        self.type = type
        self.flags = flags
        self.offset = offset
        self.vaddr = vaddr
        self.paddr = paddr
        self.filesz = filesz
        self.memsz = memsz
        self.align = align
    }

    // MARK: Constants

    public static let PT_NULL: UInt32 = 0
    public static let PT_LOAD: UInt32 = 1
    public static let PT_DYNAMIC: UInt32 = 2
    public static let PT_INTERP: UInt32 = 3
    public static let PT_NOTE: UInt32 = 4
    public static let PT_SHLIB: UInt32 = 5
    public static let PT_PHDR: UInt32 = 6
    public static let PT_TLS: UInt32 = 7

    public static let PF_X: UInt32 = 1
    public static let PF_W: UInt32 = 2
    public static let PF_R: UInt32 = 4

    // MARK: Field offsets

    struct Layout {
        let type: Int, flags: Int, offset: Int, vaddr: Int, paddr: Int, filesz: Int, memsz: Int, align: Int

        static let elf32 = Layout(type: 0, flags: 24, offset: 4, vaddr: 8, paddr: 12, filesz: 16, memsz: 20, align: 28)
        static let elf64 = Layout(type: 0, flags: 4, offset: 8, vaddr: 16, paddr: 24, filesz: 32, memsz: 40, align: 48)

        static func of(_ elfClass: ELFClass) -> Layout { elfClass == .elf32 ? elf32 : elf64 }
    }

    // MARK: Parsing and serialising

    /// Parses the program header at `offset` in `bytes`. `index` only names the header in errors
    /// (`program_header[<index>].p_type`).
    public static func parse(
        _ bytes: [UInt8], at offset: Int = 0, class elfClass: ELFClass, order: ByteOrder, index: Int = 0
    ) throws(WireError) -> ELFProgramHeader {
        try parse(ByteReader(bytes, order: order), at: offset, class: elfClass, index: index)
    }

    static func parse(
        _ reader: ByteReader, at offset: Int, class elfClass: ELFClass, index: Int
    ) throws(WireError) -> ELFProgramHeader {
        let layout = Layout.of(elfClass)
        let name = "program_header[\(index)]"
        try reader.require(offset: offset, count: elfClass.programHeaderSize, field: name)
        return ELFProgramHeader(
            type: try reader.u32(at: offset + layout.type, field: name + ".p_type"),
            flags: try reader.u32(at: offset + layout.flags, field: name + ".p_flags"),
            offset: try reader.word(at: offset + layout.offset, class: elfClass, field: name + ".p_offset"),
            vaddr: try reader.word(at: offset + layout.vaddr, class: elfClass, field: name + ".p_vaddr"),
            paddr: try reader.word(at: offset + layout.paddr, class: elfClass, field: name + ".p_paddr"),
            filesz: try reader.word(at: offset + layout.filesz, class: elfClass, field: name + ".p_filesz"),
            memsz: try reader.word(at: offset + layout.memsz, class: elfClass, field: name + ".p_memsz"),
            align: try reader.word(at: offset + layout.align, class: elfClass, field: name + ".p_align"))
    }

    /// The header as 32 (ELF32) or 56 (ELF64) bytes; ELF32 words are truncated to 32 bits.
    public func serialised(class elfClass: ELFClass, order: ByteOrder) -> [UInt8] {
        var writer = ByteWriter(count: elfClass.programHeaderSize, order: order)
        write(into: &writer, at: 0, class: elfClass)
        return writer.bytes
    }

    func write(into writer: inout ByteWriter, at offset: Int, class elfClass: ELFClass) {
        let layout = Layout.of(elfClass)
        writer.put(type, at: offset + layout.type)
        writer.put(flags, at: offset + layout.flags)
        writer.putWord(self.offset, at: offset + layout.offset, class: elfClass)
        writer.putWord(vaddr, at: offset + layout.vaddr, class: elfClass)
        writer.putWord(paddr, at: offset + layout.paddr, class: elfClass)
        writer.putWord(filesz, at: offset + layout.filesz, class: elfClass)
        writer.putWord(memsz, at: offset + layout.memsz, class: elfClass)
        writer.putWord(align, at: offset + layout.align, class: elfClass)
    }
}

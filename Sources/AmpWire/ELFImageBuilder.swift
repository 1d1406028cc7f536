// Assembles a complete ELF image (either class, either byte order) from segments and sections.
//
// File layout produced by `build()`:
//
//   file header (52 / 64 bytes)
//   program-header table (if there are segments), aligned to the word size
//   segment data, in order; each placed so that p_offset % p_align == p_vaddr % p_align
//   section data that is not inside a segment, in order, each aligned to its sh_addralign
//   .shstrtab (generated: "\0" then each name, NUL-terminated)
//   section-header table (if there are sections), aligned to the word size:
//     [0] the null section, [1...n] the given sections, [n+1] .shstrtab (e_shstrndx)
//
// With no sections there is no section-header table at all (e_shoff = e_shnum = e_shstrndx = 0), which is
// what an ELF core dump (ET_CORE, PT_LOAD segments only) looks like. Used by tests to build synthetic
// images and by the coredump writer.

/// Builds ELF images. Configure the properties, then call `build()`.
public struct ELFImageBuilder: Sendable {
    /// One segment: its program header fields and its file bytes (p_filesz = data.count).
    public struct Segment: Sendable, Hashable {
        public var type: UInt32
        public var flags: UInt32
        public var vaddr: UInt64
        public var paddr: UInt64
        /// `p_memsz`; written as given, even when smaller than `data.count`.
        public var memsz: UInt64
        public var align: UInt64
        public var data: [UInt8]

        /// A segment; `memsz` defaults to `data.count`.
        public init(
            type: UInt32 = ELFProgramHeader.PT_LOAD,
            flags: UInt32 = ELFProgramHeader.PF_R | ELFProgramHeader.PF_W | ELFProgramHeader.PF_X,
            vaddr: UInt64, paddr: UInt64? = nil, memsz: UInt64? = nil, align: UInt64 = 4, data: [UInt8]
        ) {
            self.type = type
            self.flags = flags
            self.vaddr = vaddr
            self.paddr = paddr ?? vaddr
            self.memsz = memsz ?? UInt64(data.count)
            self.align = align
            self.data = data
        }
    }

    /// One section: its header fields and where its bytes come from.
    public struct Section: Sendable, Hashable {
        /// Where a section's bytes are.
        public enum Contents: Sendable, Hashable {
            /// Bytes of its own, placed after the segment data.
            case bytes([UInt8])
            /// No file bytes (SHT_NOBITS); `size` is the sh_size.
            case noBits(size: UInt64)
            /// `size` bytes of segment `segment`'s data starting `offset` bytes into it, like a section
            /// that a linker placed inside a loadable segment (e.g. `.resource_table`).
            case inSegment(segment: Int, offset: UInt64, size: UInt64)
        }

        public var name: String
        public var type: UInt32
        public var flags: UInt64
        public var addr: UInt64
        public var addralign: UInt64
        public var link: UInt32
        public var info: UInt32
        public var entsize: UInt64
        public var contents: Contents

        public init(
            name: String, type: UInt32 = ELFSectionHeader.SHT_PROGBITS, flags: UInt64 = ELFSectionHeader.SHF_ALLOC,
            addr: UInt64 = 0, addralign: UInt64 = 4, link: UInt32 = 0, info: UInt32 = 0, entsize: UInt64 = 0,
            contents: Contents
        ) {
            self.name = name
            self.type = type
            self.flags = flags
            self.addr = addr
            self.addralign = addralign
            self.link = link
            self.info = info
            self.entsize = entsize
            self.contents = contents
        }

        /// A section with bytes of its own.
        public init(
            name: String, type: UInt32 = ELFSectionHeader.SHT_PROGBITS, flags: UInt64 = ELFSectionHeader.SHF_ALLOC,
            addr: UInt64 = 0, addralign: UInt64 = 4, data: [UInt8]
        ) {
            self.init(name: name, type: type, flags: flags, addr: addr, addralign: addralign, contents: .bytes(data))
        }
    }

    public var elfClass: ELFClass
    public var byteOrder: ByteOrder
    public var type: UInt16
    public var machine: UInt16
    public var entry: UInt64
    public var flags: UInt32
    public var osabi: UInt8
    public var segments: [Segment]
    public var sections: [Section]

    public init(
        class elfClass: ELFClass, order: ByteOrder, type: UInt16 = ELFHeader.ET_EXEC, machine: UInt16,
        entry: UInt64 = 0, flags: UInt32 = 0, osabi: UInt8 = 0, segments: [Segment] = [], sections: [Section] = []
    ) {
        self.elfClass = elfClass
        self.byteOrder = order
        self.type = type
        self.machine = machine
        self.entry = entry
        self.flags = flags
        self.osabi = osabi
        self.segments = segments
        self.sections = sections
    }

    /// Name of the generated section-name string table.
    public static let sectionNameTableName = ".shstrtab"

    /// The assembled image. A section `.inSegment` naming a segment that does not exist is a programming
    /// error and traps.
    public func build() -> [UInt8] {
        let word = elfClass.wordSize
        var cursor = elfClass.headerSize

        // Program-header table, then segment data.
        let phoff = segments.isEmpty ? 0 : Self.alignUp(cursor, word)
        if !segments.isEmpty { cursor = phoff + segments.count * elfClass.programHeaderSize }
        var programHeaders = [ELFProgramHeader]()
        for segment in segments {
            let offset = Self.placement(cursor, vaddr: segment.vaddr, align: segment.align)
            programHeaders.append(
                ELFProgramHeader(
                    type: segment.type, flags: segment.flags, offset: UInt64(offset), vaddr: segment.vaddr,
                    paddr: segment.paddr, filesz: UInt64(segment.data.count), memsz: segment.memsz,
                    align: segment.align))
            cursor = offset + segment.data.count
        }

        // Section data, the name table, then the section-header table.
        var sectionHeaders = [ELFSectionHeader]()
        var ownData = [(offset: Int, data: [UInt8])]()
        var names: [UInt8] = [0]
        var shoff = 0
        if !sections.isEmpty {
            sectionHeaders.append(ELFSectionHeader(nameOffset: 0, type: ELFSectionHeader.SHT_NULL))
            for section in sections {
                let nameOffset = UInt32(names.count)
                names += Array(section.name.utf8) + [0]
                var header = ELFSectionHeader(
                    nameOffset: nameOffset, name: section.name, type: section.type, flags: section.flags,
                    addr: section.addr, link: section.link, info: section.info,
                    addralign: section.addralign, entsize: section.entsize)
                switch section.contents {
                case .bytes(let data):
                    let offset = Self.alignUp(cursor, Int(clamping: max(section.addralign, 1)))
                    ownData.append((offset, data))
                    header.offset = UInt64(offset)
                    header.size = UInt64(data.count)
                    cursor = offset + data.count
                case .noBits(let size):
                    header.offset = UInt64(cursor)
                    header.size = size
                case .inSegment(let segment, let offset, let size):
                    precondition(programHeaders.indices.contains(segment), "section \(section.name) names segment \(segment), which does not exist")
                    header.offset = programHeaders[segment].offset &+ offset
                    header.size = size
                }
                sectionHeaders.append(header)
            }
            let nameTableNameOffset = UInt32(names.count)
            names += Array(Self.sectionNameTableName.utf8) + [0]
            sectionHeaders.append(
                ELFSectionHeader(
                    nameOffset: nameTableNameOffset, name: Self.sectionNameTableName,
                    type: ELFSectionHeader.SHT_STRTAB, flags: 0, offset: UInt64(cursor), size: UInt64(names.count),
                    addralign: 1))
            ownData.append((cursor, names))
            cursor += names.count
            shoff = Self.alignUp(cursor, word)
            cursor = shoff + sectionHeaders.count * elfClass.sectionHeaderSize
        }

        let header = ELFHeader(
            elfClass: elfClass, byteOrder: byteOrder, osabi: osabi, type: type, machine: machine, entry: entry,
            phoff: UInt64(phoff), shoff: UInt64(shoff), flags: flags, phnum: UInt16(segments.count),
            shnum: UInt16(sectionHeaders.count),
            shstrndx: sectionHeaders.isEmpty ? 0 : UInt16(sectionHeaders.count - 1))

        var writer = ByteWriter(count: cursor, order: byteOrder)
        writer.put(bytes: header.serialised(), at: 0)
        for (index, programHeader) in programHeaders.enumerated() {
            programHeader.write(into: &writer, at: phoff + index * elfClass.programHeaderSize, class: elfClass)
            writer.put(bytes: segments[index].data, at: Int(programHeader.offset))
        }
        for (offset, data) in ownData { writer.put(bytes: data, at: offset) }
        for (index, sectionHeader) in sectionHeaders.enumerated() {
            sectionHeader.write(into: &writer, at: shoff + index * elfClass.sectionHeaderSize, class: elfClass)
        }
        return writer.bytes
    }

    /// `value` rounded up to a multiple of `alignment`; unchanged when `alignment` is 0, 1 or
    /// unreasonably large (over 16 MiB).
    static func alignUp(_ value: Int, _ alignment: Int) -> Int {
        guard alignment > 1, alignment <= 1 << 24 else { return value }
        let remainder = value % alignment
        return remainder == 0 ? value : value + (alignment - remainder)
    }

    /// The first offset >= `cursor` congruent to `vaddr` modulo `align` (the ELF rule for loadable
    /// segments); `cursor` itself when `align` is 0 or 1 or unreasonably large.
    static func placement(_ cursor: Int, vaddr: UInt64, align: UInt64) -> Int {
        guard align > 1, align <= 1 << 24 else { return cursor }
        let alignment = Int(align)
        let wanted = Int(vaddr % align)
        let have = cursor % alignment
        return cursor + (wanted - have + alignment) % alignment
    }
}

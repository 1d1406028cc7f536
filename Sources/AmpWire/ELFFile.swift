// A whole ELF image: file header, program-header table, section-header table with resolved names, and
// the original bytes. Layout of the three header kinds: ELFHeader.swift, ELFProgramHeader.swift,
// ELFSectionHeader.swift.
//
// Parsing validates every offset and size read from the file before using it, with overflow-checked
// arithmetic, so any input either parses into a value whose tables and data ranges all lie inside the
// file, or throws a WireError naming the field and its file offset. Counts come from 16-bit fields and
// each table is checked to fit inside the file before anything is allocated for it.
//
// Rules checked (beyond the header's own identification checks):
// - e_phentsize / e_shentsize match the class when e_phnum / e_shnum is non-zero;
// - the program-header and section-header tables lie inside the file;
// - e_shstrndx < e_shnum when there are sections (0, SHN_UNDEF, means "no names");
// - every section other than SHT_NOBITS lies inside the file;
// - every section name offset lies inside the section-name string table;
// - every segment's file bytes (p_offset, p_filesz) lie inside the file;
// - every PT_LOAD segment has p_filesz <= p_memsz (other segment types may legitimately have memsz 0).
// e_phnum == 0 is legal here (relocatable objects); see `warnings`.

/// A parsed ELF image (ELF32 or ELF64, either byte order).
public struct ELFFile: Sendable, Equatable {
    /// The file header.
    public let header: ELFHeader
    /// The program headers, in file order (empty when e_phnum is 0).
    public let programHeaders: [ELFProgramHeader]
    /// The section headers, in file order, including the null section 0 (empty when e_shnum is 0).
    public let sections: [ELFSectionHeader]
    /// The whole file as given to `parse`.
    public let bytes: [UInt8]

    /// Parses and validates an ELF image. See the file comment for the rules.
    public static func parse(_ bytes: [UInt8]) throws(WireError) -> ELFFile {
        let header = try ELFHeader.parse(bytes)
        let reader = ByteReader(bytes, order: header.byteOrder)
        let programHeaders = try parseProgramHeaders(header, reader)
        var sections = try parseSections(header, reader)
        try resolveNames(&sections, header, bytes)
        return ELFFile(header: header, programHeaders: programHeaders, sections: sections, bytes: bytes)
    }

    init(header: ELFHeader, programHeaders: [ELFProgramHeader], sections: [ELFSectionHeader], bytes: [UInt8]) {
        self.header = header
        self.programHeaders = programHeaders
        self.sections = sections
        self.bytes = bytes
    }

    // MARK: Accessors

    /// Whether the image has program headers. An image without them has nothing to load (a relocatable
    /// object rather than an executable); it parses, and callers should warn or refuse to load it.
    public var hasProgramHeaders: Bool { !programHeaders.isEmpty }

    /// Legal but suspicious properties of the image, as human-readable sentences.
    public var warnings: [String] {
        hasProgramHeaders ? [] : ["e_phnum is 0: the image has no program headers, so nothing would be loaded"]
    }

    /// The file bytes of program header `index` (`p_filesz` bytes at `p_offset`), or nil for a bad index.
    public func segmentData(at index: Int) -> ArraySlice<UInt8>? {
        guard programHeaders.indices.contains(index) else { return nil }
        let segment = programHeaders[index]
        return fileBytes(offset: segment.offset, size: segment.filesz)
    }

    /// The file bytes of section `index` (`sh_size` bytes at `sh_offset`; empty for SHT_NOBITS), or nil
    /// for a bad index.
    public func sectionData(at index: Int) -> ArraySlice<UInt8>? {
        guard sections.indices.contains(index) else { return nil }
        let section = sections[index]
        guard section.occupiesFile else { return bytes[bytes.endIndex..<bytes.endIndex] }
        return fileBytes(offset: section.offset, size: section.size)
    }

    /// The index of the first section named exactly `name`, or nil.
    public func sectionIndex(named name: String) -> Int? {
        sections.firstIndex { $0.name == name }
    }

    /// `size` bytes at file offset `offset`, or nil when that range is not inside the file.
    public func fileBytes(offset: UInt64, size: UInt64) -> ArraySlice<UInt8>? {
        guard let range = Self.fileRange(offset: offset, size: size, fileSize: bytes.count) else { return nil }
        return bytes[range]
    }

    /// `offset ..< offset + size` as an Int range when it lies inside a file of `fileSize` bytes.
    static func fileRange(offset: UInt64, size: UInt64, fileSize: Int) -> Range<Int>? {
        let (end, overflow) = offset.addingReportingOverflow(size)
        guard !overflow, end <= UInt64(fileSize) else { return nil }
        return Int(offset)..<Int(end)
    }

    // MARK: Parsing steps

    private static func parseProgramHeaders(
        _ header: ELFHeader, _ reader: ByteReader
    ) throws(WireError) -> [ELFProgramHeader] {
        guard header.phnum > 0 else { return [] }
        let elfClass = header.elfClass
        let layout = ELFHeader.Layout.of(elfClass)
        guard Int(header.phentsize) == elfClass.programHeaderSize else {
            throw WireError(
                field: "e_phentsize", offset: layout.phentsize,
                reason: "\(header.phentsize) is not the \(elfClass) program-header size \(elfClass.programHeaderSize)")
        }
        let tableOffset = try tableStart(
            offset: header.phoff, count: Int(header.phnum), entrySize: elfClass.programHeaderSize,
            fileSize: reader.count, field: "e_phoff", fieldOffset: layout.phoff, what: "program-header table")
        let fields = ELFProgramHeader.Layout.of(elfClass)
        var result = [ELFProgramHeader]()
        result.reserveCapacity(Int(header.phnum))
        for index in 0..<Int(header.phnum) {
            let headerOffset = tableOffset + index * elfClass.programHeaderSize
            let segment = try ELFProgramHeader.parse(reader, at: headerOffset, class: elfClass, index: index)
            let name = "program_header[\(index)]"
            if segment.offset > UInt64(reader.count) {
                throw WireError(
                    field: name + ".p_offset", offset: headerOffset + fields.offset,
                    reason: "p_offset \(hex(segment.offset)) is beyond the end of the file (\(reader.count) bytes)")
            }
            if fileRange(offset: segment.offset, size: segment.filesz, fileSize: reader.count) == nil {
                throw WireError(
                    field: name + ".p_filesz", offset: headerOffset + fields.filesz,
                    reason: "segment bytes at \(hex(segment.offset)) + p_filesz \(hex(segment.filesz)) extend beyond the end of the file (\(reader.count) bytes)")
            }
            if segment.type == ELFProgramHeader.PT_LOAD, segment.filesz > segment.memsz {
                throw WireError(
                    field: name + ".p_filesz", offset: headerOffset + fields.filesz,
                    reason: "p_filesz \(hex(segment.filesz)) exceeds p_memsz \(hex(segment.memsz)) in a PT_LOAD segment")
            }
            result.append(segment)
        }
        return result
    }

    private static func parseSections(
        _ header: ELFHeader, _ reader: ByteReader
    ) throws(WireError) -> [ELFSectionHeader] {
        guard header.shnum > 0 else { return [] }
        let elfClass = header.elfClass
        let layout = ELFHeader.Layout.of(elfClass)
        guard Int(header.shentsize) == elfClass.sectionHeaderSize else {
            throw WireError(
                field: "e_shentsize", offset: layout.shentsize,
                reason: "\(header.shentsize) is not the \(elfClass) section-header size \(elfClass.sectionHeaderSize)")
        }
        let tableOffset = try tableStart(
            offset: header.shoff, count: Int(header.shnum), entrySize: elfClass.sectionHeaderSize,
            fileSize: reader.count, field: "e_shoff", fieldOffset: layout.shoff, what: "section-header table")
        guard header.shstrndx < header.shnum else {
            throw WireError(
                field: "e_shstrndx", offset: layout.shstrndx,
                reason: "section-name table index \(header.shstrndx) is not below e_shnum \(header.shnum)")
        }
        let fields = ELFSectionHeader.Layout.of(elfClass)
        var result = [ELFSectionHeader]()
        result.reserveCapacity(Int(header.shnum))
        for index in 0..<Int(header.shnum) {
            let headerOffset = tableOffset + index * elfClass.sectionHeaderSize
            let section = try ELFSectionHeader.parse(reader, at: headerOffset, class: elfClass, index: index)
            if section.occupiesFile {
                let name = "section[\(index)]"
                if section.offset > UInt64(reader.count) {
                    throw WireError(
                        field: name + ".sh_offset", offset: headerOffset + fields.offset,
                        reason: "sh_offset \(hex(section.offset)) is beyond the end of the file (\(reader.count) bytes)")
                }
                if fileRange(offset: section.offset, size: section.size, fileSize: reader.count) == nil {
                    throw WireError(
                        field: name + ".sh_size", offset: headerOffset + fields.size,
                        reason: "section bytes at \(hex(section.offset)) + sh_size \(hex(section.size)) extend beyond the end of the file (\(reader.count) bytes)")
                }
            }
            result.append(section)
        }
        return result
    }

    /// Fills in each section's name from the e_shstrndx string table. A name runs to the first NUL or
    /// the end of the table.
    private static func resolveNames(
        _ sections: inout [ELFSectionHeader], _ header: ELFHeader, _ bytes: [UInt8]
    ) throws(WireError) {
        guard !sections.isEmpty, header.shstrndx != ELFSectionHeader.SHN_UNDEF else { return }
        let table = sections[Int(header.shstrndx)]
        // Ranges were validated above; a NOBITS string table holds no names at all.
        let tableRange =
            table.occupiesFile
            ? (fileRange(offset: table.offset, size: table.size, fileSize: bytes.count) ?? 0..<0) : 0..<0
        let tableOffset = Int(header.shoff)
        for index in sections.indices {
            let nameOffset = Int(sections[index].nameOffset)
            guard nameOffset < tableRange.count else {
                throw WireError(
                    field: "section[\(index)].sh_name",
                    offset: tableOffset + index * header.elfClass.sectionHeaderSize,
                    reason: "name offset \(nameOffset) is outside the \(tableRange.count)-byte section-name table (section \(header.shstrndx))")
            }
            let start = tableRange.lowerBound + nameOffset
            var end = start
            while end < tableRange.upperBound, bytes[end] != 0 { end += 1 }
            sections[index].name = String(decoding: bytes[start..<end], as: UTF8.self)
        }
    }

    /// Validates that `count` entries of `entrySize` bytes at `offset` lie inside the file and returns
    /// the table's offset as an Int.
    private static func tableStart(
        offset: UInt64, count: Int, entrySize: Int, fileSize: Int, field: String, fieldOffset: Int, what: String
    ) throws(WireError) -> Int {
        let tableSize = UInt64(count) * UInt64(entrySize)  // at most 65535 * 64: cannot overflow
        guard fileRange(offset: offset, size: tableSize, fileSize: fileSize) != nil else {
            throw WireError(
                field: field, offset: fieldOffset,
                reason: "\(what) at \(hex(offset)) (\(count) entries of \(entrySize) bytes) extends beyond the end of the file (\(fileSize) bytes)")
        }
        return Int(offset)
    }

    private static func hex(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }
}

// Finding the resource table in a firmware ELF: the section named exactly `.resource_table` (the first one
// if there are several), its bytes, and the PT_LOAD segment that carries it into device memory, where the
// host later copies the "loaded table" (at the section's sh_addr).

/// What a firmware image holds where the resource table would be.
public enum ResourceTableSection: Sendable, Equatable {
    /// No section named `.resource_table`: the firmware has no resources.
    case absent
    /// The section exists with sh_size 0 (treated as "no table").
    case empty(index: Int, section: ELFSectionHeader)
    /// The section is SHT_NOBITS: it has no bytes in the file.
    case noBits(index: Int, section: ELFSectionHeader)
    /// The section and its bytes (validated by `ELFFile.parse` to lie inside the file).
    case present(index: Int, section: ELFSectionHeader, bytes: [UInt8])
}

/// A loadable segment that contains a section, and how the match was made.
public struct ELFSegmentMatch: Sendable, Hashable {
    /// How a section was matched to a segment.
    public enum Basis: Sendable, Hashable {
        /// The section's file bytes lie inside the segment's file bytes at the same relative position as
        /// its address (what a linker produces); the strongest match.
        case fileOffset
        /// The section's address range lies inside [p_paddr, p_paddr + p_memsz).
        case physicalAddress
        /// The section's address range lies inside [p_vaddr, p_vaddr + p_memsz).
        case virtualAddress
    }

    /// Index of the segment in `ELFFile.programHeaders`.
    public var index: Int
    public var segment: ELFProgramHeader
    public var basis: Basis
    /// Offset of the section's start from the segment's start in memory.
    public var offsetInSegment: UInt64

    public init(index: Int, segment: ELFProgramHeader, basis: Basis, offsetInSegment: UInt64) {
        self.index = index
        self.segment = segment
        self.basis = basis
        self.offsetInSegment = offsetInSegment
    }
}

extension ELFFile {
    /// The section name remoteproc looks for.
    public static let resourceTableSectionName = ".resource_table"

    /// Locates the `.resource_table` section.
    public func resourceTableSection() -> ResourceTableSection {
        guard let index = sectionIndex(named: Self.resourceTableSectionName) else { return .absent }
        let section = sections[index]
        if section.size == 0 { return .empty(index: index, section: section) }
        if !section.occupiesFile { return .noBits(index: index, section: section) }
        guard let data = sectionData(at: index) else { return .absent }  // unreachable: parse validated it
        return .present(index: index, section: section, bytes: Array(data))
    }

    /// Parses the resource table in the firmware's byte order, or returns nil when the section is absent,
    /// empty or NOBITS. Error offsets are file offsets.
    public func parseResourceTable() throws(WireError) -> ResourceTable? {
        guard case .present(_, let section, let bytes) = resourceTableSection() else { return nil }
        do {
            return try ResourceTable.parse(bytes, order: header.byteOrder)
        } catch {
            throw error.shifted(by: Int(section.offset))
        }
    }

    /// The PT_LOAD segment that holds `section`, or nil. A segment whose file bytes hold the section's
    /// bytes at the position matching its address is preferred (on cores with separate instruction and
    /// data address spaces, such as the TI PRU, several segments may cover the same addresses); otherwise
    /// the first segment whose [p_paddr, +p_memsz), then [p_vaddr, +p_memsz), covers the section's
    /// address range.
    public func loadSegment(containing section: ELFSectionHeader) -> ELFSegmentMatch? {
        let loads = programHeaders.indices.filter { programHeaders[$0].type == ELFProgramHeader.PT_LOAD }
        if section.occupiesFile {
            for index in loads {
                let segment = programHeaders[index]
                guard let delta = Self.position(of: section.offset, size: section.size, in: segment.offset, length: segment.filesz)
                else { continue }
                if segment.paddr &+ delta == section.addr || segment.vaddr &+ delta == section.addr {
                    return ELFSegmentMatch(index: index, segment: segment, basis: .fileOffset, offsetInSegment: delta)
                }
            }
        }
        return loadSegment(containingAddress: section.addr, size: section.size)
    }

    /// The first PT_LOAD segment whose [p_paddr, p_paddr + p_memsz) covers [address, address + size), or
    /// failing that the first whose [p_vaddr, p_vaddr + p_memsz) does; nil when none does.
    public func loadSegment(containingAddress address: UInt64, size: UInt64) -> ELFSegmentMatch? {
        let loads = programHeaders.indices.filter { programHeaders[$0].type == ELFProgramHeader.PT_LOAD }
        for index in loads {
            let segment = programHeaders[index]
            if let delta = Self.position(of: address, size: size, in: segment.paddr, length: segment.memsz) {
                return ELFSegmentMatch(index: index, segment: segment, basis: .physicalAddress, offsetInSegment: delta)
            }
        }
        for index in loads {
            let segment = programHeaders[index]
            if let delta = Self.position(of: address, size: size, in: segment.vaddr, length: segment.memsz) {
                return ELFSegmentMatch(index: index, segment: segment, basis: .virtualAddress, offsetInSegment: delta)
            }
        }
        return nil
    }

    /// `start - base` when [start, start + size) lies inside [base, base + length), else nil (overflow-safe).
    private static func position(of start: UInt64, size: UInt64, in base: UInt64, length: UInt64) -> UInt64? {
        guard start >= base else { return nil }
        let delta = start - base
        guard delta <= length, size <= length - delta else { return nil }
        return delta
    }
}

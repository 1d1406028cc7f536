import AmpJSON
import AmpSystem
import AmpWire

/// What `ampsoc inspect` knows about a firmware file: its ELF headers, its resource table (if any) and
/// warnings about anything Linux's remoteproc would refuse, skip or treat specially.
struct FirmwareReport {
    var path: String
    var elf: ELFFile
    var table: LocatedResourceTable?
    var warnings: [String]

    /// A resource table and where it was found.
    struct LocatedResourceTable {
        var sectionIndex: Int
        var section: ELFSectionHeader
        var table: ResourceTable
    }

    /// Reads and decodes `path`. Every failure becomes a `CommandError` naming the file, field and offset.
    static func load(path: String) throws(CommandError) -> FirmwareReport {
        let bytes: [UInt8]
        do {
            bytes = try FileIO.readFile(path)
        } catch {
            throw CommandError("\(path): cannot read: \(error.description)")
        }
        do {
            return try decode(path: path, bytes: bytes)
        } catch {
            throw CommandError("\(path): \(error.description)")
        }
    }

    /// Decodes an ELF image already in memory.
    static func decode(path: String, bytes: [UInt8]) throws(WireError) -> FirmwareReport {
        let elf = try ELFFile.parse(bytes)
        var warnings = headerWarnings(elf)
        var located: LocatedResourceTable?
        switch elf.resourceTableSection() {
        case .absent:
            warnings.append("no .resource_table section: remoteproc boots such firmware without resources")
        case .empty(let index, _):
            warnings.append("section \(index) .resource_table is empty (size 0): treated as no resource table")
        case .noBits(let index, _):
            warnings.append("section \(index) .resource_table is NOBITS (no file contents): treated as no resource table")
        case .present(let index, let section, let tableBytes):
            let table: ResourceTable
            do {
                table = try ResourceTable.parse(tableBytes, order: elf.header.byteOrder)
            } catch {
                throw error.shifted(by: Int(section.offset))
            }
            warnings += table.warnings
            if elf.loadSegment(containing: section) == nil {
                warnings.append(
                    "the table's address 0x\(hex(section.addr)) is in no PT_LOAD segment: the loaded copy would not be "
                        + "found in device memory")
            }
            located = LocatedResourceTable(sectionIndex: index, section: section, table: table)
        }
        return FirmwareReport(path: path, elf: elf, table: located, warnings: warnings)
    }

    private static func headerWarnings(_ elf: ELFFile) -> [String] {
        var warnings = [String]()
        if elf.header.byteOrder != .host {
            warnings.append(
                "\(elf.header.byteOrder.rawValue)-endian image: Linux remoteproc on this \(ByteOrder.host.rawValue)-endian "
                    + "host refuses firmware of another byte order")
        }
        if elf.programHeaders.isEmpty {
            warnings.append("no program headers: remoteproc refuses firmware with nothing to load")
        }
        if elf.header.type != ELFHeader.ET_EXEC && elf.header.type != ELFHeader.ET_DYN {
            warnings.append("ELF type \(elf.header.type) is neither an executable (2) nor a shared object (3): nothing to boot")
        }
        return warnings
    }
}

func hex<T: BinaryInteger>(_ value: T) -> String { String(value, radix: 16) }

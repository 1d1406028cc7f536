import AmpSystem
import AmpWire
import Glibc

/// A firmware file as the remoteproc core sees it before loading: the parsed ELF image and its resource
/// table, kept as Linux keeps its "cached table" (`rproc->cached_table`) for recovery.
///
/// The checks match Linux's ELF loader (wire-facts.md section 1): the image must parse, have program headers,
/// and be in the host's byte order (remoteproc structures are native-endian). A `.resource_table` section is
/// optional; an absent, empty (sh_size 0) or SHT_NOBITS section means "no resources".
public struct FirmwareImage: Sendable, Equatable {
    /// The file it was read from.
    public let path: String
    /// The parsed image.
    public let elf: ELFFile
    /// The resource table as parsed from the file (never modified: every boot starts from it), or nil.
    public let cachedTable: ResourceTable?
    /// The `.resource_table` section's bytes when `cachedTable` is set; the loaded table starts as a copy.
    public let tableBytes: [UInt8]?
    /// The `.resource_table` section header when the section exists (also when it is empty or NOBITS).
    public let tableSection: ELFSectionHeader?
    /// The index of that section.
    public let tableSectionIndex: Int?

    /// `e_machine`.
    public var machine: UInt16 { elf.header.machine }
    /// `e_entry`, the boot address.
    public var entry: UInt64 { elf.header.entry }
    /// The image's byte order (always the host's once loaded).
    public var byteOrder: ByteOrder { elf.header.byteOrder }
    /// ELF32 or ELF64.
    public var elfClass: ELFClass { elf.header.elfClass }

    /// Whether the image's addresses are device addresses. False for a position-independent image (ET_DYN):
    /// a native host executable (what an emulated core runs), whose addresses are offsets from wherever the
    /// host's dynamic loader maps it. Its segments are not copied into device memory and its table's sh_addr
    /// is not a device address (the loaded table then goes to an allocated carveout).
    public var hasDeviceAddresses: Bool { elf.header.type != ELFHeader.ET_DYN }

    /// The device address Linux copies the loaded table to (the section's sh_addr), when there is a table and
    /// the image has device addresses.
    public var tableDeviceAddress: UInt64? { cachedTable == nil || !hasDeviceAddresses ? nil : tableSection?.addr }

    /// One PT_LOAD program header and its index in the program-header table.
    public struct LoadSegment: Sendable, Equatable {
        public var index: Int
        public var header: ELFProgramHeader
    }

    /// The PT_LOAD segments in file order.
    public var loadSegments: [LoadSegment] {
        elf.programHeaders.enumerated().compactMap { index, header in
            header.type == ELFProgramHeader.PT_LOAD ? LoadSegment(index: index, header: header) : nil
        }
    }

    /// Notes on the image that do not prevent loading: an empty or NOBITS table section, and the table's
    /// own warnings (see `ResourceTable.warnings`).
    public var warnings: [String] {
        var result = [String]()
        if let section = tableSection, cachedTable == nil {
            result.append(
                section.occupiesFile
                    ? "firmware \(path): .resource_table is empty (sh_size 0): no resources"
                    : "firmware \(path): .resource_table is SHT_NOBITS: no resources")
        }
        result += (cachedTable?.warnings ?? []).map { "firmware \(path): resource table: \($0)" }
        return result
    }

    // MARK: Loading

    /// Reads and checks the firmware file at `path` for the remote `rproc`.
    ///
    /// - Throws: ENOENT (and other errnos) when the file cannot be read; EINVAL when it is not a valid ELF
    ///   image, has no program headers, is not in the host's byte order, or its resource table is malformed.
    public static func load(path: String, rproc: String) throws(RemoteprocError) -> FirmwareImage {
        let bytes: [UInt8]
        do {
            bytes = try FileIO.readFile(path)
        } catch {
            throw RemoteprocError(rproc: rproc, system: error, context: "firmware")
        }
        return try FirmwareImage(bytes: bytes, path: path, rproc: rproc)
    }

    /// Checks an image already in memory; `path` only names it in errors and ``path``.
    public init(bytes: [UInt8], path: String, rproc: String) throws(RemoteprocError) {
        let elf: ELFFile
        do {
            elf = try ELFFile.parse(bytes)
        } catch {
            throw RemoteprocError.firmware(rproc: rproc, path: path, error)
        }
        guard elf.header.byteOrder == ByteOrder.host else {
            throw RemoteprocError.firmware(
                rproc: rproc, path: path,
                reason: "is \(elf.header.byteOrder)-endian but the host is \(ByteOrder.host)-endian: "
                    + "remoteproc structures are native-endian, so only \(ByteOrder.host)-endian firmware can be loaded")
        }
        guard elf.hasProgramHeaders else {
            throw RemoteprocError.firmware(rproc: rproc, path: path, reason: "has no program headers (e_phnum is 0): nothing to load")
        }
        let table: ResourceTable?
        do {
            table = try elf.parseResourceTable()
        } catch {
            throw RemoteprocError.firmware(rproc: rproc, path: path, error)
        }
        self.path = path
        self.elf = elf
        self.cachedTable = table
        switch elf.resourceTableSection() {
        case .absent:
            tableSection = nil
            tableSectionIndex = nil
            tableBytes = nil
        case .empty(let index, let section), .noBits(let index, let section):
            tableSection = section
            tableSectionIndex = index
            tableBytes = nil
        case .present(let index, let section, let bytes):
            tableSection = section
            tableSectionIndex = index
            tableBytes = bytes
        }
    }

    /// Throws EACCES unless the host may execute the file: an emulated core runs its firmware as a process.
    public func checkExecutable(rproc: String) throws(RemoteprocError) {
        if let failure = FileIO.executableCheck(path) {
            throw RemoteprocError.firmware(
                rproc: rproc, path: path,
                reason: "cannot be executed by the host (\(failure.code)): an emulated core runs its firmware as a process",
                code: failure.errno == ENOENT ? .noEntry : .permissionDenied)
        }
    }
}

import AmpSystem
import AmpWire

// Reading a remote's segment back for live views (resource table, trace records). The segment is shared
// with the remote's process, which may have scribbled over anything: every value read from it is checked
// (magic, version, offsets and sizes inside the segment) before it is used, and problems are reported as
// errors naming the control-block field and its offset, never as traps.

extension SegmentImage {
    /// The control-block page, after checking magic, layout version and control size.
    public static func readControlBlock(segment: SharedMemorySegment, rproc: String) throws(RemoteprocError) -> ByteReader {
        guard segment.size >= ControlBlock.size else {
            throw RemoteprocError.segment(
                rproc: rproc, name: segment.name, reason: "is \(segment.size) bytes, smaller than the \(ControlBlock.size)-byte control block",
                code: .outOfRange)
        }
        let page: [UInt8]
        do {
            page = try segment.read(at: 0, count: ControlBlock.size)
        } catch {
            throw RemoteprocError(rproc: rproc, system: error)
        }
        let reader = ByteReader(page, order: .host)
        guard Array(page[0..<ControlBlock.magic.count]) == ControlBlock.magic else {
            throw controlError(segment, rproc, "magic", ControlBlock.magicOffset, "is \(Array(page[0..<8]).hexString), expected \"AMPSOC01\"")
        }
        let version = try field(reader, segment, rproc, "layoutVersion", ControlBlock.layoutVersionOffset)
        guard version == ControlBlock.layoutVersion else {
            throw controlError(segment, rproc, "layoutVersion", ControlBlock.layoutVersionOffset, "is \(version), expected \(ControlBlock.layoutVersion)")
        }
        let controlSize = try field(reader, segment, rproc, "controlSize", ControlBlock.controlSizeOffset)
        guard controlSize == UInt32(ControlBlock.size) else {
            throw controlError(segment, rproc, "controlSize", ControlBlock.controlSizeOffset, "is \(controlSize), expected \(ControlBlock.size)")
        }
        return reader
    }

    /// The published loaded table's bytes and segment offset, checked to lie inside the segment after the
    /// control block.
    ///
    /// - Throws: ENOENT when no table is published (tableOffset 0); EINVAL naming the field when the
    ///   published offset or size is impossible.
    public static func readLoadedTableBytes(
        segment: SharedMemorySegment, rproc: String
    ) throws(RemoteprocError) -> (segmentOffset: Int, bytes: [UInt8]) {
        let reader = try readControlBlock(segment: segment, rproc: rproc)
        let offset = try field(reader, segment, rproc, "tableOffset", ControlBlock.tableOffsetOffset)
        let size = try field(reader, segment, rproc, "tableSize", ControlBlock.tableSizeOffset)
        guard offset != 0 else {
            throw RemoteprocError.segment(rproc: rproc, name: segment.name, reason: "no loaded resource table is published (tableOffset is 0)", code: .noEntry)
        }
        guard offset >= UInt32(ControlBlock.size) else {
            throw controlError(segment, rproc, "tableOffset", ControlBlock.tableOffsetOffset, "\(rprocHex(offset)) points into the control block")
        }
        guard size >= UInt32(ResourceTable.headerSize) else {
            throw controlError(segment, rproc, "tableSize", ControlBlock.tableSizeOffset, "\(size) is smaller than a table header (\(ResourceTable.headerSize))")
        }
        guard UInt64(offset) + UInt64(size) <= UInt64(segment.size) else {
            throw controlError(
                segment, rproc, "tableSize", ControlBlock.tableSizeOffset,
                "table at \(rprocHex(offset)) + \(rprocHex(size)) bytes runs past the end of the \(rprocHex(segment.size))-byte segment")
        }
        do {
            return (Int(offset), try segment.read(at: Int(offset), count: Int(size)))
        } catch {
            throw RemoteprocError(rproc: rproc, system: error)
        }
    }

    /// The loaded resource table as the remote sees it now (with the host's and the remote's later writes),
    /// parsed and validated in the host's byte order.
    public static func readLoadedTable(segment: SharedMemorySegment, rproc: String) throws(RemoteprocError) -> ResourceTable {
        let (offset, bytes) = try readLoadedTableBytes(segment: segment, rproc: rproc)
        do {
            return try ResourceTable.parse(bytes, order: .host)
        } catch {
            throw RemoteprocError(
                rproc: rproc, code: .invalidArgument,
                message: "segment \(segment.name): loaded resource table at segment offset \(rprocHex(offset)): \(error)",
                underlying: .wire(error))
        }
    }

    /// ``readLoadedTable(segment:rproc:)`` for this image's segment.
    public func readLoadedTable() throws(RemoteprocError) -> ResourceTable {
        try Self.readLoadedTable(segment: segment, rproc: rproc)
    }

    /// Trace record `index` as published (`da`, `len`, and `written` read without ordering; see
    /// ``TraceReader`` for reading the text).
    public static func readTraceRecord(
        segment: SharedMemorySegment, index: Int, rproc: String
    ) throws(RemoteprocError) -> (da: UInt32, len: UInt32, written: UInt64) {
        guard (0..<ControlBlock.maxTraces).contains(index) else {
            throw RemoteprocError(rproc: rproc, code: .invalidArgument, message: "trace \(index): the control block has traces 0 to \(ControlBlock.maxTraces - 1)")
        }
        let reader = try readControlBlock(segment: segment, rproc: rproc)
        let offset = ControlBlock.traceRecordOffset(index)
        do {
            return (
                try reader.u32(at: offset, field: "traces[\(index)].da"), try reader.u32(at: offset + 4, field: "traces[\(index)].len"),
                try reader.u64(at: offset + 8, field: "traces[\(index)].written")
            )
        } catch {
            throw RemoteprocError(rproc: rproc, code: .invalidArgument, message: "segment \(segment.name): control block: \(error)", underlying: .wire(error))
        }
    }

    // MARK: Helpers

    private static func field(
        _ reader: ByteReader, _ segment: SharedMemorySegment, _ rproc: String, _ name: String, _ offset: Int
    ) throws(RemoteprocError) -> UInt32 {
        do {
            return try reader.u32(at: offset, field: name)
        } catch {
            throw RemoteprocError(rproc: rproc, code: .invalidArgument, message: "segment \(segment.name): control block: \(error)", underlying: .wire(error))
        }
    }

    private static func controlError(
        _ segment: SharedMemorySegment, _ rproc: String, _ name: String, _ offset: Int, _ reason: String
    ) -> RemoteprocError {
        RemoteprocError.segment(rproc: rproc, name: segment.name, reason: "control block \(name) at offset \(rprocHex(offset)): \(reason)")
    }
}

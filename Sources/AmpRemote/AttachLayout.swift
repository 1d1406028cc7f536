import AmpSystem
import AmpWire

/// What a remote learns from its control block when it attaches, after checking every field it relies on
/// (docs/shared-memory.md). Nothing the host wrote is trusted: sizes, offsets and counts are bounds-checked
/// against the mapping before any pointer is formed from them.
///
/// Checks, in order, each failing with a ``RemoteAttachError`` of kind `.sharedMemory` naming the field:
/// the mapping holds a whole control page; `magic` is "AMPSOC01"; `layoutVersion` is 1; `controlSize` is 4096;
/// `controlSize <= segmentSize <= mapping size`; `generation` equals `AMPSOC_GENERATION`; `hostPid` equals
/// `AMPSOC_HOST_PID`; `regionCount <= 32` and every region is non-empty, after the control page, inside
/// `segmentSize` and below 4 GiB in device addresses; the loaded resource table (when `tableOffset != 0`) lies
/// inside the segment after the control page, parses, and its `tableDeviceAddress` translates to `tableOffset`;
/// every published trace buffer lies inside a region.
public struct AttachLayout: Sendable, Equatable {
    /// One trace buffer the host published in `traces[]` (records with `len != 0`).
    public struct TraceBuffer: Sendable, Equatable {
        /// Index in `traces[]`.
        public var index: Int
        public var da: UInt32
        public var len: UInt32
    }

    /// The loaded resource table and where it is.
    public struct LoadedTable: Sendable, Equatable {
        public var segmentOffset: Int
        public var size: Int
        public var deviceAddress: UInt32
        public var table: ResourceTable
    }

    /// `segmentSize`: the bytes of the segment the host vouches for (at most the mapping's size).
    public var segmentSize: Int
    /// `heartbeatPeriodMs` (0: no heartbeat).
    public var heartbeatPeriodMs: UInt32
    /// `bufferSize`: the rpmsg buffer size for this remote.
    public var bufferSize: UInt32
    /// The memory regions, in table order.
    public var regions: [MemoryRegionRecord]
    /// The loaded resource table, nil when `tableOffset` is 0.
    public var loadedTable: LoadedTable?
    /// The published trace buffers, in index order.
    public var traceBuffers: [TraceBuffer]

    /// Reads and validates the control block of `segment` for the boot `expectedGeneration` of the host
    /// `expectedHostPID`.
    public static func read(
        from segment: SharedMemorySegment, expectedGeneration: UInt32, expectedHostPID: Int32
    ) throws(RemoteAttachError) -> AttachLayout {
        guard segment.size >= ControlBlock.size else {
            throw corrupt("segment size", "the mapping is \(segment.size) bytes, smaller than the \(ControlBlock.size)-byte control block")
        }
        let page: [UInt8]
        do { page = try segment.read(at: 0, count: ControlBlock.size) } catch { throw RemoteAttachError(error) }
        let reader = ByteReader(page, order: .host)
        do {
            return try parse(reader, mappingSize: segment.size, segment: segment,
                             expectedGeneration: expectedGeneration, expectedHostPID: expectedHostPID)
        } catch let error as RemoteAttachError {
            throw error
        } catch let error as WireError {
            throw RemoteAttachError(error, in: "control block")
        } catch let error as SystemError {
            throw RemoteAttachError(error)
        } catch {
            throw corrupt("control block", "\(error)")
        }
    }

    private static func parse(
        _ reader: ByteReader, mappingSize: Int, segment: SharedMemorySegment, expectedGeneration: UInt32, expectedHostPID: Int32
    ) throws -> AttachLayout {
        let magic = try reader.slice(at: ControlBlock.magicOffset, count: ControlBlock.magic.count, field: "magic")
        guard magic == ControlBlock.magic else {
            throw corrupt("control block magic", "is \(magic.hexString) (\"\(printable(magic))\"), expected \"AMPSOC01\": not an ampsoc segment")
        }
        let version = try reader.u32(at: ControlBlock.layoutVersionOffset, field: "layoutVersion")
        guard version == ControlBlock.layoutVersion else {
            throw corrupt("control block layoutVersion", "is \(version), this runtime understands \(ControlBlock.layoutVersion)")
        }
        let controlSize = try reader.u32(at: ControlBlock.controlSizeOffset, field: "controlSize")
        guard controlSize == ControlBlock.size else {
            throw corrupt("control block controlSize", "is \(controlSize), expected \(ControlBlock.size)")
        }
        let declaredSize = try reader.u64(at: ControlBlock.segmentSizeOffset, field: "segmentSize")
        guard declaredSize >= UInt64(ControlBlock.size), declaredSize <= UInt64(mappingSize) else {
            throw corrupt("control block segmentSize", "is \(declaredSize), but the mapping is \(mappingSize) bytes (the control page alone is \(ControlBlock.size))")
        }
        let segmentSize = Int(declaredSize)
        let generation = try reader.u32(at: ControlBlock.generationOffset, field: "generation")
        guard generation == expectedGeneration else {
            throw corrupt("control block generation", "is \(generation), but \(RemoteEnvironmentKeys.generation) is \(expectedGeneration): the segment belongs to another boot")
        }
        let hostPID = try reader.u32(at: ControlBlock.hostPidOffset, field: "hostPid")
        guard hostPID == UInt32(bitPattern: expectedHostPID) else {
            throw corrupt("control block hostPid", "is \(hostPID), but \(RemoteEnvironmentKeys.hostPID) is \(expectedHostPID)")
        }
        let regions = try readRegions(reader, segmentSize: segmentSize)
        let map = AddressMap(base: segment.base, regions: regions)
        return AttachLayout(
            segmentSize: segmentSize,
            heartbeatPeriodMs: try reader.u32(at: ControlBlock.heartbeatPeriodOffset, field: "heartbeatPeriodMs"),
            bufferSize: try reader.u32(at: ControlBlock.bufferSizeOffset, field: "bufferSize"),
            regions: regions,
            loadedTable: try readTable(reader, segment: segment, segmentSize: segmentSize, map: map),
            traceBuffers: try readTraces(reader, map: map))
    }

    private static func readRegions(_ reader: ByteReader, segmentSize: Int) throws -> [MemoryRegionRecord] {
        let count = try reader.u32(at: ControlBlock.regionCountOffset, field: "regionCount")
        guard count <= UInt32(ControlBlock.maxRegions) else {
            throw corrupt("control block regionCount", "is \(count), at most \(ControlBlock.maxRegions) regions fit")
        }
        var regions: [MemoryRegionRecord] = []
        for index in 0..<Int(count) {
            let region = try MemoryRegionRecord.parse(reader, at: ControlBlock.regionRecordOffset(index))
            let field = "control block regions[\(index)] (\"\(region.name)\")"
            guard region.size > 0 else { throw corrupt(field, "has size 0") }
            guard UInt64(region.da) + UInt64(region.size) <= 1 << 32 else {
                throw corrupt(field, "da \(hex(region.da)) + size \(hex(region.size)) passes the end of the 32-bit device address space")
            }
            let end = region.segmentOffset.addingReportingOverflow(UInt64(region.size))
            guard region.segmentOffset >= UInt64(ControlBlock.size), !end.overflow, end.partialValue <= UInt64(segmentSize) else {
                throw corrupt(field, "segmentOffset \(region.segmentOffset) + size \(region.size) is not inside the segment after the control page (segmentSize \(segmentSize))")
            }
            regions.append(region)
        }
        return regions
    }

    private static func readTable(
        _ reader: ByteReader, segment: SharedMemorySegment, segmentSize: Int, map: AddressMap
    ) throws -> LoadedTable? {
        let offset = try reader.u32(at: ControlBlock.tableOffsetOffset, field: "tableOffset")
        guard offset != 0 else { return nil }
        let size = try reader.u32(at: ControlBlock.tableSizeOffset, field: "tableSize")
        let deviceAddress = try reader.u32(at: ControlBlock.tableDeviceAddressOffset, field: "tableDeviceAddress")
        guard offset >= UInt32(ControlBlock.size), UInt64(offset) + UInt64(size) <= UInt64(segmentSize) else {
            throw corrupt("control block tableOffset", "\(offset) with tableSize \(size) is not inside the segment after the control page (segmentSize \(segmentSize))")
        }
        guard map.segmentOffset(da: deviceAddress, count: Int(size)) == Int(offset) else {
            throw corrupt("control block tableDeviceAddress", "\(hex(deviceAddress)) does not translate to tableOffset \(offset) through the regions")
        }
        let bytes = try segment.read(at: Int(offset), count: Int(size))
        do {
            let table = try ResourceTable.parse(bytes, order: .host)
            return LoadedTable(segmentOffset: Int(offset), size: Int(size), deviceAddress: deviceAddress, table: table)
        } catch {
            throw RemoteAttachError(error, in: "loaded resource table")
        }
    }

    private static func readTraces(_ reader: ByteReader, map: AddressMap) throws -> [TraceBuffer] {
        var buffers: [TraceBuffer] = []
        for index in 0..<ControlBlock.maxTraces {
            let offset = ControlBlock.traceRecordOffset(index)
            let da = try reader.u32(at: offset, field: "traces[\(index)].da")
            let len = try reader.u32(at: offset + 4, field: "traces[\(index)].len")
            guard len != 0 else { continue }
            guard map.translate(da: da, count: Int(len)) != nil else {
                throw corrupt("control block traces[\(index)]", "da \(hex(da)) len \(len) is not inside one memory region")
            }
            buffers.append(TraceBuffer(index: index, da: da, len: len))
        }
        return buffers
    }

    private static func corrupt(_ subject: String, _ reason: String) -> RemoteAttachError {
        RemoteAttachError(kind: .sharedMemory, subject: subject, reason: reason)
    }

    private static func printable(_ bytes: [UInt8]) -> String {
        String(decoding: bytes.map { (0x20..<0x7F).contains($0) ? $0 : UInt8(ascii: "?") }, as: UTF8.self)
    }
}

/// `0x` and eight lowercase hex digits.
func hex(_ value: UInt32) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
}

/// `0x` and lowercase hex digits, at least eight.
func hex(_ value: UInt64) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
}

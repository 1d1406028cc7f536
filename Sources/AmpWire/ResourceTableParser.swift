// Parsing of a resource table from the bytes of its section, with the checks Linux's remoteproc core makes
// (see wire-facts.md section 1). Offsets in errors are relative to the table start; a caller holding the
// whole firmware file shifts them with `WireError.shifted(by:)` (ELFFile.parseResourceTable does).
//
// Errors, each naming the field and its offset:
//   resource_table            fewer than 16 bytes
//   resource_table.ver        not 1
//   resource_table.reserved[i] not 0
//   resource_table.num        the offset array 16 + 4*num does not fit the table
//   resource_table.offset[i]  the entry's type word does not fit (offset + 4 > size)
//   <kind>@<offset>           the payload does not fit in table size - offset - 4
//   <kind>@<offset>.reserved  (carveout, devmem, trace) not 0
//   vdev@<o>.reserved[i]      not 0
//   vdev@<o>.num_of_vrings    more than 2
//   vdev@<o>.vring[j]         the vring does not fit
//   vdev@<o>.config           config_len bytes do not fit
//   vdev@<o>.vring[j].num     0 or not a power of two
//   vdev@<o>.vring[j].align   0

extension ResourceTable {
    /// Parses a resource table occupying all of `bytes` (the section's bytes), whose multi-byte fields
    /// are in `order`. An empty section (0 bytes) throws like any table shorter than the header; callers
    /// that treat "no table" specially should check for it first.
    public static func parse(_ bytes: [UInt8], order: ByteOrder) throws(WireError) -> ResourceTable {
        let size = bytes.count
        guard size >= headerSize else {
            throw WireError(
                field: "resource_table", offset: 0,
                reason: "truncated: \(size) bytes, the header needs \(headerSize)")
        }
        let reader = ByteReader(bytes, order: order)
        let version = try reader.u32(at: HeaderOffset.version, field: "resource_table.ver")
        guard version == 1 else {
            throw WireError(field: "resource_table.ver", offset: HeaderOffset.version, reason: "version \(version), expected 1")
        }
        let num = try reader.u32(at: HeaderOffset.num, field: "resource_table.num")
        var reserved = [UInt32]()
        for index in 0..<2 {
            let offset = HeaderOffset.reserved + index * offsetSize
            let field = "resource_table.reserved[\(index)]"
            let value = try reader.u32(at: offset, field: field)
            guard value == 0 else { throw WireError(field: field, offset: offset, reason: "must be 0, is \(resourceHex(value))") }
            reserved.append(value)
        }
        let arrayEnd = UInt64(headerSize) + UInt64(offsetSize) * UInt64(num)
        guard arrayEnd <= UInt64(size) else {
            throw WireError(
                field: "resource_table.num", offset: HeaderOffset.num,
                reason: "\(num) entries need an offset array ending at \(arrayEnd), beyond the \(size)-byte table")
        }
        // num is now bounded by the table size.
        var offsets = [UInt32]()
        offsets.reserveCapacity(Int(num))
        for index in 0..<Int(num) {
            offsets.append(try reader.u32(at: HeaderOffset.offsets + index * offsetSize, field: "resource_table.offset[\(index)]"))
        }
        let sortedOffsets = offsets.sorted()
        var entries = [ResourceTableEntry]()
        entries.reserveCapacity(offsets.count)
        for (index, rawOffset) in offsets.enumerated() {
            guard UInt64(rawOffset) + UInt64(entryHeaderSize) <= UInt64(size) else {
                throw WireError(
                    field: "resource_table.offset[\(index)]", offset: HeaderOffset.offsets + index * offsetSize,
                    reason: "truncated: the entry at \(rawOffset) needs \(entryHeaderSize) bytes for its type, but the table is \(size) bytes")
            }
            let offset = Int(rawOffset)
            let dataEnd = nextOffset(after: rawOffset, in: sortedOffsets).map { Int($0) } ?? size
            let resource = try Resource.decode(reader, at: offset, dataEnd: dataEnd)
            entries.append(ResourceTableEntry(offset: offset, resource: resource))
        }
        return ResourceTable(version: version, reserved: reserved, offsets: offsets, entries: entries, size: size)
    }

    /// The smallest element of `sorted` greater than `offset` (binary search).
    private static func nextOffset(after offset: UInt32, in sorted: [UInt32]) -> UInt32? {
        var low = 0
        var high = sorted.count
        while low < high {
            let middle = (low + high) / 2
            if sorted[middle] <= offset { low = middle + 1 } else { high = middle }
        }
        return low < sorted.count ? sorted[low] : nil
    }
}

extension Resource {
    /// Decodes the entry whose type word is at `offset`; vendor and unknown data run to `dataEnd`.
    static func decode(_ reader: ByteReader, at offset: Int, dataEnd: Int) throws(WireError) -> Resource {
        let type = try reader.u32(at: offset, field: "resource_table.entry@\(offset).type")
        let payload = offset + ResourceTable.entryHeaderSize
        let label = "\(ResourceType.name(of: type))@\(offset)"
        switch type {
        case ResourceType.carveout:
            return .carveout(try decodeMemory(reader, payload: payload, label: label))
        case ResourceType.devmem:
            return .devmem(try decodeMemory(reader, payload: payload, label: label))
        case ResourceType.trace:
            return .trace(try decodeTrace(reader, payload: payload, label: label))
        case ResourceType.vdev:
            return .vdev(try decodeVdev(reader, payload: payload, label: label))
        default:
            let end = max(payload, min(dataEnd, reader.count))
            let data = Array(reader.bytes[payload..<end])
            return ResourceType.vendorRange.contains(type) ? .vendor(type: type, data: data) : .unknown(type: type, data: data)
        }
    }

    private static func requirePayload(
        _ reader: ByteReader, payload: Int, size: Int, label: String
    ) throws(WireError) {
        let available = reader.count - payload
        guard size <= available else {
            throw WireError(
                field: label, offset: payload - ResourceTable.entryHeaderSize,
                reason: "truncated: the payload needs \(size) bytes, only \(available) remain in the \(reader.count)-byte table")
        }
    }

    private static func requireZero(_ value: UInt32, field: String, offset: Int) throws(WireError) {
        guard value == 0 else { throw WireError(field: field, offset: offset, reason: "must be 0, is \(resourceHex(value))") }
    }

    private static func decodeMemory(_ reader: ByteReader, payload: Int, label: String) throws(WireError) -> MemoryRegion {
        try requirePayload(reader, payload: payload, size: ResourceTable.carveoutSize, label: label)
        let reservedOffset = payload + MemoryOffset.reserved
        try requireZero(try reader.u32(at: reservedOffset, field: label + ".reserved"), field: label + ".reserved", offset: reservedOffset)
        return MemoryRegion(
            da: try reader.u32(at: payload + MemoryOffset.da, field: label + ".da"),
            pa: try reader.u32(at: payload + MemoryOffset.pa, field: label + ".pa"),
            len: try reader.u32(at: payload + MemoryOffset.len, field: label + ".len"),
            flags: try reader.u32(at: payload + MemoryOffset.flags, field: label + ".flags"),
            reserved: 0,
            name: try reader.cString(at: payload + MemoryOffset.name, capacity: ResourceTable.nameSize, field: label + ".name"))
    }

    private static func decodeTrace(_ reader: ByteReader, payload: Int, label: String) throws(WireError) -> Trace {
        try requirePayload(reader, payload: payload, size: ResourceTable.traceSize, label: label)
        let reservedOffset = payload + TraceOffset.reserved
        try requireZero(try reader.u32(at: reservedOffset, field: label + ".reserved"), field: label + ".reserved", offset: reservedOffset)
        return Trace(
            da: try reader.u32(at: payload + TraceOffset.da, field: label + ".da"),
            len: try reader.u32(at: payload + TraceOffset.len, field: label + ".len"),
            reserved: 0,
            name: try reader.cString(at: payload + TraceOffset.name, capacity: ResourceTable.nameSize, field: label + ".name"))
    }

    private static func decodeVdev(_ reader: ByteReader, payload: Int, label: String) throws(WireError) -> VirtioDevice {
        try requirePayload(reader, payload: payload, size: ResourceTable.vdevHeaderSize, label: label)
        var reserved = [UInt8]()
        for index in 0..<2 {
            let offset = payload + VdevOffset.reserved + index
            let value = try reader.u8(at: offset, field: label + ".reserved[\(index)]")
            guard value == 0 else {
                throw WireError(field: label + ".reserved[\(index)]", offset: offset, reason: "must be 0, is \(value)")
            }
            reserved.append(value)
        }
        let vringCount = Int(try reader.u8(at: payload + VdevOffset.numOfVrings, field: label + ".num_of_vrings"))
        guard vringCount <= ResourceTable.maxVringsPerVdev else {
            throw WireError(
                field: label + ".num_of_vrings", offset: payload + VdevOffset.numOfVrings,
                reason: "\(vringCount) vrings, at most \(ResourceTable.maxVringsPerVdev) are supported")
        }
        var vrings = [VdevVring]()
        for index in 0..<vringCount {
            let start = payload + VdevOffset.vring(index)
            let name = label + ".vring[\(index)]"
            try reader.requireEntry(at: start, size: ResourceTable.vringSize, field: name)
            vrings.append(
                VdevVring(
                    da: try reader.u32(at: start + VringOffset.da, field: name + ".da"),
                    align: try reader.u32(at: start + VringOffset.align, field: name + ".align"),
                    num: try reader.u32(at: start + VringOffset.num, field: name + ".num"),
                    notifyid: try reader.u32(at: start + VringOffset.notifyid, field: name + ".notifyid"),
                    pa: try reader.u32(at: start + VringOffset.pa, field: name + ".pa")))
        }
        let configLength = try reader.u32(at: payload + VdevOffset.configLen, field: label + ".config_len")
        let configStart = payload + VdevOffset.config(vringCount: vringCount)
        let remaining = reader.count - configStart
        guard UInt64(configLength) <= UInt64(remaining) else {
            throw WireError(
                field: label + ".config", offset: configStart,
                reason: "truncated: config_len \(configLength) bytes, only \(remaining) remain in the \(reader.count)-byte table")
        }
        let config = Array(reader.bytes[configStart..<(configStart + Int(configLength))])
        for (index, vring) in vrings.enumerated() {
            let start = payload + VdevOffset.vring(index)
            let name = label + ".vring[\(index)]"
            guard vring.num != 0, vring.num & (vring.num - 1) == 0 else {
                throw WireError(field: name + ".num", offset: start + VringOffset.num, reason: "\(vring.num) is not a non-zero power of two")
            }
            guard vring.align != 0 else {
                throw WireError(field: name + ".align", offset: start + VringOffset.align, reason: "alignment must not be 0")
            }
        }
        return VirtioDevice(
            id: try reader.u32(at: payload + VdevOffset.id, field: label + ".id"),
            notifyid: try reader.u32(at: payload + VdevOffset.notifyid, field: label + ".notifyid"),
            dfeatures: try reader.u32(at: payload + VdevOffset.dfeatures, field: label + ".dfeatures"),
            gfeatures: try reader.u32(at: payload + VdevOffset.gfeatures, field: label + ".gfeatures"),
            status: try reader.u8(at: payload + VdevOffset.status, field: label + ".status"),
            reserved: reserved, vrings: vrings, config: config)
    }
}

extension ByteReader {
    /// Throws a "truncated" error naming `field` at `offset` unless `size` bytes are readable there.
    func requireEntry(at offset: Int, size: Int, field: String) throws(WireError) {
        guard contains(offset: offset, count: size) else {
            throw WireError(
                field: field, offset: offset,
                reason: "truncated: needs \(size) bytes, only \(max(0, count - offset)) remain in the \(count)-byte table")
        }
    }
}

private func resourceHex(_ value: UInt32) -> String { "0x" + String(value, radix: 16) }

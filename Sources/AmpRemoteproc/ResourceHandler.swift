import AmpProfiles
import AmpWire

/// Handles a firmware's resource table against a remote's memory map, as Linux's `rproc_handle_resources`
/// does: entries in table order, memory allocated or checked, addresses written back into a copy of the
/// table (the "loaded table"), and a record of everything kept in a ``ResourceAllocation``.
///
/// Rules (FW_RSC_ADDR_ANY is written ANY):
/// - carveout, da ANY: allocated from the carveout regions (first fit, 4096-aligned); da and
///   pa = region.pa + (da - region.da) written back. A fixed pa given with da ANY is overwritten (warning).
/// - carveout, fixed da: [da, da+len) must lie in one carveout region and overlap no earlier claim (the
///   error names both carveouts); pa ANY is written back, a fixed pa that disagrees with the map is an error.
/// - devmem: needs a fixed da; [da, da+len) must lie in one devmem region; a fixed pa must equal the map's.
///   Nothing is written back (as Linux).
/// - trace: [da, da+len) must lie in one region; at most `ControlBlock.maxTraces` traces.
/// - vdev: at most 2 vrings; each ring needs page_align(vring_size(num, align)) bytes. da ANY: a carveout
///   `vdev<i>vring<j>` is allocated; a fixed da must lie in one region and overlap no earlier claim (exact
///   ring size). da 0 is treated as ANY with a warning: TI PRU firmware ships 0 and expects the host's
///   address, and Linux without an IOMMU never honours a fixed vring address anyway. Notify ids 0, 1, 2, ...
///   are assigned in table order; da, pa and notifyid are written back. An rpmsg vdev (id 7) then gets
///   its buffer pool, carveout `vdev<i>buffer`: RpmsgConstants.bufferCount(vring 0's num) buffers.
/// - vendor (128...512) and unknown types: skipped with a warning.
/// - Finally the loaded table itself: at the section's sh_addr when that range lies in a region, else in
///   an allocated carveout `rsctable`.
///
/// Before allocating anything, every fixed address in the table (fixed carveouts and vrings, traces, the
/// table's sh_addr) and the caller's reserved ranges (the firmware's loaded segments) are reserved, so
/// host allocations never land on memory the firmware uses.
public enum ResourceHandler {
    /// Largest rpmsg buffer size accepted (the rpmsg header's length field is 16 bits).
    public static let maxBufferSize = 65536

    /// Handles `firmware`'s cached table; the firmware's PT_LOAD segments are reserved. Firmware without a
    /// resource table gets ``ResourceAllocation/empty(rproc:)``. The table's own oddities are in
    /// ``FirmwareImage/warnings``, not repeated here. For a native host executable (see
    /// ``FirmwareImage/hasDeviceAddresses``) nothing is reserved and the table goes to a `rsctable` carveout.
    public static func handle(
        firmware: FirmwareImage, memoryMap: RemoteMemoryMap, rproc: String, bufferSize: Int = RpmsgConstants.defaultBufferSize
    ) throws(RemoteprocError) -> ResourceAllocation {
        guard let table = firmware.cachedTable, let bytes = firmware.tableBytes else { return .empty(rproc: rproc) }
        let segments = firmware.hasDeviceAddresses ? firmware.loadSegments : []
        let reserved = segments.map { segment in
            MemoryAllocator.Range(owner: "PT_LOAD segment \(segment.index)", da: segment.header.paddr, length: segment.header.memsz)
        }
        return try handle(
            table: table, tableBytes: bytes, tableAddress: firmware.tableDeviceAddress, memoryMap: memoryMap, rproc: rproc,
            bufferSize: bufferSize, reservedRanges: reserved)
    }

    /// Handles `table`. `tableBytes` are the section's bytes (default: the table serialised in the host's
    /// byte order); `tableAddress` is the section's sh_addr, if any; `reservedRanges` are kept free of
    /// allocations.
    ///
    /// - Throws: EINVAL for an entry that breaks a rule, ENOMEM when an allocation does not fit, ENOSPC for
    ///   more trace buffers than the control block publishes; each error names the entry.
    public static func handle(
        table: ResourceTable, tableBytes: [UInt8]? = nil, tableAddress: UInt64?, memoryMap: RemoteMemoryMap, rproc: String,
        bufferSize: Int = RpmsgConstants.defaultBufferSize, reservedRanges: [MemoryAllocator.Range] = []
    ) throws(RemoteprocError) -> ResourceAllocation {
        guard bufferSize > RpmsgConstants.headerSize, bufferSize <= maxBufferSize else {
            throw RemoteprocError.memory(
                rproc: rproc,
                reason: "rpmsg buffer size \(bufferSize) must be between \(RpmsgConstants.headerSize + 1) and \(maxBufferSize)")
        }
        var handling = ResourceHandling(
            rproc: rproc, map: memoryMap, bufferSize: bufferSize, table: table,
            tableBytes: tableBytes ?? table.serialised(order: .host))
        handling.reserve(reservedRanges, tableAddress: tableAddress)
        for (index, entry) in table.entries.enumerated() {
            try handling.handle(entry, index: index)
        }
        try handling.placeTable(at: tableAddress)
        return handling.result
    }
}

/// The state of one run of ``ResourceHandler``: the allocator, the table being written back and the records.
struct ResourceHandling {
    let rproc: String
    let map: RemoteMemoryMap
    let bufferSize: Int
    var table: ResourceTable
    var loadedTable: ByteWriter
    var allocator: MemoryAllocator
    var result: ResourceAllocation
    var nextNotifyID: UInt32 = 0

    init(rproc: String, map: RemoteMemoryMap, bufferSize: Int, table: ResourceTable, tableBytes: [UInt8]) {
        self.rproc = rproc
        self.map = map
        self.bufferSize = bufferSize
        self.table = table
        var writer = ByteWriter(order: .host)
        writer.put(bytes: tableBytes, at: 0)
        self.loadedTable = writer
        self.allocator = MemoryAllocator(map: map)
        self.result = ResourceAllocation(rproc: rproc, table: table, tableBytes: tableBytes, tablePlacement: nil)
    }

    // MARK: Reservations

    /// Reserves `ranges` and every fixed address the table names, before anything is allocated.
    mutating func reserve(_ ranges: [MemoryAllocator.Range], tableAddress: UInt64?) {
        for range in ranges { allocator.reserve(owner: range.owner, da: range.da, length: range.length) }
        for (index, entry) in table.entries.enumerated() {
            let label = Self.label(of: entry, index: index)
            switch entry.resource {
            case .carveout(let carveout) where carveout.da != ResourceTable.addressAny:
                allocator.reserve(owner: label, da: UInt64(carveout.da), length: UInt64(carveout.len))
            case .trace(let trace):
                allocator.reserve(owner: label, da: UInt64(trace.da), length: UInt64(trace.len))
            case .vdev(let vdev):
                for vring in vdev.vrings where vring.da != ResourceTable.addressAny && vring.da != 0 {
                    guard let layout = try? VringLayout(num: Int(vring.num), align: Int(vring.align)) else { continue }
                    allocator.reserve(owner: label, da: UInt64(vring.da), length: UInt64(layout.totalSize))
                }
            default:
                break
            }
        }
        if let address = tableAddress, map.translate(da: address, count: UInt64(loadedTable.bytes.count)) != nil {
            allocator.reserve(owner: "the resource table", da: address, length: UInt64(loadedTable.bytes.count))
        }
    }

    // MARK: Entries

    mutating func handle(_ entry: ResourceTableEntry, index: Int) throws(RemoteprocError) {
        switch entry.resource {
        case .carveout(let carveout):
            try handleCarveout(carveout, entry: entry, index: index)
        case .devmem(let devmem):
            try handleDevmem(devmem, entry: entry, index: index)
        case .trace(let trace):
            try handleTrace(trace, entry: entry, index: index)
        case .vdev(let vdev):
            try handleVdev(vdev, entry: entry, index: index)
        case .vendor(let type, _):
            skip(entry, index: index, type: type, reason: "no vendor-specific handler on this host")
        case .unknown(let type, _):
            skip(entry, index: index, type: type, reason: "not a resource type remoteproc knows")
        }
    }

    private mutating func skip(_ entry: ResourceTableEntry, index: Int, type: UInt32, reason: String) {
        result.skipped.append(SkippedEntry(entryIndex: index, entryOffset: entry.offset, type: type, reason: reason))
        result.warnings.append("\(Self.label(of: entry, index: index)): skipped: \(reason)")
    }

    private mutating func handleCarveout(_ carveout: Resource.Carveout, entry: ResourceTableEntry, index: Int) throws(RemoteprocError) {
        let label = Self.label(of: entry, index: index)
        guard carveout.len > 0 else { throw resourceError(label, "len is 0") }
        let da: UInt32
        let pa: UInt32
        let segmentOffset: Int
        let regionName: String
        if carveout.da == ResourceTable.addressAny {
            guard let (range, region) = allocator.allocate(owner: label, length: UInt64(carveout.len)) else {
                throw tooSmall(carveout: carveout.name, length: UInt64(carveout.len))
            }
            da = UInt32(truncatingIfNeeded: range.da)
            pa = region.pa(of: range.da)
            segmentOffset = region.segmentOffset(of: range.da)
            regionName = region.name
            if carveout.pa != ResourceTable.addressAny, carveout.pa != pa {
                result.warnings.append("\(label): pa \(rprocHex(carveout.pa)) given with da ANY is ignored; pa \(rprocHex(pa)) written back")
            }
        } else {
            let region = try claim(label, da: carveout.da, length: carveout.len, kinds: [.carveout])
            da = carveout.da
            pa = region.pa(of: UInt64(da))
            segmentOffset = region.segmentOffset(of: UInt64(da))
            regionName = region.name
            guard carveout.pa == ResourceTable.addressAny || carveout.pa == pa else {
                throw resourceError(
                    label, "pa \(rprocHex(carveout.pa)) disagrees with the memory map: da \(rprocHex(da)) is pa \(rprocHex(pa)) in \(region.label)")
            }
        }
        var updated = carveout
        updated.da = da
        updated.pa = pa
        writeBack(da, entry: entry, at: Resource.MemoryOffset.da)
        writeBack(pa, entry: entry, at: Resource.MemoryOffset.pa)
        replace(index, with: .carveout(updated))
        result.carveouts.append(
            CarveoutRecord(
                entryIndex: index, entryOffset: entry.offset, name: carveout.name, da: da, pa: pa, len: carveout.len,
                flags: carveout.flags, segmentOffset: segmentOffset))
        result.memoryEntries.append(
            MemoryEntry(name: carveout.name, da: da, pa: pa, length: Int(carveout.len), segmentOffset: segmentOffset, region: regionName))
    }

    private mutating func handleDevmem(_ devmem: Resource.Devmem, entry: ResourceTableEntry, index: Int) throws(RemoteprocError) {
        let label = Self.label(of: entry, index: index)
        guard devmem.da != ResourceTable.addressAny else { throw resourceError(label, "da is ANY: device memory needs a fixed address") }
        guard devmem.len > 0 else { throw resourceError(label, "len is 0") }
        let range = Self.describe(da: devmem.da, length: devmem.len)
        guard let region = map.region(containing: UInt64(devmem.da), count: UInt64(devmem.len)) else {
            if let partial = map.regions(overlapping: UInt64(devmem.da), count: UInt64(devmem.len)).first {
                throw resourceError(label, "\(range) crosses the edge of \(partial.label)")
            }
            throw resourceError(label, "\(range) is not in the memory map")
        }
        guard region.kind == .devmem else {
            throw resourceError(label, "\(range) lies in carveout \(region.label), not in a devmem region")
        }
        let pa = region.pa(of: UInt64(devmem.da))
        guard devmem.pa == ResourceTable.addressAny || devmem.pa == pa else {
            throw resourceError(
                label, "pa \(rprocHex(devmem.pa)) disagrees with the memory map: da \(rprocHex(devmem.da)) is pa \(rprocHex(pa)) in \(region.label)")
        }
        result.devmems.append(
            DevmemRecord(
                entryIndex: index, entryOffset: entry.offset, name: devmem.name, da: devmem.da, pa: pa, len: devmem.len,
                flags: devmem.flags, segmentOffset: region.segmentOffset(of: UInt64(devmem.da))))
    }

    private mutating func handleTrace(_ trace: Resource.Trace, entry: ResourceTableEntry, index: Int) throws(RemoteprocError) {
        let label = Self.label(of: entry, index: index)
        guard trace.len > 0 else { throw resourceError(label, "len is 0") }
        guard let segmentOffset = map.translate(da: trace.da, count: trace.len) else {
            throw resourceError(label, "\(Self.describe(da: trace.da, length: trace.len)) is not in the memory map")
        }
        guard result.traces.count < ControlBlock.maxTraces else {
            throw resourceError(label, "more than \(ControlBlock.maxTraces) trace buffers; the control block publishes at most \(ControlBlock.maxTraces)", code: .noSpace)
        }
        result.traces.append(
            TraceRecord(
                index: result.traces.count, entryIndex: index, entryOffset: entry.offset, name: trace.name, da: trace.da,
                len: trace.len, segmentOffset: segmentOffset))
    }

    // MARK: The loaded table

    /// Places the loaded table at `address` (the section's sh_addr) when it lies in a region, otherwise in a
    /// newly allocated carveout `rsctable`; completes ``result``.
    mutating func placeTable(at address: UInt64?) throws(RemoteprocError) {
        let size = loadedTable.bytes.count
        if let address, let region = map.region(containing: address, count: UInt64(size)) {
            result.tablePlacement = TablePlacement(
                da: UInt32(truncatingIfNeeded: address), pa: region.pa(of: address), segmentOffset: region.segmentOffset(of: address),
                size: size, inAllocatedCarveout: false)
        } else {
            let name = ResourceHandling.tableCarveoutName
            guard let (range, region) = allocator.allocate(owner: "carveout '\(name)'", length: UInt64(size)) else {
                throw tooSmall(carveout: name, length: UInt64(size))
            }
            let placement = TablePlacement(
                da: UInt32(truncatingIfNeeded: range.da), pa: region.pa(of: range.da), segmentOffset: region.segmentOffset(of: range.da),
                size: size, inAllocatedCarveout: true)
            result.tablePlacement = placement
            result.memoryEntries.append(
                MemoryEntry(
                    name: name, da: placement.da, pa: placement.pa, length: size, segmentOffset: placement.segmentOffset,
                    region: region.name))
        }
        result.table = table
        result.tableBytes = loadedTable.bytes
    }

    /// Name of the carveout holding the loaded table when its sh_addr is outside the memory map.
    static let tableCarveoutName = "rsctable"
}

import AmpSystem
import AmpWire
import Glibc

/// Builds the device-memory image of one remote processor in its shared-memory segment, following
/// docs/shared-memory.md "Starting a remote" steps 1, 3 and 4 (step 2 is ``ResourceHandler``; step 5,
/// releasing and spawning, is the lifecycle's):
///
/// 1. ``prepare(segment:map:rproc:generation:hostPid:bufferSize:heartbeatPeriodMs:)`` zeroes the segment and
///    writes the control block: magic, layout version, sizes, generation, `hostState = loading`, host pid,
///    buffer size, heartbeat period and the region table; both mailboxes are reset.
/// 2. ``load(firmware:allocation:)`` copies every PT_LOAD segment whose [p_paddr, p_paddr + p_memsz) lies in
///    one region (p_filesz bytes, then zeros up to p_memsz). A segment wholly outside every region is left out
///    and recorded; one that crosses a region's edge is an error. A position-independent image (ET_DYN, a
///    native host executable) has no device addresses: all its segments are left out. Then the loaded table is copied to its placement and `tableOffset`, `tableSize`,
///    `tableDeviceAddress` and the trace records (`da`, `len`, `written` 0) are published.
///
/// Nothing else runs in the segment yet (the remote is spawned afterwards), so plain copies suffice here.
public struct SegmentImage: Sendable {
    public let segment: SharedMemorySegment
    public let map: RemoteMemoryMap
    public let rproc: String

    /// A PT_LOAD segment copied into device memory.
    public struct LoadedSegment: Sendable, Equatable {
        public var index: Int
        public var da: UInt64
        public var segmentOffset: Int
        public var filesz: Int
        public var memsz: Int
        public var region: String
    }

    /// A PT_LOAD segment left out, and why.
    public struct SkippedSegment: Sendable, Equatable {
        public var index: Int
        public var paddr: UInt64
        public var memsz: UInt64
        public var reason: String

        static let positionIndependentReason = "position-independent host executable"
        var isPositionIndependent: Bool { reason == Self.positionIndependentReason }
    }

    /// What ``load(firmware:allocation:)`` did.
    public struct LoadReport: Sendable, Equatable {
        public var loaded: [LoadedSegment] = []
        public var skipped: [SkippedSegment] = []

        /// One line for the boot log: "loaded 2 of 3 PT_LOAD segments into the memory map; left out: segment 0
        /// (outside the memory map)". Empty when the image has no PT_LOAD segment, and for a native
        /// position-independent executable, whose segments are never meant for device memory.
        public var summary: [String] {
            let total = loaded.count + skipped.count
            guard total > 0, !(loaded.isEmpty && skipped.allSatisfy(\.isPositionIndependent)) else { return [] }
            var line = "loaded \(loaded.count) of \(total) PT_LOAD segments into the memory map"
            if !skipped.isEmpty {
                line += "; left out: " + skipped.map { "segment \($0.index) (\($0.reason))" }.joined(separator: ", ")
            }
            return [line]
        }
    }

    // MARK: Step 1: control block

    /// Zeroes `segment` and writes the control block for a new boot; see the type's comment.
    ///
    /// - Throws: ERANGE when the segment is smaller than the map needs; system errors from the segment.
    public static func prepare(
        segment: SharedMemorySegment, map: RemoteMemoryMap, rproc: String, generation: UInt32, hostPid: UInt32,
        bufferSize: UInt32, heartbeatPeriodMs: UInt32, transport: ControlBlock.RpmsgTransport = .virtio, smdEdge: UInt32 = 0
    ) throws(RemoteprocError) -> SegmentImage {
        guard segment.size >= map.segmentSize else {
            throw RemoteprocError.segment(
                rproc: rproc, name: segment.name,
                reason: "is \(rprocHex(segment.size)) bytes, the memory map needs \(rprocHex(map.segmentSize))", code: .outOfRange)
        }
        var page = ByteWriter(count: ControlBlock.size, order: .host)
        page.put(bytes: ControlBlock.magic, at: ControlBlock.magicOffset)
        page.put(ControlBlock.layoutVersion, at: ControlBlock.layoutVersionOffset)
        page.put(UInt32(ControlBlock.size), at: ControlBlock.controlSizeOffset)
        page.put(UInt64(segment.size), at: ControlBlock.segmentSizeOffset)
        page.put(generation, at: ControlBlock.generationOffset)
        page.put(ControlBlock.HostState.loading.rawValue, at: ControlBlock.hostStateOffset)
        page.put(ControlBlock.RemoteState.detached.rawValue, at: ControlBlock.remoteStateOffset)
        page.put(heartbeatPeriodMs, at: ControlBlock.heartbeatPeriodOffset)
        page.put(UInt32(map.regions.count), at: ControlBlock.regionCountOffset)
        page.put(hostPid, at: ControlBlock.hostPidOffset)
        page.put(bufferSize, at: ControlBlock.bufferSizeOffset)
        page.put(transport.rawValue, at: ControlBlock.rpmsgTransportOffset)
        page.put(smdEdge, at: ControlBlock.smdEdgeOffset)
        for region in map.regions {
            region.record.serialise(into: &page, at: ControlBlock.regionRecordOffset(region.index))
        }
        let image = SegmentImage(segment: segment, map: map, rproc: rproc)
        try image.system { () throws(SystemError) in
            try segment.zeroAll()
            try segment.write(page.bytes, at: 0)
            try MailboxLayout.reset(in: segment, at: ControlBlock.mailboxToRemoteOffset)
            try MailboxLayout.reset(in: segment, at: ControlBlock.mailboxToHostOffset)
        }
        return image
    }

    /// An image over a segment that ``prepare(segment:map:rproc:generation:hostPid:bufferSize:heartbeatPeriodMs:)``
    /// already set up (for reading back).
    public init(segment: SharedMemorySegment, map: RemoteMemoryMap, rproc: String) {
        self.segment = segment
        self.map = map
        self.rproc = rproc
    }

    // MARK: Steps 3 and 4: segments, table, traces

    /// Copies the firmware's loadable segments, then the loaded table, and publishes table and traces.
    ///
    /// - Throws: EINVAL naming the PT_LOAD segment that crosses a region's edge; system errors.
    @discardableResult
    public func load(firmware: FirmwareImage, allocation: ResourceAllocation) throws(RemoteprocError) -> LoadReport {
        var report = LoadReport()
        for load in firmware.loadSegments {
            let header = load.header
            guard firmware.hasDeviceAddresses else {
                report.skipped.append(
                    SkippedSegment(index: load.index, paddr: header.paddr, memsz: header.memsz, reason: SkippedSegment.positionIndependentReason))
                continue
            }
            let overflow = header.paddr.addingReportingOverflow(header.memsz).overflow
            let range = "p_paddr \(rprocHex(header.paddr)) p_memsz \(rprocHex(header.memsz))"
            if header.memsz == 0 {
                report.skipped.append(SkippedSegment(index: load.index, paddr: header.paddr, memsz: 0, reason: "p_memsz is 0"))
                continue
            }
            guard !overflow else {
                throw segmentError(firmware, load.index, "\(range): the range wraps around the address space")
            }
            guard let region = map.region(containing: header.paddr, count: header.memsz) else {
                if let crossed = map.regions(overlapping: header.paddr, count: header.memsz).first {
                    throw segmentError(firmware, load.index, "\(range) crosses the edge of memory map \(crossed.label)")
                }
                report.skipped.append(
                    SkippedSegment(index: load.index, paddr: header.paddr, memsz: header.memsz, reason: "outside the memory map"))
                continue
            }
            let offset = region.segmentOffset(of: header.paddr)
            let data = firmware.elf.segmentData(at: load.index) ?? []
            try system { () throws(SystemError) in
                try segment.write(data, at: offset)
                try segment.zero(at: offset + data.count, count: Int(header.memsz) - data.count)
            }
            report.loaded.append(
                LoadedSegment(
                    index: load.index, da: header.paddr, segmentOffset: offset, filesz: data.count, memsz: Int(header.memsz),
                    region: region.name))
        }
        try publish(allocation)
        return report
    }

    /// Copies the loaded table to its placement and publishes it and the trace buffers in the control block.
    public func publish(_ allocation: ResourceAllocation) throws(RemoteprocError) {
        var header = ByteWriter(count: 12, order: .host)
        if let placement = allocation.tablePlacement {
            guard let offset = UInt32(exactly: placement.segmentOffset), let size = UInt32(exactly: allocation.tableBytes.count) else {
                throw RemoteprocError.segment(
                    rproc: rproc, name: segment.name,
                    reason: "the loaded table at segment offset \(rprocHex(placement.segmentOffset)) cannot be published: tableOffset is 32 bits",
                    code: .outOfRange)
            }
            try system { () throws(SystemError) in try segment.write(allocation.tableBytes, at: placement.segmentOffset) }
            header.put(offset, at: 0)
            header.put(size, at: 4)
            header.put(placement.da, at: 8)
        }
        var traces = ByteWriter(count: ControlBlock.maxTraces * ControlBlock.traceRecordSize, order: .host)
        for trace in allocation.traces where (0..<ControlBlock.maxTraces).contains(trace.index) {
            let offset = trace.index * ControlBlock.traceRecordSize
            traces.put(trace.da, at: offset)
            traces.put(trace.len, at: offset + 4)
            traces.put(UInt64(0), at: offset + 8)
        }
        try system { () throws(SystemError) in
            try segment.write(header.bytes, at: ControlBlock.tableOffsetOffset)
            try segment.write(traces.bytes, at: ControlBlock.tracesOffset)
        }
    }

    /// Steps 1, 3 and 4 in one call, for the lifecycle: prepare, load, publish. Returns the boot-log lines
    /// of the load (see ``LoadReport/summary``).
    public static func build(
        segment: SharedMemorySegment, memoryMap: RemoteMemoryMap, firmware: FirmwareImage, allocation: ResourceAllocation,
        generation: UInt32, hostPid: UInt32, bufferSize: UInt32, heartbeatPeriodMs: UInt32, rproc: String,
        transport: ControlBlock.RpmsgTransport = .virtio, smdEdge: UInt32 = 0
    ) throws(RemoteprocError) -> [String] {
        let image = try prepare(
            segment: segment, map: memoryMap, rproc: rproc, generation: generation, hostPid: hostPid, bufferSize: bufferSize,
            heartbeatPeriodMs: heartbeatPeriodMs, transport: transport, smdEdge: smdEdge)
        return try image.load(firmware: firmware, allocation: allocation).summary
    }

    // MARK: Errors

    func system(_ body: () throws(SystemError) -> Void) throws(RemoteprocError) {
        do { try body() } catch { throw RemoteprocError(rproc: rproc, system: error) }
    }

    private func segmentError(_ firmware: FirmwareImage, _ index: Int, _ reason: String) -> RemoteprocError {
        RemoteprocError(rproc: rproc, code: .invalidArgument, message: "firmware \(firmware.path): PT_LOAD segment \(index): \(reason)")
    }
}

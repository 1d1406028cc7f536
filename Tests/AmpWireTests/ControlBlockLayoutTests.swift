import AmpWire
import Testing

/// The control block's layout (docs/shared-memory.md, docs/independent-remote.md): every offset as
/// documented, fields in order without overlap, and the region record's bytes.
@Suite struct ControlBlockLayoutTests {
    @Test func everyFieldSitsAtItsDocumentedOffset() {
        let fields: [(String, Int, Int)] = [
            ("magic", ControlBlock.magicOffset, 8), ("layoutVersion", ControlBlock.layoutVersionOffset, 4),
            ("controlSize", ControlBlock.controlSizeOffset, 4), ("segmentSize", ControlBlock.segmentSizeOffset, 8),
            ("generation", ControlBlock.generationOffset, 4), ("hostState", ControlBlock.hostStateOffset, 4),
            ("remoteState", ControlBlock.remoteStateOffset, 4), ("stopRequest", ControlBlock.stopRequestOffset, 4),
            ("heartbeat", ControlBlock.heartbeatOffset, 8), ("heartbeatPeriod", ControlBlock.heartbeatPeriodOffset, 4),
            ("crashReported", ControlBlock.crashReportedOffset, 4), ("crashType", ControlBlock.crashTypeOffset, 4),
            ("faultAddress", ControlBlock.faultAddressOffset, 8),
            ("crashMessage", ControlBlock.crashMessageOffset, ControlBlock.crashMessageCapacity),
            ("tableOffset", ControlBlock.tableOffsetOffset, 4), ("tableSize", ControlBlock.tableSizeOffset, 4),
            ("tableDeviceAddress", ControlBlock.tableDeviceAddressOffset, 4),
            ("regionCount", ControlBlock.regionCountOffset, 4), ("hostPid", ControlBlock.hostPidOffset, 4),
            ("bufferSize", ControlBlock.bufferSizeOffset, 4), ("rpmsgTransport", ControlBlock.rpmsgTransportOffset, 4),
            ("smdEdge", ControlBlock.smdEdgeOffset, 4), ("smemLock", ControlBlock.smemLockOffset, 4),
            ("mailboxToRemote", ControlBlock.mailboxToRemoteOffset, ControlBlock.mailboxSize),
            ("mailboxToHost", ControlBlock.mailboxToHostOffset, ControlBlock.mailboxSize),
            ("regions", ControlBlock.regionsOffset, ControlBlock.maxRegions * MemoryRegionRecord.size),
            ("traces", ControlBlock.tracesOffset, ControlBlock.maxTraces * ControlBlock.traceRecordSize),
        ]
        let documented = [
            0x000, 0x008, 0x00C, 0x010, 0x018, 0x01C, 0x020, 0x024, 0x028, 0x030, 0x034, 0x038, 0x040, 0x048, 0x100,
            0x104, 0x108, 0x10C, 0x110, 0x114, 0x118, 0x11C, 0x120, 0x180, 0x1C0, 0x200, 0x600,
        ]
        #expect(fields.map(\.1) == documented)
        for (earlier, later) in zip(fields, fields.dropFirst()) {
            #expect(earlier.1 + earlier.2 <= later.1, "\(earlier.0) overlaps \(later.0)")
        }
        let last = fields[fields.count - 1]
        #expect(last.1 + last.2 == 0x680)
        #expect(0x680 <= ControlBlock.size)
        #expect(ControlBlock.size == 4096)
        #expect(ControlBlock.regionRecordOffset(31) == 0x5E0)
        #expect(ControlBlock.traceRecordOffset(7) == 0x670)
        #expect(ControlBlock.RpmsgTransport.virtio.rawValue == 0)
        #expect(ControlBlock.RpmsgTransport.smd.rawValue == 1)
    }

    @Test func regionRecordBytes() throws {
        let record = MemoryRegionRecord(
            da: 0x4000_0000, pa: 0x4010_0000, size: 0x20_0000, kind: .smem, segmentOffset: 0x1_2345_6000, name: "smem")
        var writer = ByteWriter(count: 32, order: .little)
        record.serialise(into: &writer, at: 0)
        #expect(writer.bytes == [
            0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x10, 0x40, 0x00, 0x00, 0x20, 0x00, 0x02, 0x00, 0x00, 0x00,
            0x00, 0x60, 0x45, 0x23, 0x01, 0x00, 0x00, 0x00, 0x73, 0x6D, 0x65, 0x6D, 0x00, 0x00, 0x00, 0x00,
        ])
        #expect(try MemoryRegionRecord.parse(ByteReader(writer.bytes, order: .little), at: 0) == record)
        var bad = writer.bytes
        bad[12] = 3
        #expect(throws: WireError.self) { try MemoryRegionRecord.parse(ByteReader(bad, order: .little), at: 0) }
    }
}

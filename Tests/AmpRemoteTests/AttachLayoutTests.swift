import AmpSystem
import AmpWire
import Glibc
import Testing

@testable import AmpRemote

/// `AttachLayout.read`: what a remote accepts from the control block, and exact errors for what it refuses.
@Suite struct AttachLayoutTests {
    static func read(_ host: TestHost, generation: UInt32 = TestHost.generation) throws(RemoteAttachError) -> AttachLayout {
        try AttachLayout.read(from: host.segment, expectedGeneration: generation, expectedHostPID: getpid())
    }

    /// Expects `read` to fail with `message` (kind `.sharedMemory`, exit status 76).
    static func expectRefusal(_ host: TestHost, _ message: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try read(host)
            Issue.record("attached", sourceLocation: sourceLocation)
        } catch {
            #expect(error.description == message, sourceLocation: sourceLocation)
            #expect(error.kind == .sharedMemory, sourceLocation: sourceLocation)
            #expect(error.exitCode == 76, sourceLocation: sourceLocation)
        }
    }

    @Test func readsEverythingTheHostPublished() throws {
        let host = try TestHost(heartbeatMs: 25)
        let layout = try Self.read(host)
        #expect(layout == AttachLayout(
            segmentSize: 0x11_1000, heartbeatPeriodMs: 25, bufferSize: 512,
            regions: [TestHost.ipcRegion, TestHost.ddrRegion],
            loadedTable: .init(segmentOffset: 0xF_1000, size: 200, deviceAddress: 0x9F0F_0000, table: host.table),
            traceBuffers: [.init(index: 0, da: 0x9F00_0000, len: 0x8000)]))
    }

    @Test func tableOffsetZeroMeansNoTable() throws {
        let host = try TestHost()
        try host.setU32(ControlBlock.tableOffsetOffset, 0)
        #expect(try Self.read(host).loadedTable == nil)
    }

    @Test func refusesATooSmallMapping() throws {
        let name = try SegmentNames.make(instance: "rt-layout", rproc: "r\(UInt32.random(in: 0...UInt32.max))").path
        let segment = try SharedMemorySegment.create(name: name, size: 100)
        #expect(throws: RemoteAttachError(
            kind: .sharedMemory, subject: "segment size",
            reason: "the mapping is 100 bytes, smaller than the 4096-byte control block")) {
            try AttachLayout.read(from: segment, expectedGeneration: 5, expectedHostPID: getpid())
        }
    }

    @Test func refusesWrongHeader() throws {
        var host = try TestHost()
        try host.segment.write(Array("AMPSOC\u{0}\u{1}".utf8), at: 0)
        Self.expectRefusal(host, "control block magic: is 414d50534f430001 (\"AMPSOC??\"), expected \"AMPSOC01\": not an ampsoc segment")

        host = try TestHost()
        try host.setU32(ControlBlock.layoutVersionOffset, 2)
        Self.expectRefusal(host, "control block layoutVersion: is 2, this runtime understands 1")

        host = try TestHost()
        try host.setU32(ControlBlock.controlSizeOffset, 8192)
        Self.expectRefusal(host, "control block controlSize: is 8192, expected 4096")

        host = try TestHost()
        try host.setU32(ControlBlock.segmentSizeOffset, 0x20_0000)
        Self.expectRefusal(host, "control block segmentSize: is 2097152, but the mapping is 1118208 bytes (the control page alone is 4096)")

        host = try TestHost()
        try host.setU32(ControlBlock.hostPidOffset, 1)
        Self.expectRefusal(host, "control block hostPid: is 1, but AMPSOC_HOST_PID is \(getpid())")
    }

    @Test func refusesAnotherBootsGeneration() throws {
        let host = try TestHost()
        #expect(throws: RemoteAttachError(
            kind: .sharedMemory, subject: "control block generation",
            reason: "is 5, but AMPSOC_GENERATION is 4: the segment belongs to another boot")) {
            try Self.read(host, generation: 4)
        }
    }

    @Test func refusesBadRegions() throws {
        var host = try TestHost()
        try host.setU32(ControlBlock.regionCountOffset, 33)
        Self.expectRefusal(host, "control block regionCount: is 33, at most 32 regions fit")

        let ddr = ControlBlock.regionRecordOffset(1)
        host = try TestHost()
        try host.setU32(ddr + 8, 0)
        Self.expectRefusal(host, "control block regions[1] (\"ddr\"): has size 0")

        host = try TestHost()
        try host.setU32(ddr, 0xFFFF_8000)
        Self.expectRefusal(host, "control block regions[1] (\"ddr\"): da 0xffff8000 + size 0x00010000 passes the end of the 32-bit device address space")

        host = try TestHost()
        try host.setU32(ddr + 16, 0x11_0000)
        Self.expectRefusal(host, "control block regions[1] (\"ddr\"): segmentOffset 1114112 + size 65536 is not inside the segment after the control page (segmentSize 1118208)")

        host = try TestHost()
        try host.setU32(ControlBlock.regionRecordOffset(0) + 16, 0)
        Self.expectRefusal(host, "control block regions[0] (\"ipc\"): segmentOffset 0 + size 1048576 is not inside the segment after the control page (segmentSize 1118208)")

        host = try TestHost()
        try host.setU32(ddr + 12, 7)
        Self.expectRefusal(host, "control block region.kind: at offset 556 (0x22c): unknown region kind 7")
    }

    @Test func refusesBadTablePlacementOrContents() throws {
        var host = try TestHost()
        try host.setU32(ControlBlock.tableOffsetOffset, 0x11_1000 - 100)
        Self.expectRefusal(host, "control block tableOffset: 1118108 with tableSize 200 is not inside the segment after the control page (segmentSize 1118208)")

        host = try TestHost()
        try host.setU32(ControlBlock.tableOffsetOffset, 0x800)
        Self.expectRefusal(host, "control block tableOffset: 2048 with tableSize 200 is not inside the segment after the control page (segmentSize 1118208)")

        host = try TestHost()
        try host.setU32(ControlBlock.tableDeviceAddressOffset, 0x9F0E_0000)
        Self.expectRefusal(host, "control block tableDeviceAddress: 0x9f0e0000 does not translate to tableOffset 987136 through the regions")

        host = try TestHost()
        try host.setU32(TestHost.tableSegmentOffset, 2)
        Self.expectRefusal(host, "loaded resource table resource_table.ver: at offset 0 (0x0): version 2, expected 1")

        host = try TestHost()
        try host.setU32(ControlBlock.tableSizeOffset, 100)
        Self.expectRefusal(host, "loaded resource table trace@84: at offset 84 (0x54): truncated: the payload needs 44 bytes, only 12 remain in the 100-byte table")
    }

    @Test func refusesATraceBufferOutsideTheRegions() throws {
        let host = try TestHost()
        try host.setU32(ControlBlock.traceRecordOffset(0), 0x9F0F_FF00)
        Self.expectRefusal(host, "control block traces[0]: da 0x9f0fff00 len 32768 is not inside one memory region")
    }
}

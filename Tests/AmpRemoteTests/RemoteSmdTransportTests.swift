import AmpSMD
import AmpSystem
import AmpTestSupport
import AmpWire
import Glibc
import Testing

/// The runtime's SMD side in a real firmware process, with the test playing the host's edge through AmpSMD's
/// engines on the same segment (region 1 turned into the smem region, `rpmsgTransport = 1`, `smdEdge = 3`).
@Suite(.serialized) struct RemoteSmdTransportTests {
    /// The host's side: the heap prepared as the boot loader does, and the host edge.
    struct SmdHost {
        let host: TestHost
        let edge: SmdHostEdge
        let heap: SmemHeap

        init() throws {
            host = try TestHost()
            var smem = TestHost.ddrRegion
            smem.kind = .smem
            smem.name = "smem"
            var writer = ByteWriter(count: MemoryRegionRecord.size, order: .host)
            smem.serialise(into: &writer, at: 0)
            try host.segment.write(writer.bytes, at: ControlBlock.regionRecordOffset(1))
            try host.setU32(ControlBlock.rpmsgTransportOffset, ControlBlock.RpmsgTransport.smd.rawValue)
            try host.setU32(ControlBlock.smdEdgeOffset, 3)
            let region = try SmemRegion(base: host.segment.base + Int(smem.segmentOffset), size: Int(smem.size))
            heap = try SmemHeap(region: region, lock: try SmemSpinlock(word: host.segment.base + ControlBlock.smemLockOffset, owner: 1))
            heap.initialize()
            edge = SmdHostEdge(heap: heap, edgeID: 3)
        }

        /// Scans until the remote created `name` and announced it (OPENING), then runs the open handshake.
        func open(_ name: String, process: RemoteProcess) throws -> SmdChannel {
            var found: SmdChannel?
            #expect(try eventually {
                _ = try edge.scan()
                found = edge.channel(named: name)
                return try found?.readRemoteState() == .opening
            })
            let channel = try #require(found)
            try channel.beginOpen(now: .now)
            try process.toRemote.ring(notifyID: 0)
            #expect(try eventually {
                let step = try channel.continueOpen(now: .now)
                if step.kickRemote { try process.toRemote.ring(notifyID: 0) }
                return step.isOpen
            })
            return channel
        }
    }

    @Test func theEchoFirmwareServesItsChannelOverSmd() throws {
        let smd = try SmdHost()
        let process = try smd.host.spawn("ampsoc-fw-echo")
        let channel = try smd.open("rpmsg-echo", process: process)
        #expect(channel.table == 0)
        #expect(channel.cid == 0)
        #expect(channel.layout == .byte)
        #expect(channel.geometry.size == 8192)
        #expect(channel.maximumPayload == 8171)

        for payload in [[0x42], [UInt8](repeating: 9, count: 8171), Array("over smd".utf8)] as [[UInt8]] {
            #expect(try channel.send(payload) == .sent)
            try process.toRemote.ring(notifyID: 0)
            var echoed: [[UInt8]] = []
            #expect(try eventually {
                _ = try channel.handleInterrupt { echoed.append(Array($0)); return true }
                return !echoed.isEmpty
            })
            #expect(echoed == [payload])
        }

        try smd.host.requestStop(process)
        #expect(try process.waitForExit() == .exited(0))
        // The orderly stop closes the remote's half.
        #expect(try channel.readRemoteState() == .closed)
        let lines = try smd.host.traceLines()
        #expect(lines.contains("rpmsg: smd edge 3 attached (smem 65536 bytes), channels of 8192-byte FIFOs, mtu 8171"))
        #expect(lines.contains("rpmsg: smd channel \"rpmsg-echo\" (table 0, cid 0) created and opening"))
        #expect(lines.contains("rpmsg: stopping (smd edge 3): received 3, sent 3, dropped 0, held 0"))
    }

    @Test func aGarbageIndexFromTheHostIsAFatalCrash() throws {
        let smd = try SmdHost()
        let process = try smd.host.spawn("ampsoc-fw-echo")
        let channel = try smd.open("rpmsg-echo", process: process)
        // apps tx.head (byte layout: offset 16 of the pair) far outside the 8 KiB FIFO.
        let info = try smd.heap.item(14 + channel.cid)
        try smd.host.segment.write([0xF0, 0xFF, 0xFF, 0x7F], at: Int(TestHost.ddrRegion.segmentOffset) + info.offset + 16)
        try process.toRemote.ring(notifyID: 0)
        #expect(try eventually { try smd.host.crashRecord().reported == 1 })
        let record = try smd.host.crashRecord()
        #expect(record.type == ControlBlock.CrashType.fatalError.rawValue)
        #expect(record.message.hasPrefix("rpmsg: host protocol violation: smd: channel 'rpmsg-echo' rx.head: index 2147483632"))
        #expect(try smd.host.remoteState() == ControlBlock.RemoteState.halted.rawValue)
        _ = try process.child.terminate(grace: .milliseconds(100))
    }
}

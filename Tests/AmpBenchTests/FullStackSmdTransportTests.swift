import AmpBench
import AmpSystem
import Glibc
import Testing

@testable import AmpCLI

/// The full-stack transport with the remote on an SMD edge (the "smd" column) against the real
/// ampsoc-fw-bench: the host driver binds to the two channels by name, echoes (copying replies: SMD has no
/// zero-copy send) carry their tag back, also beyond virtio's 496 bytes, callback-driven round trips run, the
/// sink counts exactly what was sent through the 8 KiB FIFO, and shutting down leaves nothing. No assertion on
/// speed.
extension BenchTests {
    @Test func fullStackOverSmdEchoesAndCounts() throws {
        let transport = try FullStackBenchTransport.start(transport: .smd)
        let firmware = transport.firmwarePID
        #expect(BenchTestSupport.processExists(firmware))
        #expect(transport.transport == .smd)
        #expect(transport.name == "ampsoc (rpmsg over SMD)")
        #expect(transport.instance.hasPrefix("bench-smd"))
        #expect(try Self.segments(of: transport).count == 1)
        // 8 KiB FIFO less one byte and the 20-byte packet header.
        #expect(transport.maximumPayloadSize == 8171)
        #expect(transport.idleProcessIDs == [firmware, getpid()])

        for size in [16, 496, 8171] {
            for _ in 0..<10 { try transport.roundTrip(size: size) }
        }
        for size in [16, 496] {
            let samples = try #require(try transport.timedRoundTrips(size: size, count: 200, timeLimit: .seconds(5)))
            #expect(samples.count == 200)
            #expect(samples.allSatisfy { $0 > 0 })
        }
        // Round trips driven by the callback leave the tag where a single round trip continues it.
        try transport.roundTrip(size: 16)
        #expect(try transport.sinkCount() == 0)
        try transport.sendData(size: 16, count: 3)
        #expect(try transport.sinkCount() == 3)
        // Far more than the FIFO holds (16 packets of 496 bytes): blocking sends wait for the remote to read.
        try transport.stream(size: 496, count: 700)
        try transport.sendData(size: 16, count: 2)
        #expect(throws: BenchError.protocolViolation(transport: transport.name, detail: "the sink counted 7 messages, 5 were sent")) {
            try transport.stream(size: 16, count: 5)
        }
        #expect(throws: BenchError.payloadSize(transport: transport.name, size: 8172, minimum: 16, maximum: 8171)) {
            try transport.roundTrip(size: 8172)
        }

        try transport.shutDown()
        #expect(!BenchTestSupport.processExists(firmware))
        #expect(try Self.segments(of: transport).isEmpty)
    }

    @Test func smdProfileAddsAnSmemRegionBesideTheIpcCarveout() throws {
        let virtio = FullStackTopology.profile(firmware: "/bin/true", transport: .virtio).remoteProcessors
        let smd = FullStackTopology.profile(firmware: "/bin/true", transport: .smd).remoteProcessors
        #expect(virtio.map(\.rpmsgTransport) == [.virtio])
        #expect(virtio.map(\.smdEdge) == [nil])
        #expect(virtio.first?.memory.map(\.name) == ["text", "data", "ipc", "l4cfg"])
        #expect(smd.map(\.rpmsgTransport) == [.smd])
        #expect(smd.map(\.smdEdge) == [0])
        let smem = try #require(smd.first?.memory.last)
        #expect(smd.first?.memory.map(\.name) == ["text", "data", "ipc", "l4cfg", "smem"])
        #expect([smem.kind == .smem, smem.da == 0x9F10_0000, smem.pa == 0x9D30_0000, smem.size == 0x10_0000] == [true, true, true, true])
        try FullStackTopology.profile(firmware: "/bin/true", transport: .smd).validate()
    }
}

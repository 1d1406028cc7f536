import AmpSystem
import Glibc
import Testing

@testable import AmpBench

/// The baseline transports against real peer processes: messages flow, bad sizes are refused, the peer exits 0
/// when shut down, and nothing is left in /dev/shm or the process table. No assertion on speed.
extension BenchTests {
    @Test func rawSharedMemoryTransport() throws {
        let transport = try RawSharedMemoryTransport.start()
        let peer = transport.peerProcessID
        // The name is unlinked as soon as the peer has mapped the segment.
        #expect(access("/dev/shm" + transport.segmentName, F_OK) != 0)
        #expect(SegmentNames.parse(transport.segmentName)?.creatorPID == getpid())
        #expect(transport.maximumPayloadSize == 496)
        #expect(transport.idleProcessIDs.isEmpty)
        for size in [16, 100, 496] {
            for _ in 0..<50 { try transport.roundTrip(size: size) }
        }
        // More than the ring holds, and a count that leaves the ring indices unaligned.
        try transport.stream(size: 16, count: 1_000)
        try transport.stream(size: 496, count: 257)
        try transport.roundTrip(size: 16)
        #expect(throws: BenchError.payloadSize(transport: "raw shared memory", size: 497, minimum: 16, maximum: 496)) {
            try transport.roundTrip(size: 497)
        }
        #expect(throws: BenchError.payloadSize(transport: "raw shared memory", size: 15, minimum: 16, maximum: 496)) {
            try transport.stream(size: 15, count: 1)
        }
        try transport.shutDown()
        try transport.shutDown()
        #expect(!BenchTestSupport.processExists(peer))
    }

    @Test func seqpacketTransport() throws {
        let transport = try SeqpacketTransport.start()
        let peer = transport.peerProcessID
        #expect(transport.maximumPayloadSize == 496)
        for size in [16, 100, 496] {
            for _ in 0..<50 { try transport.roundTrip(size: size) }
        }
        try transport.stream(size: 16, count: 1_000)
        try transport.stream(size: 496, count: 3)
        try transport.roundTrip(size: 496)
        #expect(throws: BenchError.payloadSize(transport: "SOCK_SEQPACKET", size: 497, minimum: 16, maximum: 496)) {
            try transport.stream(size: 497, count: 1)
        }
        try transport.shutDown()
        #expect(!BenchTestSupport.processExists(peer))
    }

    @Test func measurementsCountTheirSamples() throws {
        let transport = try RawSharedMemoryTransport.start()
        defer { try? transport.shutDown() }
        let configuration = BenchConfiguration(
            roundTripWarmup: 10, roundTripIterations: 300, roundTripTimeLimit: .seconds(30), streamBatch: 1_000,
            throughputDuration: .milliseconds(1), idleWindow: .milliseconds(1))
        let latency = try BenchMeasurement.roundTrips(transport, size: 16, configuration: configuration)
        #expect(latency.samples == 300)
        #expect(latency.minimumMicroseconds > 0)
        #expect(latency.minimumMicroseconds <= latency.medianMicroseconds)
        #expect(latency.medianMicroseconds <= latency.p99Microseconds)
        let throughput = try BenchMeasurement.throughput(transport, size: 496, configuration: configuration)
        // Whole batches only: at least one, and the rate is consistent with the count and the window.
        #expect(throughput.messages > 0 && throughput.messages % 1_000 == 0)
        #expect(abs(throughput.messagesPerSecond * throughput.seconds - Double(throughput.messages)) < 1e-3)
        #expect(abs(throughput.megabytesPerSecond - throughput.messagesPerSecond * 496 / 1e6) < 1e-6)
    }

    @Test func idlePeerUsesAlmostNoCPU() throws {
        let transport = try RawSharedMemoryTransport.start()
        defer { try? transport.shutDown() }
        for _ in 0..<100 { try transport.roundTrip(size: 16) }
        try transport.stream(size: 496, count: 500)
        // The peer now sleeps in its doorbell wait (futex) until the next ring.
        let percent = try CPUUsageMeter.percentOfOneCore(pids: [transport.peerProcessID], window: .seconds(1))
        #expect(percent >= 0)
        #expect(percent < 5)
    }

    @Test func peerThatCannotAttachIsReported() throws {
        let missing = "/ampsoc.bench.1-1.missing\(getpid())"
        do {
            _ = try BenchPeerProcess.start(transport: "raw shared memory", mode: "raw-shm", arguments: ["--segment", missing])
            Issue.record("a peer without its segment became ready")
        } catch {
            guard case .peerFailed(let transport, let detail) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(transport == "raw shared memory")
            #expect(detail.hasSuffix("ampsoc-bench-peer exited with code 1 before it was ready"))
        }
        #expect(BenchTestSupport.benchPeers(startedBy: getpid()).isEmpty)
    }

    @Test func peerCommandLineErrors() {
        #expect(BenchPeerMain.run([]) == 2)
        #expect(BenchPeerMain.run(["bogus"]) == 2)
        #expect(BenchPeerMain.run(["raw-shm", "--parent"]) == 2)
        #expect(BenchPeerMain.run(["seqpacket", "--ready-fd", "9"]) == 2)
    }
}

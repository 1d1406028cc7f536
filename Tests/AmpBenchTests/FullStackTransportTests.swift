import AmpBench
import AmpSystem
import Glibc
import Testing

@testable import AmpCLI

/// The full-stack transport in this process against the real ampsoc-fw-bench: echoes carry their tag back, the
/// sink counts exactly what was sent and the count check catches a mismatch, and every way out (normal shutdown,
/// a crashed remote) leaves no firmware process and no segment behind. No assertion on speed.
extension BenchTests {
    @Test func fullStackTransportEchoesAndCounts() throws {
        let transport = try FullStackBenchTransport.start()
        let firmware = transport.firmwarePID
        #expect(BenchTestSupport.processExists(firmware))
        #expect(try Self.segments(of: transport).count == 1)
        #expect(transport.name == "ampsoc (rpmsg over virtio)")
        #expect(transport.maximumPayloadSize == 496)
        #expect(transport.idleProcessIDs == [firmware, getpid()])

        for size in [16, 100, 496] {
            for _ in 0..<20 { try transport.roundTrip(size: size) }
        }
        // The sink's count restarts at every control message.
        #expect(try transport.sinkCount() == 0)
        try transport.sendData(size: 16, count: 3)
        #expect(try transport.sinkCount() == 3)
        #expect(try transport.sinkCount() == 0)
        // More messages than the 256 transmit buffers: blocking sends wait for the remote to return buffers.
        try transport.stream(size: 496, count: 700)
        try transport.stream(size: 16, count: 1)
        // Two messages the stream does not know about: the sink reports 7 for 5, and the check says so.
        try transport.sendData(size: 16, count: 2)
        #expect(throws: BenchError.protocolViolation(transport: transport.name, detail: "the sink counted 7 messages, 5 were sent")) {
            try transport.stream(size: 16, count: 5)
        }
        try transport.stream(size: 16, count: 5)
        try transport.roundTrip(size: 16)
        #expect(throws: BenchError.payloadSize(transport: transport.name, size: 497, minimum: 16, maximum: 496)) {
            try transport.roundTrip(size: 497)
        }
        #expect(throws: BenchError.payloadSize(transport: transport.name, size: 15, minimum: 16, maximum: 496)) {
            try transport.stream(size: 15, count: 1)
        }

        try transport.shutDown()
        try transport.shutDown()
        #expect(!BenchTestSupport.processExists(firmware))
        #expect(try Self.segments(of: transport).isEmpty)
    }

    @Test func fullStackTransportReportsACrashedRemoteAndLeavesNothing() throws {
        let transport = try FullStackBenchTransport.start()
        let firmware = transport.firmwarePID
        try transport.roundTrip(size: 16)
        #expect(kill(firmware, SIGKILL) == 0)
        // Whether the send fails (the link is down) or the echo never comes, the crash is what is reported.
        // (The host reports the crash before it takes the link down.)
        var failure: BenchError?
        do {
            for _ in 0..<1_000 { try transport.roundTrip(size: 16) }
        } catch {
            failure = error
        }
        guard case .peerFailed(let name, let detail)? = failure else {
            Issue.record("expected a peer failure, got \(String(describing: failure))")
            return
        }
        #expect(name == transport.name)
        #expect(detail.hasPrefix("ipu: crash (exit): killed by signal 9 ("), "\(detail)")
        // Shutting down still tears everything down, and says the remote crashed.
        #expect(throws: BenchError.peerFailed(transport: transport.name, detail: "ipu: crash (exit): killed by signal 9")) {
            try transport.shutDown()
        }
        #expect(!BenchTestSupport.processExists(firmware))
        #expect(try Self.segments(of: transport).isEmpty)
    }

    /// The /dev/shm names of `transport`'s topology (created by this process, its instance name).
    static func segments(of transport: FullStackBenchTransport) throws -> [String] {
        try BenchTestSupport.segments(createdBy: getpid()).filter { SegmentNames.parse($0)?.instance == transport.instance }
    }
}

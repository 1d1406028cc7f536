import Glibc

/// One column of `ampsoc bench`: a way for this process to exchange messages with a peer process on the same
/// machine. The measurement code (``BenchMeasurement``) only calls these operations, so every column is timed
/// the same way; a transport owns its peer process and whatever connects the two (a segment, a socket pair).
///
/// Conformers: ``RawSharedMemoryTransport`` (raw ping-pong slots and an SPSC ring with the project's
/// `Doorbell`), ``SeqpacketTransport`` (an AF_UNIX SOCK_SEQPACKET socket pair), and later the full ampsoc
/// stack (rpmsg header, vring, doorbell) as the "ampsoc" column.
///
/// Payload sizes run from ``BenchTransport/minimumPayloadSize`` to ``maximumPayloadSize``; the content of a
/// payload is the transport's business (it may put a kind byte in it).
public protocol BenchTransport: AnyObject {
    /// Short name for messages and errors, e.g. "raw shared memory".
    var name: String { get }

    /// The largest payload one message carries (496 bytes: a 512-byte buffer less a 16-byte header).
    var maximumPayloadSize: Int { get }

    /// Sends one message of `size` payload bytes to the peer and returns once the peer's echo of it (the same
    /// number of bytes) has been received and copied out. One call is one timed round trip.
    func roundTrip(size: Int) throws(BenchError)

    /// Runs up to `count` round trips of `size` payload bytes back to back, driven by the transport itself
    /// rather than by one ``roundTrip(size:)`` call each, and returns the duration of each in nanoseconds (fewer
    /// than `count` when `timeLimit` ran out; stop at the first round trip that ends past it). For a stack
    /// whose answers arrive on a thread of its own: it can send the next ping from there, as Linux's
    /// rpmsg_client_sample does, instead of handing every answer over to the measuring thread.
    /// nil (the default): not supported, the harness times ``roundTrip(size:)`` calls.
    func timedRoundTrips(size: Int, count: Int, timeLimit: Duration) throws(BenchError) -> [UInt64]?

    /// Sends `count` messages of `size` payload bytes one way as fast as the transport allows, and returns once
    /// the peer has received (copied out) all of them, so the caller's clock covers delivery, not just sending.
    func stream(size: Int, count: Int) throws(BenchError)

    /// The processes that make up this transport's topology when it sits idle (host helpers and remotes),
    /// whose CPU use ``CPUUsageMeter`` measures for the idle-CPU target. Empty: no idle measurement for this
    /// transport (the baselines; only the full ampsoc stack is held to the idle target).
    var idleProcessIDs: [pid_t] { get }

    /// Asks the peer to exit, waits for it (killing it if it does not exit in time), and releases the segment or
    /// sockets. Throws if the peer did not end cleanly (non-zero exit or a signal). Safe to call twice.
    func shutDown() throws(BenchError)
}

extension BenchTransport {
    public func timedRoundTrips(size: Int, count: Int, timeLimit: Duration) throws(BenchError) -> [UInt64]? { nil }

    /// The smallest payload the harness sends: room for a kind byte and an 8-byte count.
    public static var minimumPayloadSize: Int { 16 }

    /// Throws ``BenchError/payloadSize(transport:size:minimum:maximum:)`` unless `size` is within
    /// 16...``maximumPayloadSize``.
    public func checkPayloadSize(_ size: Int) throws(BenchError) {
        guard size >= Self.minimumPayloadSize, size <= maximumPayloadSize else {
            throw .payloadSize(transport: name, size: size, minimum: Self.minimumPayloadSize, maximum: maximumPayloadSize)
        }
    }
}

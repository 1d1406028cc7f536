// The "rpmsg-bench-sink" service of ampsoc-fw-bench: it counts what the host streams to it, and tells the host
// the count on request, so `ampsoc bench` can time one-way throughput up to the moment the remote had every
// message. The protocol, per message the endpoint receives (payload bytes):
//
//   length  meaning                    answer
//   1       control: "how many?"       4 bytes to the sender: the data messages received since the previous
//                                       control message, u32 little-endian at offset 0; the count restarts at 0
//   other   data (0 or 2...496 bytes)  none; the message is counted, its bytes are not read
//
// The control byte's value is ignored (the host sends 'C', 0x43). The count wraps at 2^32 (a batch is far
// smaller). The reply is a blocking send: the host keeps buffers posted, so it waits only while the host's
// receive side is full.

import AmpRemote
import AmpWire

/// Counts the messages sent to an endpoint and reports the count when asked (see the protocol above).
final class BenchSink {
    /// Length of the control message that asks for the count.
    static let controlLength = 1
    /// Length of the count reply.
    static let replyLength = 4

    /// The endpoint, announced to the host under the service name.
    private(set) var endpoint: RpmsgRemoteEndpoint?
    /// Data messages since the last control message.
    var pending: UInt32 { tally.pending }
    /// Data messages since start.
    var total: UInt64 { tally.total }
    /// Count replies that could not be sent.
    var failures: Int { tally.failures }
    private let tally = Tally()

    /// The counters, captured strongly by the endpoint's callback: unlike an `unowned self` capture, that
    /// costs no reference counting per message (the endpoint does not keep the sink alive, so no cycle).
    private final class Tally {
        // @exclusivity(unchecked): counted on every message, by the message loop's thread only.
        @exclusivity(unchecked) var pending: UInt32 = 0
        @exclusivity(unchecked) var total: UInt64 = 0
        @exclusivity(unchecked) var failures = 0
    }

    /// Creates the endpoint `name` on `core`'s rpmsg device (announced to the host).
    init(core: RemoteCore, name: String) throws(RpmsgRemoteError) {
        let tally = self.tally
        // The core is captured unretained: it lives as long as the process (RemoteCore.run never returns),
        // and an `unowned` (or any strong) use of it would cost reference counting on every message.
        let core = Unmanaged.passUnretained(core)
        endpoint = try core.takeUnretainedValue().rpmsg.createEndpoint(name: name) { message in
            Self.receive(message, tally: tally, core: core)
        }
    }

    /// The count reply for `count`: u32 little-endian at offset 0.
    static func reply(count: UInt32) -> [UInt8] {
        var writer = ByteWriter(count: replyLength, order: .little)
        writer.put(count, at: 0)
        return writer.bytes
    }

    private static func receive(_ message: RpmsgReceivedMessage, tally: Tally, core: Unmanaged<RemoteCore>) {
        guard message.length == controlLength else {
            tally.pending &+= 1
            tally.total &+= 1
            return
        }
        let count = tally.pending
        tally.pending = 0
        do {
            try message.reply(reply(count: count))
        } catch {
            tally.failures += 1
            core.takeUnretainedValue().trace("rpmsg-bench-sink: the count reply (\(count)) to 0x\(String(message.source, radix: 16)) failed: \(error)")
        }
    }
}

import AmpRpmsg
import Synchronization

/// The host rpmsg driver of `ampsoc bench`'s full-stack column: binds to the two channels ampsoc-fw-bench
/// announces (``FullStackBenchProtocol/echoChannel`` and ``FullStackBenchProtocol/sinkChannel``) and hands
/// what arrives on them to the measuring thread through two ``ReplyMailbox``es.
///
/// Callbacks run on the link's service thread: an echo goes to the ``EchoPingPong`` run when one is active
/// (it answers with the next ping), otherwise it is posted as (tag, length); a count reply is posted as
/// (count, length), with `UInt64.max` as the first word when the payload does not parse.
final class FullStackBenchDriver: RpmsgDriver {
    let name = "ampsoc_bench"
    var idTable: [String] { [FullStackBenchProtocol.echoChannel, FullStackBenchProtocol.sinkChannel] }

    /// Echoes from the echo service.
    let echoes: ReplyMailbox
    /// Count replies from the sink.
    let counts: ReplyMailbox
    /// Round trips driven from the echo callback (echoes go to it while it runs a round, else to ``echoes``).
    let pingPong: EchoPingPong

    private struct Bound {
        var echo: RpmsgEndpoint?
        var sink: RpmsgEndpoint?
        var removals = 0
    }

    private let bound = Mutex(Bound())
    /// The echo channel's identity while it is bound (0 otherwise): callbacks tell the channels apart with one
    /// load instead of comparing names.
    private let echoChannelID = Atomic<UInt>(0)

    init(spinBudget: Duration) {
        echoes = ReplyMailbox(spinBudget: spinBudget)
        counts = ReplyMailbox(spinBudget: spinBudget)
        pingPong = EchoPingPong(spinBudget: spinBudget)
    }

    /// The endpoints of both channels once both are bound (nil until then, and again after a removal).
    var endpoints: (echo: RpmsgEndpoint, sink: RpmsgEndpoint)? {
        bound.withLock { bound in
            guard let echo = bound.echo, let sink = bound.sink else { return nil }
            return (echo, sink)
        }
    }

    /// How many times a bench channel went away (the remote destroyed it, stopped or crashed).
    var removals: Int { bound.withLock { $0.removals } }

    func probe(_ channel: RpmsgChannel) throws(RpmsgError) {
        guard let endpoint = channel.endpoint else {
            throw RpmsgError(.noDevice, "\(channel.deviceName): probed without an endpoint")
        }
        bound.withLock { bound in
            if channel.name == FullStackBenchProtocol.echoChannel {
                bound.echo = endpoint
                echoChannelID.store(Self.identity(of: channel), ordering: .releasing)
            } else {
                bound.sink = endpoint
            }
        }
    }

    private static func identity(of channel: RpmsgChannel) -> UInt {
        UInt(bitPattern: ObjectIdentifier(channel))
    }

    func remove(_ channel: RpmsgChannel) {
        bound.withLock { bound in
            bound.removals += 1
            if channel.name == FullStackBenchProtocol.echoChannel {
                bound.echo = nil
                echoChannelID.store(0, ordering: .releasing)
            } else {
                bound.sink = nil
            }
        }
    }

    func callback(_ channel: RpmsgChannel, payload: [UInt8], source: UInt32) {
        payload.withUnsafeBytes { callback(channel, bytes: $0, source: source) }
    }

    /// Reads every reply where it lies in the receive buffer (no copy on the timed path).
    func callback(_ channel: RpmsgChannel, bytes payload: UnsafeRawBufferPointer, source: UInt32) {
        if echoChannelID.load(ordering: .acquiring) == Self.identity(of: channel) {
            if pingPong.echoArrived(payload) { return }
            echoes.post(first: FullStackBenchProtocol.tag(of: payload) ?? UInt64.max, second: payload.count)
        } else {
            counts.post(first: FullStackBenchProtocol.count(of: payload).map(UInt64.init) ?? UInt64.max, second: payload.count)
        }
    }
}

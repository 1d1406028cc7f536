import AmpRpmsg
import AmpSystem
import AmpWire
import Synchronization

/// Round trips of the full-stack column driven from the host driver's callback, the way Linux's
/// rpmsg_client_sample ping-pongs: the measuring thread sends the first ping; from then on the echo callback,
/// which runs on the link's service thread, checks the echo (length and tag), takes a timestamp and sends the
/// next ping itself. Only the service thread and the remote's message loop are on the path, as only the two
/// threads of the raw ping-pong are; the measuring thread waits for the end of the run in a ``ReplyMailbox``.
///
/// Every round trip still crosses the whole stack: rpmsg header, vring1, the doorbell, the remote runtime's
/// loop and endpoint, the zero-copy echo, vring0, the doorbell, the link's service thread, the rpmsg core's
/// dispatch and the driver callback. Sample i is the time between callback i-1 (or the first send) and
/// callback i, so it includes sending the next ping.
///
/// Threading: the measuring thread sets the run up, then publishes it (`active`, release) before its first
/// send; the callback (acquire) owns the state until it ends the run, clears `active` and posts to ``done``
/// (release); the measuring thread reads the result after its wait on ``done`` returned (acquire).
final class EchoPingPong: @unchecked Sendable {
    /// Posted once per run, when it ends (all round trips done, time up, or a failure).
    let done: ReplyMailbox
    private let active = Atomic<Bool>(false)
    @exclusivity(unchecked) private var endpoint: RpmsgEndpoint?
    @exclusivity(unchecked) private var ping = FullStackBenchProtocol.payload(size: 16).bytes
    @exclusivity(unchecked) private var tag: UInt64 = 0
    @exclusivity(unchecked) private var target = 0
    @exclusivity(unchecked) private var deadline: UInt64 = 0
    @exclusivity(unchecked) private var last: UInt64 = 0
    @exclusivity(unchecked) private var samples: [UInt64] = []
    @exclusivity(unchecked) private var failure: String?

    init(spinBudget: Duration) {
        done = ReplyMailbox(spinBudget: spinBudget)
    }

    /// Whether a run is going on (echoes belong to it).
    var isActive: Bool { active.load(ordering: .acquiring) }

    /// Sets up a run of `count` round trips of `size` bytes on `endpoint` (at most until `timeLimit` from
    /// now) and sends its first ping. Returns the number of ``done`` posts to wait for.
    func start(on endpoint: RpmsgEndpoint, size: Int, count: Int, timeLimit: Duration, firstTag: UInt64) throws(RpmsgError) {
        self.endpoint = endpoint
        if ping.count != size { ping = FullStackBenchProtocol.payload(size: size).bytes }
        tag = firstTag
        FullStackBenchProtocol.setTag(tag, in: &ping)
        target = count
        samples = []
        samples.reserveCapacity(count)
        failure = nil
        last = MonotonicClock.nanoseconds()
        deadline = last &+ MonotonicClock.nanoseconds(of: timeLimit)
        active.store(true, ordering: .releasing)
        do {
            try endpoint.send(ping)
        } catch {
            active.store(false, ordering: .releasing)
            throw error
        }
    }

    /// The measuring thread gives up on a run (the remote failed): later echoes are no longer answered.
    func abandon() {
        active.store(false, ordering: .releasing)
    }

    /// The outcome of the run that ``done`` reported: the samples, or why it failed.
    var result: (samples: [UInt64], failure: String?, lastTag: UInt64) { (samples, failure, tag) }

    /// The echo callback's part (service thread): false when no run is active (the echo is not ours).
    func echoArrived(_ payload: UnsafeRawBufferPointer) -> Bool {
        guard active.load(ordering: .acquiring) else { return false }
        let now = MonotonicClock.nanoseconds()
        let echoedTag = FullStackBenchProtocol.tag(of: payload)
        guard payload.count == ping.count, echoedTag == tag else {
            finish(failure: "echo of \(payload.count) bytes with tag \(echoedTag.map { String($0) } ?? "none") "
                + "for a \(ping.count)-byte ping with tag \(tag)")
            return true
        }
        samples.append(now &- last)
        last = now
        guard samples.count < target, now < deadline, let endpoint else {
            finish(failure: nil)
            return true
        }
        tag &+= 1
        FullStackBenchProtocol.setTag(tag, in: &ping)
        do {
            try endpoint.send(ping)
        } catch {
            finish(failure: "sending ping \(samples.count + 1) from the echo callback failed: \(error.message)")
        }
        return true
    }

    private func finish(failure: String?) {
        self.failure = failure
        active.store(false, ordering: .releasing)
        done.post(first: UInt64(samples.count), second: failure == nil ? 0 : 1)
    }
}

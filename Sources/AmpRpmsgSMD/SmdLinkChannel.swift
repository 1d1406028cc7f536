// The link's record of one discovered SMD channel: the AmpSMD engine plus what the transport adds on top
// (handshake phase and retry policy, the rpmsg channel while it is on the bus, and the endpoint that last
// sent on the channel, which receives the channel's inbound messages).
//
// Retry after a failed handshake (Linux does not retry; the remote would have to re-register): the host tries
// again, while the remote is OPENING or OPENED, as soon as the remote's state differs from the one it had when
// the handshake failed (a remote seen leaving OPENING/OPENED forgets the failure altogether), or else once a
// back-off has passed (1 s, doubling per failure up to 16 s, reset by a successful open).
//
// Only touched with the link's lock held.

import AmpRpmsg
import AmpSMD
import AmpWire

final class SmdLinkChannel {
    /// The AmpSMD engine (host side).
    let engine: SmdChannel
    /// The pseudo remote address (see SmdRpmsgAddress).
    let address: UInt32
    /// Where the host's handshake stands.
    var phase = SmdRpmsgChannelPhase.closed
    /// The rpmsg channel while the SMD channel is open and on the bus (set once the bus created it).
    var rpmsgChannel: RpmsgChannel?
    /// Address of the host endpoint that last sent on the channel (inbound goes there while it exists).
    var lastSender: UInt32?
    /// After a failed handshake: the remote state then, and when to try again regardless.
    var retry: Retry?

    struct Retry {
        var remoteStateAtFailure: SmdChannelState
        var notBefore: ContinuousClock.Instant
    }

    /// Back-off before the next attempt after a failure; doubles per failure up to `maximumBackoff`.
    var backoff = SmdLinkChannel.initialBackoff
    static let initialBackoff: Duration = .seconds(1)
    static let maximumBackoff: Duration = .seconds(16)

    init(engine: SmdChannel) {
        self.engine = engine
        address = SmdRpmsgAddress.address(table: engine.table, cid: engine.cid)
    }

    var name: String { engine.name }

    /// Whether a new open may start now, given the remote's current state.
    func mayOpen(remote: SmdChannelState, now: ContinuousClock.Instant) -> Bool {
        guard phase == .closed, engine.state == .closed, remote.isOpeningOrOpened else { return false }
        guard let retry else { return true }
        return remote != retry.remoteStateAtFailure || now >= retry.notBefore
    }

    /// Records a failed handshake: the next attempt waits for a remote state change or the back-off.
    func noteFailure(remote: SmdChannelState, now: ContinuousClock.Instant) {
        retry = Retry(remoteStateAtFailure: remote, notBefore: now.advanced(by: backoff))
        backoff = min(backoff * 2, Self.maximumBackoff)
    }

    /// Notes the remote's state on every pass: a remote that left OPENING/OPENED will announce the channel
    /// anew, so the failure is forgotten (the back-off is kept, against a flapping remote).
    func observe(remote: SmdChannelState) {
        if !remote.isOpeningOrOpened { retry = nil }
    }

    /// Records a successful open: the retry state is forgotten.
    func noteOpened() {
        retry = nil
        backoff = Self.initialBackoff
    }

    /// Whether time alone can change something (a handshake deadline or a retry back-off is pending).
    var hasDeadline: Bool { phase == .opening || retry != nil }
}

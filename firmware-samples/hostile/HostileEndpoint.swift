// The endpoint of ampsoc-fw-hostile: announced as "rpmsg-hostile", it traces each message from the host and
// commits the chosen violation once, a set delay after DRIVER_OK or after the host's first message.

import AmpRemote

/// The endpoint "rpmsg-hostile" and the timer that commits the violation once.
final class HostileEndpoint {
    private unowned let core: RemoteCore
    private let rpmsg: RpmsgRemoteDevice
    private let mode: HostileMode
    private let trigger: HostileTrigger
    private let delay: Duration
    private var endpoint: RpmsgRemoteEndpoint?
    private var armed = false
    private var received = 0
    /// Messages held so that their buffers stay in flight on the host's side.
    private var held: [RpmsgReceivedMessage] = []

    /// Creates the endpoint on `rpmsg` (announced once the host is ready) and arms the timer on `trigger`.
    init(core: RemoteCore, rpmsg: RpmsgRemoteDevice, mode: HostileMode, trigger: HostileTrigger, after delay: Duration) throws {
        self.core = core
        self.rpmsg = rpmsg
        self.mode = mode
        self.trigger = trigger
        self.delay = delay
        endpoint = try rpmsg.createEndpoint(name: "rpmsg-hostile") { [unowned self] message in receive(message) }
        rpmsg.onReady { [unowned self] in
            if self.trigger == .ready { arm() }
        }
    }

    private func receive(_ message: RpmsgReceivedMessage) {
        received += 1
        core.trace("ampsoc-fw-hostile: received \(message.length) bytes from 0x\(String(message.source, radix: 16))")
        if mode == .usedIDNotPosted, received == 1, message.hold() { held.append(message) }
        if trigger == .message { arm() }
    }

    /// Starts the timer (once).
    private func arm() {
        guard !armed else { return }
        armed = true
        core.loop.after(delay) { [unowned self] in commit() }
    }

    private func commit() {
        guard let endpoint else { return }
        do {
            let what = try misbehave(mode, core: core, rpmsg: rpmsg, endpoint: endpoint)
            core.trace("ampsoc-fw-hostile: \(mode.rawValue): \(what)")
            core.notifyHost(rpmsg.vrings[mode.vring].notifyID)
        } catch {
            core.trace("ampsoc-fw-hostile: \(mode.rawValue) not possible: \(error)")
        }
    }
}

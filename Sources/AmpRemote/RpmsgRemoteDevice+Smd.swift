// The rpmsg device over SMD (see SmdRemoteTransport.swift): the same endpoint API as over virtio, with
// these differences:
//   - ready at once: the edge is attached when the device starts (no DRIVER_OK, no name service); the
//     `onReady` handlers run at the next pass;
//   - a named endpoint is a channel of that name, created in SMEM and opened from this side (the host
//     kicked); it carries packets once the host opened it too. An unnamed endpoint has no channel;
//   - sending: one packet on the endpoint's channel, whatever the destination (point-to-point). With no
//     room, a try-send fails (`noBuffer`); a blocking send clears its fBLOCKREADINTR (the host kicks after
//     reading) and waits on the doorbell, heartbeat running, up to its timeout. A channel the host has not
//     opened yet: `notReady` for a try-send, a wait for the open for a blocking one;
//   - receiving: on every ring of notify id 0 (and every 100 ms) the edge is serviced: state steps, then each
//     channel's packets to its endpoint's callback, the payload in the FIFO (or the bounce buffer) during the
//     callback and copied out if the message is kept or held (hold/release only count);
//   - zero-copy sending is not supported (`notSupported`);
//   - a host protocol violation found by the SMD engine is a fatal crash, as ring violations are over virtio.

import AmpSMD
import AmpSystem
import AmpWire

extension RpmsgRemoteDevice {
    /// The wire protocol this device speaks.
    public var transport: RpmsgRemoteTransportKind { smd == nil ? .virtio : .smd }

    /// Starts the SMD side: notification handler, service poll, stop handler; ready at once.
    func startSmd(_ smd: SmdRemoteTransport) {
        core.loop.onAnyNotify { [unowned self] _ in serviceSmd() }
        core.loop.every(SmdRemoteTransport.servicePollInterval) { [unowned self] in serviceSmd() }
        core.loop.onStop { [unowned self] in
            for channel in smd.edge.channels where channel.isServing { channel.remoteClose() }
            core.notifyHost(SmdRemoteTransport.notifyID)
            let totals = tallies
            core.trace("rpmsg: stopping (smd edge \(smd.edgeID)): received \(totals.received), sent \(totals.sent), "
                + "dropped \(totals.dropped), held \(totals.held)")
        }
        isReady = true
        core.trace("rpmsg: smd edge \(smd.edgeID) attached (smem \(smd.edge.heap.region.size) bytes), "
            + "channels of \(SmdRemoteTransport.fifoSize)-byte FIFOs, mtu \(mtu)")
    }

    // MARK: Endpoints

    /// Creates the channel of a named endpoint and opens it from this side (kicking the host).
    func bindSmdChannel(_ endpoint: RpmsgRemoteEndpoint, name: String, smd: SmdRemoteTransport) throws(RpmsgRemoteError) {
        let channel: SmdChannel
        do {
            channel = try smd.bind(endpoint, name: name)
        } catch {
            switch error {
            case .refused(let refusal): throw refusal
            case .violation(let violation): smdViolation(violation)
            }
        }
        endpoint.destination = SmdRemoteTransport.hostAddress(of: channel)
        if channel.remoteOpen() { core.notifyHost(SmdRemoteTransport.notifyID) }
        core.trace("rpmsg: smd channel \"\(name)\" (table \(channel.table), cid \(channel.cid)) created and opening")
    }

    /// Closes the channel of a destroyed endpoint (after the current service pass, if one runs).
    func unbindSmdChannel(_ endpoint: RpmsgRemoteEndpoint, smd: SmdRemoteTransport) {
        guard let channel = smd.unbind(endpoint) else { return }
        if smd.isServicing {
            smd.deferredCloses.append(channel)
        } else if channel.remoteClose() {
            core.notifyHost(SmdRemoteTransport.notifyID)
        }
        core.trace("rpmsg: smd channel \"\(channel.name)\" closed")
    }

    // MARK: Receiving

    /// One service pass over the edge: state steps and packet delivery on every channel, then the kick.
    func serviceSmd() {
        guard let smd, !smd.isServicing else { return }
        smd.isServicing = true
        let result: SmdRemoteInterruptResult
        do {
            result = try smd.edge.handleInterrupt { [unowned self] channel, payload in deliverSmd(channel, payload, smd: smd) }
        } catch {
            smdViolation(error)
        }
        smd.isServicing = false
        var kick = result.kickHost
        for channel in smd.deferredCloses where channel.remoteClose() { kick = true }
        smd.deferredCloses = []
        for event in result.events {
            switch event.event {
            case .opened: core.trace("rpmsg: smd channel \"\(event.channel)\" open")
            case .hostLeft: core.trace("rpmsg: the host left smd channel \"\(event.channel)\"; it was reset")
            case .none: break
            }
        }
        if kick { core.notifyHost(SmdRemoteTransport.notifyID) }
    }

    /// Hands one packet to the endpoint of `channel`. Always consumes it.
    private func deliverSmd(_ channel: SmdChannel, _ payload: UnsafeRawBufferPointer, smd: SmdRemoteTransport) -> Bool {
        tallies.received &+= 1
        let source = SmdRemoteTransport.hostAddress(of: channel)
        guard let endpoint = smd.endpoint(for: channel), !endpoint.isDestroyed else {
            tallies.dropped &+= 1
            core.trace("rpmsg: dropped a \(payload.count)-byte packet on smd channel \"\(channel.name)\": no endpoint "
                + "(\(tallies.dropped) dropped so far)")
            return true
        }
        var message = RpmsgReceivedMessage(
            endpoint: endpoint, source: source, destination: endpoint.address, head: 0, session: session, payload: payload)
        endpoint.callback(message)
        switch message.state {
        case .delivering:
            let keptElsewhere = !isKnownUniquelyReferenced(&message)
            message.leaveBuffer(keepCopy: keptElsewhere, state: .returned)
        case .held:
            // The FIFO space is reused after this call: a held message keeps a copy.
            message.leaveBuffer(keepCopy: true, state: .held)
        case .released, .returned:
            break
        }
        return true
    }

    // MARK: Sending

    /// Sends one packet on the channel of the endpoint at `source` (the destination is not used: SMD is
    /// point-to-point). `timeout` nil: try once.
    func sendSmd(
        from source: UInt32, payload: UnsafeRawBufferPointer, timeout: Duration?, smd: SmdRemoteTransport
    ) throws(RpmsgRemoteError) {
        guard let channel = smd.channel(forEndpoint: source) else {
            throw RpmsgRemoteError(
                .invalidAddress, "smd: the endpoint at \(rpmsgHex(source)) has no channel (over SMD an endpoint needs a name)")
        }
        guard payload.count <= channel.maximumPayload else {
            throw RpmsgRemoteError(
                .messageTooLarge, "smd: a \(payload.count)-byte payload does not fit channel \"\(channel.name)\" (at most \(channel.maximumPayload))")
        }
        let deadline = timeout.map { MonotonicClock.nanoseconds() &+ MonotonicClock.nanoseconds(of: $0) }
        var waited = false
        while true {
            if channel.state != .opened { stepSmdChannel(channel) }
            if channel.state == .opened {
                let outcome: SmdSendResult
                do {
                    outcome = try channel.send(payload, requestWakeup: timeout != nil)
                } catch {
                    switch error.code {
                    case .protocolViolation: smdViolation(error)
                    case .notOpen: throw RpmsgRemoteError(.notReady, "smd: \(error)")
                    default: throw RpmsgRemoteError(.messageTooLarge, "smd: \(error)")
                    }
                }
                if outcome == .sent {
                    tallies.sent &+= 1
                    core.notifyHost(SmdRemoteTransport.notifyID)
                    return
                }
            }
            guard let deadline else {
                if channel.state != .opened {
                    throw RpmsgRemoteError(.notReady, "smd: channel \"\(channel.name)\" is not open yet (the host has not opened it)")
                }
                throw RpmsgRemoteError(.noBuffer, "smd: no room in channel \"\(channel.name)\"'s FIFO (the host has not read)")
            }
            if !waited {
                waited = true
                tallies.sendWaits &+= 1
            }
            let now = MonotonicClock.nanoseconds()
            guard now < deadline else {
                tallies.sendTimeouts &+= 1
                let what = channel.state == .opened ? "room in the FIFO" : "the host to open the channel"
                throw RpmsgRemoteError(.timedOut, "smd: send on \"\(channel.name)\" timed out waiting for \(what)")
            }
            try waitForSmdRoom(channel, bytes: SmdPacketHeader.size + payload.count, remaining: deadline - now)
        }
    }

    /// Blocks on the doorbell until `channel` is open with `bytes` of room, a stop request, or `remaining`
    /// nanoseconds passed. Only this channel is looked at: no callback runs meanwhile.
    private func waitForSmdRoom(_ channel: SmdChannel, bytes: Int, remaining: UInt64) throws(RpmsgRemoteError) {
        var violation: SmdError?
        let outcome: MessageLoop.BlockOutcome
        do {
            outcome = try core.loop.block(timeout: .nanoseconds(Int64(clamping: remaining)), recheckEvery: .milliseconds(20)) {
                if channel.state != .opened {
                    stepSmdChannel(channel)
                    return channel.state == .opened
                }
                do throws(SmdError) {
                    return try channel.writableBytes() >= bytes
                } catch {
                    violation = error
                    return true
                }
            }
        } catch {
            core.fatal("rpmsg: the message loop cannot wait on its doorbell: \(error)")
        }
        if let violation { smdViolation(violation) }
        if outcome == .stopRequested {
            throw RpmsgRemoteError(.stopping, "smd: send abandoned: the host asked for a stop")
        }
    }

    /// The remote's state step for a channel that is not open (opening once the host opened it).
    private func stepSmdChannel(_ channel: SmdChannel) {
        do {
            if try channel.remoteStep().kickHost { core.notifyHost(SmdRemoteTransport.notifyID) }
        } catch {
            smdViolation(error)
        }
    }

    // MARK: Failures

    /// A host protocol violation found by the SMD engine: counted and reported as a fatal crash.
    func smdViolation(_ error: SmdError) -> Never {
        protocolViolation("smd: \(error)")
    }
}

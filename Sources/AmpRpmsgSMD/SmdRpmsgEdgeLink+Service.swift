// The service pass of an SMD rpmsg link (Linux's edge interrupt handler, scanner and state worker in one
// pass, run by SmdRpmsgServiceThread after every to-host ring and on its tick):
//
//   with the lock:  scan the allocation tables (first pass, periodic rescans, SMEM free space changed)
//                   -> every channel's interrupt handler: state ack, packets into the inbox (bounded; a full
//                      inbox refuses, leaving packets in their FIFO) -> state work (open handshakes, remote
//                      left) -> wake blocked senders
//   without it:     kick the remote -> deliver the inbox to the bus, oldest first -> destroy the channels
//                   the remote left (driver remove) -> create the channels that opened (drivers probe) ->
//                   report failed handshakes
//
// Any SmdError met with the lock held breaks the link (fail): it comes from memory the remote wrote.

import AmpRpmsg
import AmpSMD
import AmpWire

/// One packet taken out of a receive FIFO, waiting for delivery.
struct SmdInboundPacket {
    let channel: SmdLinkChannel
    let payload: [UInt8]
}

/// What one service pass (or a nested pull) found, to act on once the lock is released.
struct SmdServicePlan {
    var kickRemote = false
    var wakeSenders = false
    /// A channel's handler refused a packet because the inbox was full: another pass is needed.
    var refused = false
    var destroy: [RpmsgChannel] = []
    var create: [SmdLinkChannel] = []
    var failedOpens: [(channel: String, error: SmdError)] = []
}

/// An inbound packet with its routing, decided when the batch leaves the inbox.
private struct SmdRoutedPacket {
    let source: UInt32
    let lastSender: UInt32?
    let channel: RpmsgChannel?
    let payload: [UInt8]
}

extension SmdRpmsgEdgeLink {
    /// Runs one service pass. Returns whether more work is pending at once (packets left in a FIFO because
    /// the inbox was full, or left in the inbox after the delivery rounds). Call from the service thread only; spurious calls are harmless.
    ///
    /// - Parameter rescan: scan the allocation tables even if SMEM free space did not change.
    func service(rescan: Bool) -> Bool {
        guard let current = currentAttachment else { return false }
        condition.lock()
        guard !closed, failureDetail == nil else {
            condition.unlock()
            return false
        }
        var plan = SmdServicePlan()
        var violation: SmdError?
        do {
            try scanIfNeeded(force: rescan, into: &plan)
            try pullInbound(into: &plan)
            try stateWork(now: .now, into: &plan)
        } catch {
            violation = error
        }
        if plan.wakeSenders { condition.broadcast() }
        condition.unlock()
        if plan.kickRemote { kick() }
        if let violation {
            fail(violation.description)
            return false
        }
        let undelivered = deliverInbox(to: current.bus)
        for channel in plan.destroy {
            try? current.bus.destroyChannel(channel)
        }
        for record in plan.create {
            createRpmsgChannel(for: record, on: current.bus, registry: current.registry)
        }
        for failed in plan.failedOpens {
            current.registry.events?.emit(.probeFailed(
                driver: "smd-open", channel: "\(name).\(failed.channel)",
                error: RpmsgError(.timedOut, "\(name): \(failed.error.description)")))
        }
        return plan.refused || undelivered
    }

    /// Whether time alone can change something: a handshake stage deadline or a retry back-off is pending.
    var hasDeadline: Bool { locked { !closed && failureDetail == nil && records.contains { $0.hasDeadline } } }

    // MARK: With the lock held

    /// Scans both allocation tables on the first pass, when `force` is set, or when SMEM free space changed.
    private func scanIfNeeded(force: Bool, into plan: inout SmdServicePlan) throws(SmdError) {
        if !force, scannedOnce {
            guard try edge.freeSpaceChanged() else { return }
        }
        scannedOnce = true
        let found = try edge.scan()
        guard !found.isEmpty else { return }
        for engine in found {
            let record = SmdLinkChannel(engine: engine)
            records.append(record)
            recordsByAddress[record.address] = record
        }
        updateLargestPayload()
        // Each new channel was reset on the host's side (fSTATE = 1): the remote must look.
        plan.kickRemote = true
    }

    /// Every channel's interrupt handler: acks, wake-ups, packets into the inbox while it has room.
    func pullInbound(into plan: inout SmdServicePlan) throws(SmdError) {
        for record in records {
            let result = try record.engine.handleInterrupt { payload in
                guard inbox.count < Self.inboxLimit else { return false }
                inbox.append(SmdInboundPacket(channel: record, payload: Array(payload)))
                totals.received += 1
                totals.receivedBytes += UInt64(payload.count)
                return true
            }
            if result.kickRemote { plan.kickRemote = true }
            if result.wakeSenders { plan.wakeSenders = true }
            if result.refused { plan.refused = true }
        }
    }

    /// Linux's state worker plus the host handshake, per channel.
    private func stateWork(now: ContinuousClock.Instant, into plan: inout SmdServicePlan) throws(SmdError) {
        for record in records {
            let engine = record.engine
            let remote = try engine.readRemoteState()
            record.observe(remote: remote)
            switch record.phase {
            case .closed:
                guard record.mayOpen(remote: remote, now: now) else { continue }
                try engine.beginOpen(now: now)
                record.phase = .opening
                plan.kickRemote = true
                try advanceOpen(record, now: now, into: &plan)
            case .opening:
                try advanceOpen(record, now: now, into: &plan)
            case .open:
                guard remote != .opened || engine.state != .opened else { continue }
                // The remote left (closed, reset, or restarted and announces OPENING again).
                if engine.close() { plan.kickRemote = true }
                record.phase = .closed
                record.lastSender = nil
                if let channel = record.rpmsgChannel { plan.destroy.append(channel) }
                record.rpmsgChannel = nil
                totals.channelsClosed += 1
                // Senders blocked on this channel fail now (.brokenPipe) rather than at their next slice.
                plan.wakeSenders = true
            }
        }
    }

    /// One step of the host handshake; a missed deadline closes the channel and schedules a retry.
    private func advanceOpen(_ record: SmdLinkChannel, now: ContinuousClock.Instant, into plan: inout SmdServicePlan) throws(SmdError) {
        let engine = record.engine
        do {
            let step = try engine.continueOpen(now: now)
            if step.kickRemote { plan.kickRemote = true }
            guard step.isOpen else { return }
            record.phase = .open
            record.noteOpened()
            totals.channelsOpened += 1
            plan.create.append(record)
        } catch {
            guard error.code == .timedOut else { throw error }
            engine.close()
            plan.kickRemote = true
            record.phase = .closed
            record.noteFailure(remote: engine.remoteState, now: now)
            totals.handshakeTimeouts += 1
            plan.failedOpens.append((record.name, error))
        }
    }

    // MARK: Without the lock

    /// Delivers the inbox, oldest first (callbacks may send, and a sender on this thread may pull more
    /// packets into it meanwhile: they are delivered after the ones before them). Stops after a few rounds so
    /// a remote that floods a channel answered from its callback cannot starve the state work; returns
    /// whether packets are left (the next pass delivers them first).
    private func deliverInbox(to bus: RpmsgBus) -> Bool {
        for _ in 0..<Self.deliveryRounds {
            let batch: [SmdRoutedPacket] = locked {
                guard !closed, failureDetail == nil else { return [] }
                let batch = inbox.map { packet in
                    SmdRoutedPacket(
                        source: packet.channel.address, lastSender: packet.channel.lastSender,
                        channel: packet.channel.rpmsgChannel, payload: packet.payload)
                }
                inbox.removeAll(keepingCapacity: true)
                return batch
            }
            guard !batch.isEmpty else { return false }
            for packet in batch {
                bus.receive(source: packet.source, destination: recipient(of: packet, on: bus), payload: packet.payload)
            }
        }
        return locked { !inbox.isEmpty && !closed && failureDetail == nil }
    }

    /// Inbox batches delivered per service pass at most.
    private static var deliveryRounds: Int { 4 }

    /// The endpoint that last sent on the channel while it exists, else the channel's own endpoint, else ANY
    /// (the bus then counts the message as dropped: no recipient).
    private func recipient(of packet: SmdRoutedPacket, on bus: RpmsgBus) -> UInt32 {
        if let sender = packet.lastSender, bus.endpoint(at: sender) != nil { return sender }
        if let endpoint = packet.channel?.endpoint, !endpoint.isDestroyed { return endpoint.address }
        return RpmsgConstants.addressAny
    }

    /// Puts an opened channel on the bus (drivers serving its name probe now, with the channel open).
    private func createRpmsgChannel(for record: SmdLinkChannel, on bus: RpmsgBus, registry: RpmsgDriverRegistry) {
        let channel: RpmsgChannel
        do {
            channel = try bus.createChannel(name: record.name, destination: record.address)
        } catch {
            registry.events?.emit(.probeFailed(driver: "smd-open", channel: "\(name).\(record.name)", error: error))
            return
        }
        let keep = locked { () -> Bool in
            guard record.phase == .open, record.rpmsgChannel == nil, !closed else { return false }
            record.rpmsgChannel = channel
            return true
        }
        if !keep { try? bus.destroyChannel(channel) }
    }
}

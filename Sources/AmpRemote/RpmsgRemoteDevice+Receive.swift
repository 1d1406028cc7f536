// Receiving on vring1 (host -> remote): each available buffer holds rpmsg_hdr + payload, `desc.len` bytes
// (16 + n from a Linux host). The device reads the 16 header bytes once into a local copy (decoded at explicit
// offsets in the host's byte order, AmpVirtio's WireHeaderCopy), checks that the header's len fits the
// buffer, then dispatches by destination address:
//   - 53 with the name-service feature: an announcement from the host (exactly 40 bytes), to the handlers;
//   - an endpoint's address: its callback, with the payload still in the buffer (zero-copy); the endpoint
//     learns its default destination from the first message, as OpenAMP does;
//   - anything else: counted as dropped ("no recipient") and traced.
// Every buffer goes back to the host used (len 0, nothing written) right after dispatch, unless the callback
// held it; a held buffer goes back on release. Returns are published after every batch of 16. Malformed
// buffers (shorter than a header, header len past the buffer) are counted, traced and returned too: unlike
// Linux, nothing is leaked.
// One pass handles at most `num` buffers, then yields to the loop (timers, heartbeat) and continues.
// Notifications: a drained pass asks the host not to kick vring1 (NO_NOTIFY, or avail_event behind with
// EVENT_IDX); the message loop then polls vring1's avail.idx while it spins on its doorbell and re-enables the
// kicks (re-checking avail.idx) before it sleeps (RpmsgRemoteDevice.installIdlePoller). A busy remote thus
// costs the host no doorbell rings, and a sleeping one is always kicked.

import AmpSystem
import AmpVirtio
import AmpWire

extension RpmsgRemoteDevice {
    /// Takes and dispatches the messages the host made available on vring1, then returns the buffers.
    func serviceRx() {
        guard isReady, !isServicingRx, let queue = fromHost else { return }
        isServicingRx = true
        defer { isServicingRx = false }
        let sessionAtStart = session
        var handled = 0
        var drained = false
        while handled < queue.num, session == sessionAtStart, !drained {
            // A batch: take the buffers, then read their headers (independent loads, so the cache misses on
            // buffers the host just wrote overlap instead of queueing one per message), then deliver them.
            var batched = 0
            while batched < Self.rxBatchSize, handled + batched < queue.num {
                let taken: AvailableBuffer?
                do {
                    taken = try queue.takeAvailable()
                } catch {
                    protocolViolation(error.message)
                }
                guard let buffer = taken else {
                    // Drained. The host is asked not to kick while the loop polls vring1 (its idle poller);
                    // the loop re-enables the kicks before it sleeps.
                    queue.disableNotifications()
                    drained = true
                    break
                }
                (rxBatch + batched).initialize(to: (buffer, WireHeaderCopy(buffer.pointer, count: Int(buffer.length))))
                batched += 1
            }
            for index in 0..<batched {
                // After a device reset in a callback the rest of the batch belongs to rings that are gone.
                guard session == sessionAtStart else { break }
                handled += 1
                let (buffer, header) = rxBatch[index]
                deliver(buffer, header: header)
            }
            // The batch's buffers go back now rather than at the end of the pass: a host streaming with all
            // its buffers in flight can refill the ring while the rest of the pass is delivered.
            publishRxReturns()
            // Drained: linger a moment for more (about a microsecond) before going back to the loop. A stream's
            // next message or a round trip's next request usually lands within it, and is then taken here
            // instead of after a trip through the loop, its doorbell wait and the notification dispatch.
            if drained, session == sessionAtStart, handled < queue.num, rxLingerLooks > 0,
                queue.awaitAvailable(looks: rxLingerLooks)
            {
                drained = false
            }
        }
        if handled >= queue.num, session == sessionAtStart, !rxContinuationPosted {
            rxContinuationPosted = true
            core.loop.post { [unowned self] in
                rxContinuationPosted = false
                serviceRx()
            }
        }
    }

    /// Buffers taken from vring1 per batch (see serviceRx).
    static let rxBatchSize = 16

    /// Validates one vring1 buffer (whose first 16 bytes were copied into `header` when it was taken) and
    /// hands it to its recipient.
    private func deliver(_ buffer: AvailableBuffer, header: WireHeaderCopy) {
        let length = Int(buffer.length)
        guard length >= headerSize else {
            noteMalformed("a \(length)-byte buffer (vring1 desc[\(buffer.head)]) cannot hold the \(headerSize)-byte header")
            returnRxBuffer(buffer.head)
            return
        }
        // The header was read once, into a local copy: the host may rewrite the buffer meanwhile.
        let source = header.u32(at: 0, order: byteOrder)
        let destination = header.u32(at: 4, order: byteOrder)
        let payloadLength = Int(header.u16(at: 12, order: byteOrder))
        guard payloadLength <= length - headerSize else {
            noteMalformed("the message from \(rpmsgHex(source)) to \(rpmsgHex(destination)) says len \(payloadLength), "
                + "but its buffer (vring1 desc[\(buffer.head)]) holds only \(length - headerSize) bytes after the header")
            returnRxBuffer(buffer.head)
            return
        }
        tallies.received &+= 1
        let payload = UnsafeRawBufferPointer(start: buffer.pointer + headerSize, count: payloadLength)
        if destination == nameServiceAddress, hasNameService {
            receiveAnnouncement(Array(payload), from: source)
            returnRxBuffer(buffer.head)
            return
        }
        guard let recipient = endpoint(forDestination: destination) else {
            tallies.dropped &+= 1
            noteDrop("rpmsg: dropped a \(payloadLength)-byte message from \(rpmsgHex(source)) to \(rpmsgHex(destination)): "
                + "no endpoint at that address (\(tallies.dropped) dropped so far)", count: tallies.dropped)
            returnRxBuffer(buffer.head)
            return
        }
        // The endpoint is used unretained (no atomic reference counting per message): `endpoints` holds it
        // until the callback runs, and the message holds it strongly from `reuse`/`init` on, so it stays alive
        // through its callback even if the callback destroys it.
        recipient._withUnsafeGuaranteedRef { endpoint in
            if endpoint.destination == addressAny { endpoint.destination = source }
        }
        var message: RpmsgReceivedMessage
        if let spare = spareMessage.take() {
            // The previous message object, which nobody kept: reused instead of allocating one per message.
            recipient._withUnsafeGuaranteedRef { endpoint in
                spare.reuse(endpoint: endpoint, source: source, destination: destination, head: buffer.head, session: session, payload: payload)
            }
            message = spare
        } else {
            message = RpmsgReceivedMessage(
                endpoint: recipient.takeUnretainedValue(), source: source, destination: destination,
                head: buffer.head, session: session, payload: payload)
        }
        recipient._withUnsafeGuaranteedRef { endpoint in endpoint.callback(message) }
        if message.state == .delivering {
            // Copy the payload out only if the callback kept a reference to the message. (Asked before the
            // call: `&message` inside the call's arguments makes `swift build -c release` crash in SIL
            // verification, "read-only scope invalidated by a local write".)
            let keptElsewhere = !isKnownUniquelyReferenced(&message)
            message.leaveBuffer(keepCopy: keptElsewhere, state: .returned)
            // After a device reset during the callback the buffer belongs to rings that no longer exist.
            if message.session == session { returnRxBuffer(buffer.head) }
            if !keptElsewhere { spareMessage = consume message }
        }
    }

    /// The endpoint bound to `destination`, unretained (the last one found is remembered: consecutive
    /// messages usually go to the same endpoint). Valid while `endpoints` holds it.
    private func endpoint(forDestination destination: UInt32) -> Unmanaged<RpmsgRemoteEndpoint>? {
        if let cached = lastEndpoint.unretained, cached._withUnsafeGuaranteedRef({ $0.address }) == destination { return cached }
        let found = endpoints[destination]
        lastEndpoint.set(found)
        return lastEndpoint.unretained
    }

    /// Returns a vring1 buffer used (len 0); published at the end of the pass or on release.
    func returnRxBuffer(_ head: UInt16) {
        guard let queue = fromHostQueue.unretained else { return }
        queue._withUnsafeGuaranteedRef { queue in
            do {
                try queue.addUsed(head: head, length: 0)
            } catch {
                core.fatal("rpmsg: internal error returning a vring1 buffer: \(error)")
            }
        }
        rxReturnsUnpublished = true
    }

    /// Makes the returned vring1 buffers visible and rings the host if it wants an interrupt.
    func publishRxReturns() {
        guard rxReturnsUnpublished, let queue = fromHostQueue.unretained else { return }
        rxReturnsUnpublished = false
        if queue._withUnsafeGuaranteedRef({ $0.publishUsed() }) { core.notifyHost(fromHostNotifyID) }
    }

    // MARK: Hold and release

    /// Marks `message`'s buffer as held by the firmware (see ``RpmsgReceivedMessage/hold()``).
    func hold(_ message: RpmsgReceivedMessage) {
        tallies.held += 1
    }

    /// Returns a held buffer to the host now (nothing if the device was reset since: the host took the
    /// buffers back).
    func release(_ message: RpmsgReceivedMessage) {
        guard message.session == session, isReady else { return }
        tallies.held -= 1
        returnRxBuffer(message.head)
        if !isServicingRx { publishRxReturns() }
    }

    // MARK: Name service and diagnostics

    private func receiveAnnouncement(_ payload: [UInt8], from source: UInt32) {
        let message: NameServiceMessage
        do {
            message = try NameServiceMessage.parse(payload, order: .host)
        } catch {
            noteMalformed("a name-service message from \(rpmsgHex(source)) is \(payload.count) bytes; exactly \(NameServiceMessage.size) expected")
            return
        }
        let announcement = Announcement(name: message.name.string, address: message.address, isDestroy: message.action == .destroy)
        core.trace("rpmsg: the host announced \"\(announcement.name)\" (\(announcement.isDestroy ? "destroy" : "create"), "
            + "address \(rpmsgHex(announcement.address)))")
        for handler in announcementHandlers { handler(announcement) }
    }

    private func noteMalformed(_ detail: String) {
        tallies.malformed &+= 1
        noteDrop("rpmsg: malformed message returned unread: \(detail) (\(tallies.malformed) malformed so far)", count: tallies.malformed)
    }

    /// Traces the first `dropTraceLimit` drops one by one, then every `dropTraceEvery`-th.
    private func noteDrop(_ text: String, count: UInt64) {
        let every = max(configuration.dropTraceEvery, 1)
        if count <= configuration.dropTraceLimit || count % every == 0 { core.trace(text) }
    }
}

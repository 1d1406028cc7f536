// Receiving on vring1 (host -> remote): each available buffer holds rpmsg_hdr + payload, `desc.len` bytes
// (16 + n from a Linux host). The device reads the 16 header bytes once into a local copy, checks that the
// header's len fits the buffer, then dispatches by destination address:
//   - 53 with the name-service feature: an announcement from the host (exactly 40 bytes), to the handlers;
//   - an endpoint's address: its callback, with the payload still in the buffer (zero-copy); the endpoint
//     learns its default destination from the first message, as OpenAMP does;
//   - anything else: counted as dropped ("no recipient") and traced.
// Every buffer goes back to the host used (len 0, nothing written) right after dispatch, unless the callback
// held it; a held buffer goes back on release. Malformed buffers (shorter than a header, header len past the
// buffer) are counted, traced and returned too: unlike Linux, nothing is leaked.
// One pass handles at most `num` buffers, then yields to the loop (timers, heartbeat) and continues.

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
        while handled < queue.num, session == sessionAtStart {
            let taken: AvailableBuffer?
            do {
                taken = try queue.takeAvailable()
            } catch {
                protocolViolation(error.message)
            }
            guard let buffer = taken else {
                if queue.enableNotifications() { continue }
                break
            }
            handled += 1
            deliver(buffer)
        }
        publishRxReturns()
        if handled >= queue.num, session == sessionAtStart, !rxContinuationPosted {
            rxContinuationPosted = true
            core.loop.post { [unowned self] in
                rxContinuationPosted = false
                serviceRx()
            }
        }
    }

    /// Validates one vring1 buffer and hands it to its recipient.
    private func deliver(_ buffer: AvailableBuffer) {
        let length = Int(buffer.length)
        guard length >= RpmsgHeader.size else {
            noteMalformed("a \(length)-byte buffer (vring1 desc[\(buffer.head)]) cannot hold the \(RpmsgHeader.size)-byte header")
            returnRxBuffer(buffer.head)
            return
        }
        let headerBytes = Array(UnsafeRawBufferPointer(start: buffer.pointer, count: RpmsgHeader.size))
        guard let header = try? RpmsgHeader(from: ByteReader(headerBytes, order: .host), at: 0) else {
            returnRxBuffer(buffer.head)
            return
        }
        guard Int(header.length) <= length - RpmsgHeader.size else {
            noteMalformed("the message from \(rpmsgHex(header.source)) to \(rpmsgHex(header.destination)) says len \(header.length), "
                + "but its buffer (vring1 desc[\(buffer.head)]) holds only \(length - RpmsgHeader.size) bytes after the header")
            returnRxBuffer(buffer.head)
            return
        }
        tallies.received &+= 1
        let payload = UnsafeRawBufferPointer(start: buffer.pointer + RpmsgHeader.size, count: Int(header.length))
        if header.destination == RpmsgConstants.nameServiceAddress, hasNameService {
            receiveAnnouncement(Array(payload), from: header.source)
            returnRxBuffer(buffer.head)
            return
        }
        guard let endpoint = endpoints[header.destination] else {
            tallies.dropped &+= 1
            noteDrop("rpmsg: dropped a \(header.length)-byte message from \(rpmsgHex(header.source)) to \(rpmsgHex(header.destination)): "
                + "no endpoint at that address (\(tallies.dropped) dropped so far)", count: tallies.dropped)
            returnRxBuffer(buffer.head)
            return
        }
        if endpoint.destination == RpmsgConstants.addressAny { endpoint.destination = header.source }
        var message = RpmsgReceivedMessage(
            endpoint: endpoint, source: header.source, destination: header.destination,
            head: buffer.head, session: session, payload: payload)
        endpoint.callback(message)
        if message.state == .delivering {
            // Copy the payload out only if the callback kept a reference to the message. (Asked before the
            // call: `&message` inside the call's arguments makes `swift build -c release` crash in SIL
            // verification, "read-only scope invalidated by a local write".)
            let keptElsewhere = !isKnownUniquelyReferenced(&message)
            message.leaveBuffer(keepCopy: keptElsewhere, state: .returned)
            // After a device reset during the callback the buffer belongs to rings that no longer exist.
            if message.session == session { returnRxBuffer(buffer.head) }
        }
    }

    /// Returns a vring1 buffer used (len 0); published at the end of the pass or on release.
    func returnRxBuffer(_ head: UInt16) {
        guard let queue = fromHost else { return }
        do {
            try queue.addUsed(head: head, length: 0)
        } catch {
            core.fatal("rpmsg: internal error returning a vring1 buffer: \(error)")
        }
        rxReturnsUnpublished = true
    }

    /// Makes the returned vring1 buffers visible and rings the host if it wants an interrupt.
    func publishRxReturns() {
        guard rxReturnsUnpublished, let queue = fromHost else { return }
        rxReturnsUnpublished = false
        if queue.publishUsed() { core.notifyHost(fromHostNotifyID) }
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

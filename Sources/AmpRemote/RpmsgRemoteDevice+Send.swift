// Sending on vring0 (remote -> host): take a buffer the host posted (device-writable, bufferSize bytes), write
// rpmsg_hdr {src, dst, reserved 0, len n, flags 0} and the payload into it, return it used with len 16 + n,
// and ring the host with vring0's notifyid when the virtqueue says the host wants an interrupt.
//
// Buffers: a released zero-copy buffer is reused first, then the next available one. Without a buffer a
// try-send fails at once (noBuffer, as Linux's trysend's ENOMEM); a blocking send waits on the doorbell (the
// heartbeat keeps running) until the host posts one, the host asks for a stop, or the timeout passes. Queued
// name-service announcements always go out before firmware messages.

import AmpSystem
import AmpVirtio
import AmpWire

extension RpmsgRemoteDevice {
    /// Sends `payload` from `source` to `destination`. `timeout` nil: try once (noBuffer when no buffer);
    /// otherwise wait for a buffer (and for DRIVER_OK) up to `timeout`.
    func send(from source: UInt32, to destination: UInt32, payload: UnsafeRawBufferPointer, timeout: Duration?) throws(RpmsgRemoteError) {
        if let smd { return try sendSmd(from: source, payload: payload, timeout: timeout, smd: smd) }
        try checkAddresses(source: source, destination: destination)
        guard payload.count <= mtu else {
            throw RpmsgRemoteError(.messageTooLarge, "rpmsg: a \(payload.count)-byte payload does not fit the MTU of \(mtu) bytes")
        }
        let buffer = try acquireTxBuffer(timeout: timeout)
        let capacity = payloadCapacity(of: buffer)
        guard payload.count <= capacity else {
            spareTxBuffers.append(buffer)
            throw RpmsgRemoteError(
                .messageTooLarge, "rpmsg: a \(payload.count)-byte payload does not fit the host's \(buffer.length)-byte buffer")
        }
        if let base = payload.baseAddress, payload.count > 0 {
            (buffer.pointer + RpmsgHeader.size).copyMemory(from: base, byteCount: payload.count)
        }
        transmit(buffer, source: source, destination: destination, length: payload.count)
    }

    /// A zero-copy buffer (see ``RpmsgRemoteEndpoint/getTxBuffer(wait:)``).
    func txBuffer(timeout: Duration?) throws(RpmsgRemoteError) -> RpmsgTxBuffer {
        guard smd == nil else {
            throw RpmsgRemoteError(.notSupported, "smd: zero-copy sending is not supported over SMD (packets are copied into the FIFO)")
        }
        let buffer = try acquireTxBuffer(timeout: timeout)
        let payload = UnsafeMutableRawBufferPointer(start: buffer.pointer + RpmsgHeader.size, count: payloadCapacity(of: buffer))
        // The object handed out last time is reused when nobody else references it any more and it was sent
        // or released: a zero-copy reply per message then allocates nothing.
        if var previous = lastTxBuffer.take() {
            if previous.state != .owned, isKnownUniquelyReferenced(&previous) {
                previous.reuse(buffer: buffer, session: session, payload: payload)
                lastTxBuffer = previous
                return previous
            }
        }
        let fresh = RpmsgTxBuffer(buffer: buffer, session: session, payload: payload)
        lastTxBuffer = fresh
        return fresh
    }

    /// Sends the first `length` bytes of a zero-copy buffer from `source` to `destination`.
    func sendNoCopy(_ tx: RpmsgTxBuffer, length: Int, from source: UInt32, to destination: UInt32) throws(RpmsgRemoteError) {
        guard tx.state == .owned, tx.session == session, isReady else {
            throw RpmsgRemoteError(.invalidBuffer, "rpmsg: sendNoCopy: the buffer was already \(tx.state == .owned ? "invalidated by a device reset" : tx.state.rawValue)")
        }
        guard length >= 0, length <= tx.capacity else {
            throw RpmsgRemoteError(.messageTooLarge, "rpmsg: sendNoCopy: length \(length) is outside the buffer's 0...\(tx.capacity) bytes")
        }
        try checkAddresses(source: source, destination: destination)
        tx.state = .sent
        transmit(tx.buffer, source: source, destination: destination, length: length)
    }

    /// Gives an unsent zero-copy buffer back; the next send uses it.
    func releaseTxBuffer(_ tx: RpmsgTxBuffer) {
        guard tx.state == .owned else { return }
        tx.state = .released
        if tx.session == session, isReady { spareTxBuffers.append(tx.buffer) }
    }

    // MARK: Buffers

    /// The smallest vring0 buffer accepted: a header and a name-service message (the host posts
    /// `bufferSize`-byte buffers, 512 by default).
    static let minimumTxBufferSize = RpmsgHeader.size + NameServiceMessage.size

    /// The payload bytes a vring0 buffer holds: its length capped at `bufferSize`, minus the header.
    func payloadCapacity(of buffer: AvailableBuffer) -> Int {
        min(Int(buffer.length), bufferSize) - RpmsgHeader.size
    }

    /// A transmit buffer, after the queued announcements went out. With `timeout` nil fails at once
    /// (`notReady` before DRIVER_OK, `noBuffer` without a buffer); otherwise waits on the doorbell.
    func acquireTxBuffer(timeout: Duration?) throws(RpmsgRemoteError) -> AvailableBuffer {
        if isReady {
            flushAnnouncements()
            if pendingAnnouncements.isEmpty, let buffer = takeTxBuffer() { return buffer }
        }
        guard let timeout else {
            guard isReady else {
                throw RpmsgRemoteError(.notReady, "rpmsg: the host's virtio driver has not set DRIVER_OK yet")
            }
            throw RpmsgRemoteError(
                .noBuffer, "rpmsg: no transmit buffer: the host has none posted on vring0 (\(tallies.sent) sent so far)")
        }
        tallies.sendWaits &+= 1
        // The host may be waiting for its own transmit buffers back before it can free ours.
        publishRxReturns()
        var found: AvailableBuffer?
        let outcome: MessageLoop.BlockOutcome
        do {
            outcome = try core.loop.block(timeout: timeout) {
                checkStatus()
                guard isReady else { return false }
                flushAnnouncements()
                guard pendingAnnouncements.isEmpty else { return false }
                found = takeTxBuffer()
                return found != nil
            }
        } catch {
            core.fatal("rpmsg: the message loop cannot wait on its doorbell: \(error)")
        }
        switch outcome {
        case .conditionMet:
            if let found { return found }
            throw RpmsgRemoteError(.noBuffer, "rpmsg: no transmit buffer")
        case .timedOut:
            tallies.sendTimeouts &+= 1
            let what = isReady ? "a transmit buffer on vring0" : "the host's DRIVER_OK"
            throw RpmsgRemoteError(.timedOut, "rpmsg: send timed out after \(timeout) waiting for \(what)")
        case .stopRequested:
            throw RpmsgRemoteError(.stopping, "rpmsg: send abandoned: the host asked for a stop")
        }
    }

    /// A spare buffer, or the next one the host posted on vring0, or nil. A buffer that is not
    /// device-writable or shorter than ``minimumTxBufferSize`` is a protocol violation.
    func takeTxBuffer() -> AvailableBuffer? {
        if let spare = spareTxBuffers.popLast() { return spare }
        guard let reference = toHostQueue.unretained else { return nil }
        return reference._withUnsafeGuaranteedRef { queue in takeTxBuffer(from: queue) }
    }

    private func takeTxBuffer(from queue: VirtqueueDevice) -> AvailableBuffer? {
        for _ in 0..<2 {
            let taken: AvailableBuffer?
            do {
                taken = try queue.takeAvailable()
            } catch {
                protocolViolation(error.message)
            }
            if let buffer = taken {
                guard buffer.isDeviceWritable, buffer.length >= UInt32(Self.minimumTxBufferSize) else {
                    protocolViolation("vring0: desc[\(buffer.head)] (\(buffer.length) bytes at 0x\(String(buffer.address, radix: 16))) "
                        + "is not a device-writable buffer of at least \(Self.minimumTxBufferSize) bytes")
                }
                // Kicks for vring0 are wanted only while a sender waits for a buffer (a no-op store otherwise).
                queue.disableNotifications()
                return buffer
            }
            // Ask for a kick when the host posts more; if some arrived meanwhile, take one now.
            guard queue.enableNotifications() else { return nil }
        }
        return nil
    }

    /// Writes the header in front of the `length` payload bytes already in `buffer`, returns it used with
    /// len 16 + length and rings the host if it wants an interrupt.
    func transmit(_ buffer: AvailableBuffer, source: UInt32, destination: UInt32, length: Int) {
        // rpmsg_hdr {src, dst, reserved 0, len, flags 0} at explicit offsets, in the host's byte order.
        RawWireAccess.put(source, buffer.pointer, at: 0, order: byteOrder)
        RawWireAccess.put(destination, buffer.pointer, at: 4, order: byteOrder)
        RawWireAccess.put(UInt32(0), buffer.pointer, at: 8, order: byteOrder)
        RawWireAccess.put(UInt16(truncatingIfNeeded: length), buffer.pointer, at: 12, order: byteOrder)
        RawWireAccess.put(UInt16(0), buffer.pointer, at: 14, order: byteOrder)
        guard let reference = toHostQueue.unretained else { return }
        let notify = reference._withUnsafeGuaranteedRef { queue in
            do {
                try queue.addUsed(head: buffer.head, length: UInt32(headerSize + length))
            } catch {
                core.fatal("rpmsg: internal error returning a vring0 buffer: \(error)")
            }
            return queue.publishUsed()
        }
        tallies.sent &+= 1
        if notify { core.notifyHost(toHostNotifyID) }
    }

    func checkAddresses(source: UInt32, destination: UInt32) throws(RpmsgRemoteError) {
        guard source != RpmsgConstants.addressAny, destination != RpmsgConstants.addressAny else {
            throw RpmsgRemoteError(
                .invalidAddress, "rpmsg: cannot send from \(rpmsgHex(source)) to \(rpmsgHex(destination)): ADDR_ANY is not an address")
        }
    }

    // MARK: Name service

    /// Queues an announcement and sends what can be sent.
    func announce(_ announcement: PendingAnnouncement) {
        pendingAnnouncements.append(announcement)
        if isReady { flushAnnouncements() }
    }

    /// Sends queued announcements in order while buffers are available (nothing before DRIVER_OK; dropped,
    /// with a trace, when the host did not accept the name-service feature).
    func flushAnnouncements() {
        guard isReady, !pendingAnnouncements.isEmpty else { return }
        guard hasNameService else {
            core.trace("rpmsg: the host did not accept the name-service feature (features \(hex(features))): "
                + "\(pendingAnnouncements.count) announcement(s) not sent")
            pendingAnnouncements = []
            return
        }
        while let next = pendingAnnouncements.first {
            guard let buffer = takeTxBuffer() else {
                if !notedAnnouncementWait {
                    notedAnnouncementWait = true
                    core.trace("rpmsg: no transmit buffer on vring0 for the announcement of \"\(next.name)\"; "
                        + "it is sent when the host posts one")
                }
                return
            }
            notedAnnouncementWait = false
            pendingAnnouncements.removeFirst()
            let message = NameServiceMessage(name: next.name, address: next.address, action: next.action).serialized(order: .host)
            UnsafeMutableRawBufferPointer(start: buffer.pointer + RpmsgHeader.size, count: message.count).copyBytes(from: message)
            transmit(buffer, source: next.address, destination: RpmsgConstants.nameServiceAddress, length: message.count)
            tallies.announcements &+= 1
            core.trace("rpmsg: announced \"\(next.name)\" (\(next.action == .create ? "create" : "destroy"), address \(rpmsgHex(next.address)))")
        }
    }
}

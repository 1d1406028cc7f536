// Sending a packet (Linux's `__qcom_smd_send`): the 20-byte header (word 0 = payload length) followed by the
// payload, written at this side's head and split where it wraps.
//
//   checks: word channels only take payloads whose length is a multiple of 4; 20 + len < fifo size;
//           the channel must be OPENED (else EPIPE).
//   room:   writable = mask - ((head - tail) & mask). When it is short, the sender clears its own
//           fBLOCKREADINTR (asking the receiver to signal when it has read), fences, and looks once more;
//           still short -> "would block". The flag goes back to 1 with the next successful send.
//   write:  fTAIL = 0; header and payload; head published (release); fHEAD = 1; fence; signal.

import AmpWire

/// Outcome of `SmdChannel.send`.
public enum SmdSendResult: Sendable, Equatable {
    /// The packet is in the FIFO; the other side must be signalled.
    case sent
    /// Not enough room. With `requestWakeup` the receiver has been asked to signal after reading; retry then.
    case wouldBlock
}

extension SmdChannel {
    /// Bytes this side can write into its transmit FIFO now.
    ///
    /// - Throws: `SmdError.protocolViolation` (field `tx.tail`) when the other side's tail is invalid.
    public func writableBytes() throws(SmdError) -> Int {
        let tail = try validatedIndex(info.tail(.tx), field: "tx.tail")
        return geometry.writable(head: transmitHead, tail: tail)
    }

    /// Whether a poll would report the channel writable (more than a packet header of room, as Linux).
    public func isWritable() throws(SmdError) -> Bool {
        try writableBytes() > SmdPacketHeader.size
    }

    /// Sends one packet.
    ///
    /// - Parameters:
    ///   - payload: the packet's payload.
    ///   - requestWakeup: when the FIFO is full, clear fBLOCKREADINTR so the receiver signals after reading
    ///     (a blocking sender); false behaves as Linux's trysend and only reports `.wouldBlock`.
    /// - Returns: `.sent` (signal the other side) or `.wouldBlock`.
    /// - Throws: `SmdError` `invalidArgument` (payload too large, or not a multiple of 4 on a word channel),
    ///   `notOpen` (this side is not OPENED), `protocolViolation` (invalid `tx.tail` from the other side).
    public func send(_ payload: UnsafeRawBufferPointer, requestWakeup: Bool = true) throws(SmdError) -> SmdSendResult {
        guard layout == .byte || payload.count % 4 == 0 else {
            throw SmdError(
                .invalidArgument, channel: name, field: "packet.length",
                "payload of \(payload.count) bytes is not a multiple of 4 on a word channel")
        }
        guard geometry.fits(payloadLength: payload.count) else {
            throw SmdError(
                .invalidArgument, channel: name, field: "packet.length",
                "packet of 20 + \(payload.count) bytes does not fit the \(geometry.size)-byte FIFO")
        }
        guard state == .opened else {
            throw SmdError(.notOpen, channel: name, "cannot send: channel is \(state)")
        }
        let needed = SmdPacketHeader.size + payload.count
        if try writableBytes() < needed {
            guard requestWakeup else { return .wouldBlock }
            info.setFlag(.blockReadInterrupt, .tx, false)
            awaitingRoom = true
            smdFullFence()
            if try writableBytes() < needed { return .wouldBlock }
        }
        if awaitingRoom {
            info.setFlag(.blockReadInterrupt, .tx, true)
            awaitingRoom = false
        }
        info.setFlag(.tail, .tx, false)
        let header = SmdPacketHeader(length: UInt32(payload.count)).serialized()
        var head = header.withUnsafeBytes { transmitFifo.write($0, at: transmitHead) }
        head = transmitFifo.write(payload, at: head)
        transmitHead = head
        info.publishHead(head, .tx)
        info.setFlag(.head, .tx, true)
        smdFullFence()
        return .sent
    }

    /// Sends one packet from an array; see `send(_:requestWakeup:)`.
    public func send(_ payload: [UInt8], requestWakeup: Bool = true) throws(SmdError) -> SmdSendResult {
        let outcome = payload.withUnsafeBytes { bytes in
            Result { () throws(SmdError) -> SmdSendResult in try send(bytes, requestWakeup: requestWakeup) }
        }
        return try outcome.get()
    }
}

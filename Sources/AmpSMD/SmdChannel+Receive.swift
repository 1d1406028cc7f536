// The per-channel part of an edge interrupt (Linux's `qcom_smd_channel_intr`), run whenever the other side
// signalled (spurious calls are harmless):
//
//   1. read the other side's state; remember whether it changed; ack with rx.fSTATE = 0
//   2. if this side's tx.fBLOCKREADINTR is 0, a sender here waits for room: report "wake senders"
//   3. consume nothing unless this side is OPENED
//   4. rx.fHEAD = 0; then loop: with no packet pending and >= 20 bytes readable, read the header's length
//      and move tail past the header; with a packet pending and its whole payload readable, hand the payload
//      to the callback (in place, or through the bounce buffer when it wraps or the channel is word-wide);
//      a refusing callback stops the loop and leaves the payload where it is (back-pressure); otherwise
//      move tail past it
//   5. rx.fTAIL = 1; fence; if the other side's rx.fBLOCKREADINTR is 0, it waits for room: signal it
//
// Lengths are validated: 20 + length < fifo size, and a multiple of 4 on word channels. Unlike Linux,
// a zero-length packet is delivered (as an empty buffer) rather than skipped.

import AmpWire

/// What one `SmdChannel.handleInterrupt` call found and did.
public struct SmdInterruptResult: Sendable, Equatable {
    /// The other side's state differs from the last one seen: run the state handling.
    public var remoteStateChanged = false
    /// This side asked for a wakeup (fBLOCKREADINTR = 0): blocked senders may retry.
    public var wakeSenders = false
    /// The other side waits for room and must be signalled.
    public var kickRemote = false
    /// Packets handed to the callback and consumed.
    public var delivered = 0
    /// The callback refused a packet; it stays in the FIFO until the next call.
    public var refused = false

    public init() {}
}

extension SmdChannel {
    /// Handles a signal from the other side: state acknowledgement, then delivery of every complete packet.
    ///
    /// - Parameter deliver: called with each payload; return true when consumed, false to refuse it (it
    ///   stays in the FIFO and is offered again on the next call). The buffer may point into shared memory
    ///   and is valid only during the call: copy what you keep.
    /// - Throws: `SmdError.protocolViolation` naming the field (`rx.state`, `rx.head`, `packet.length`) when the
    ///   other side wrote something invalid. The channel's indices are left as they were before the bad value.
    public func handleInterrupt(deliver: (UnsafeRawBufferPointer) -> Bool) throws(SmdError) -> SmdInterruptResult {
        var result = SmdInterruptResult()
        let previous = remoteState
        let remote = try readRemoteState()
        result.remoteStateChanged = remote != previous
        info.setFlag(.state, .rx, false)
        result.wakeSenders = info.flag(.blockReadInterrupt, .tx) == 0
        guard state == .opened else { return result }

        info.setFlag(.head, .rx, false)
        while true {
            let head = try validatedIndex(info.head(.rx), field: "rx.head")
            let readable = geometry.readable(head: head, tail: receiveTail)
            if let length = pendingLength {
                guard readable >= length else { break }
                guard deliverPacket(length: length, deliver) else {
                    result.refused = true
                    break
                }
                advanceReceiveTail(by: length)
                pendingLength = nil
                result.delivered += 1
            } else {
                guard readable >= SmdPacketHeader.size else { break }
                pendingLength = try readPacketLength()
                advanceReceiveTail(by: SmdPacketHeader.size)
            }
        }
        info.setFlag(.tail, .rx, true)
        smdFullFence()
        result.kickRemote = info.flag(.blockReadInterrupt, .rx) == 0
        return result
    }

    /// Bytes waiting in the receive FIFO (header bytes included).
    ///
    /// - Throws: `SmdError.protocolViolation` (field `rx.head`) when the other side's head is invalid.
    public func readableBytes() throws(SmdError) -> Int {
        let head = try validatedIndex(info.head(.rx), field: "rx.head")
        return geometry.readable(head: head, tail: receiveTail)
    }

    /// Reads word 0 of the packet header at the receive tail and validates it.
    private func readPacketLength() throws(SmdError) -> Int {
        var word: UInt32 = 0
        withUnsafeMutableBytes(of: &word) { receiveFifo.read(into: $0, at: receiveTail) }
        let length = UInt32(littleEndian: word)
        guard geometry.fits(payloadLength: Int(length)) else {
            throw violation("packet.length", "packet of 20 + \(length) bytes cannot fit the \(geometry.size)-byte FIFO")
        }
        guard layout == .byte || length % 4 == 0 else {
            throw violation("packet.length", "payload length \(length) of a word channel is not a multiple of 4")
        }
        return Int(length)
    }

    /// Hands `length` bytes at the receive tail to `deliver`; returns its answer.
    private func deliverPacket(length: Int, _ deliver: (UnsafeRawBufferPointer) -> Bool) -> Bool {
        if layout == .byte, !geometry.wraps(at: receiveTail, count: length) {
            return deliver(receiveFifo.contiguous(receiveTail..<(receiveTail + length)))
        }
        if bounce.count < length {
            bounce = [UInt8](repeating: 0, count: length)
        }
        return bounce.withUnsafeMutableBytes { buffer in
            let packet = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<length])
            receiveFifo.read(into: packet, at: receiveTail)
            return deliver(UnsafeRawBufferPointer(packet))
        }
    }

    private func advanceReceiveTail(by count: Int) {
        receiveTail = geometry.advance(receiveTail, by: count)
        info.publishTail(receiveTail, .rx)
    }
}

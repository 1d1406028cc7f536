// Channel states (`enum smd_channel_state`) as each side writes them into its own transmit structure.
//
// set_state(s): unless s is the current state, write fDSR = fCTS = fCD = (s == OPENED), fRI = 0, then
// state = s, then fSTATE = 1, and signal the other side. The other side clears fSTATE when it has seen it.
//
// reset: state CLOSED; fDSR fCTS fCD fRI fHEAD fTAIL = 0; fSTATE = 1; fBLOCKREADINTR = 1; this side's transmit
// head and receive tail 0; a half-read packet is forgotten; signal. close = set_state(CLOSED) then reset.
// "A channel never goes away, it only changes state": nothing is freed.

import AmpWire

extension SmdChannel {
    /// Writes a new local state (Linux's `qcom_smd_channel_set_state`).
    ///
    /// - Returns: whether the other side must be signalled (false when the state did not change).
    @discardableResult
    public func setState(_ newState: SmdChannelState) -> Bool {
        guard newState != state else { return false }
        let isOpen = newState == .opened
        info.setFlag(.dsr, .tx, isOpen)
        info.setFlag(.cts, .tx, isOpen)
        info.setFlag(.cd, .tx, isOpen)
        info.setFlag(.ri, .tx, false)
        info.setState(newState.rawValue, .tx)
        info.setFlag(.state, .tx, true)
        state = newState
        smdFullFence()
        return true
    }

    /// Resets this side of the channel to CLOSED with empty FIFOs (Linux's `qcom_smd_channel_reset`).
    ///
    /// - Returns: true: the other side must be signalled.
    @discardableResult
    public func reset() -> Bool {
        info.setState(SmdChannelState.closed.rawValue, .tx)
        for flag in [SmdChannelFlag.dsr, .cts, .cd, .ri, .head, .tail] {
            info.setFlag(flag, .tx, false)
        }
        info.setFlag(.state, .tx, true)
        info.setFlag(.blockReadInterrupt, .tx, true)
        transmitHead = 0
        receiveTail = 0
        info.publishHead(0, .tx)
        info.publishTail(0, .rx)
        state = .closed
        pendingLength = nil
        awaitingRoom = false
        openStage = nil
        smdFullFence()
        return true
    }

    /// Closes this side (Linux's `qcom_smd_channel_close`): CLOSED, then reset. Abandons an open handshake.
    ///
    /// - Returns: true: the other side must be signalled.
    @discardableResult
    public func close() -> Bool {
        openStage = nil
        setState(.closed)
        return reset()
    }

    /// Reads the other side's state from shared memory and remembers it in `remoteState`.
    ///
    /// - Throws: `SmdError.protocolViolation` (field `rx.state`) when the value is not a channel state.
    @discardableResult
    public func readRemoteState() throws(SmdError) -> SmdChannelState {
        let raw = info.state(.rx)
        guard let remote = SmdChannelState(rawValue: raw) else {
            throw violation("rx.state", "\(raw) is not a channel state (0...6)")
        }
        remoteState = remote
        return remote
    }

    /// A snapshot of the whole info pair as stored (apps naming), for diagnostics and tests.
    public func infoSnapshot() -> SmdChannelInfoPair {
        let bytes = info.region.snapshotWords(at: info.offset, count: layout.pairSize)
        // The size matches the layout, so parsing cannot fail.
        return (try? SmdChannelInfoPair(layout: layout, from: ByteReader(bytes, order: .little))) ?? SmdChannelInfoPair()
    }
}

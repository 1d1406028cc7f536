// Opening and closing a channel, as non-blocking steps the caller drives whenever the other side signals
// (or a deadline passes).
//
// Host (Linux's `qcom_smd_channel_open`): the channel must be CLOSED (else busy); set OPENING; wait at most
// 1 s for the remote to be OPENING or OPENED; set OPENED; wait at most 1 s for the remote to be OPENED. A
// missed deadline sets CLOSED and fails with ETIMEDOUT.
//
// Remote (as a modem's SMD does): a served channel goes OPENING; when the host is OPENED it goes OPENED. When
// the host leaves an open channel (any state but OPENED: it closed, reset, or started a new open), the remote
// resets its half (CLOSED, head and tail 0) and, if it still serves the channel, announces it again with
// OPENING, so both sides restart from empty FIFOs. Going OPENED only after the host is OPENED means the remote
// never sends before the host consumes.
//
// Known race (shared with Linux and real modems): a host that closes and at once reopens may see the remote's
// stale OPENED before the remote noticed the close; the remote then resets in the middle of the new session.
// Hosts should reopen after the remote has left OPENED (the state worker re-registers the channel then).

import AmpWire

/// Where a host open handshake stands.
enum SmdOpenStage: Equatable {
    /// OPENING written; waiting for the remote to be OPENING or OPENED.
    case awaitingRemoteOpening(deadline: ContinuousClock.Instant)
    /// OPENED written; waiting for the remote to be OPENED.
    case awaitingRemoteOpened(deadline: ContinuousClock.Instant)
}

/// Result of one step of the host's open handshake.
public struct SmdOpenStep: Sendable, Equatable {
    /// True once the channel is open on both sides.
    public var isOpen: Bool
    /// Whether this step wrote a state and the remote must be signalled.
    public var kickRemote: Bool

    public init(isOpen: Bool, kickRemote: Bool) {
        self.isOpen = isOpen
        self.kickRemote = kickRemote
    }
}

/// What a remote-side step did.
public enum SmdRemoteEvent: Sendable, Equatable {
    /// Nothing changed.
    case none
    /// Both sides are OPENED: the channel can carry packets.
    case opened
    /// The host left an open channel; this side was reset (and announced again if still served).
    case hostLeft
}

/// Result of `SmdChannel.remoteStep()`.
public struct SmdRemoteStep: Sendable, Equatable {
    public var event: SmdRemoteEvent
    /// Whether a state was written and the host must be signalled.
    public var kickHost: Bool

    public init(event: SmdRemoteEvent, kickHost: Bool) {
        self.event = event
        self.kickHost = kickHost
    }
}

extension SmdChannel {
    /// Each handshake stage's deadline: 1 s.
    public static var handshakeStageTimeout: Duration { .milliseconds(SmdConstants.handshakeStageTimeoutMilliseconds) }

    // MARK: Host

    /// Starts the host's open handshake: writes OPENING.
    ///
    /// - Parameter now: the current time; the first stage ends at `now + 1 s`.
    /// - Returns: true: the remote must be signalled.
    /// - Throws: `SmdError.busy` unless the channel is CLOSED with no handshake in flight.
    @discardableResult
    public func beginOpen(now: ContinuousClock.Instant) throws(SmdError) -> Bool {
        guard state == .closed, openStage == nil else {
            throw SmdError(.busy, channel: name, "cannot open: channel is \(state)")
        }
        setState(.opening)
        openStage = .awaitingRemoteOpening(deadline: now.advanced(by: Self.handshakeStageTimeout))
        return true
    }

    /// Advances the host's open handshake; call when signalled and when `openDeadline` passes.
    ///
    /// - Returns: whether the channel is open now and whether the remote must be signalled.
    /// - Throws: `SmdError.timedOut` (after writing CLOSED) when a stage's deadline passed,
    ///   `SmdError.notOpen` when no handshake is in flight and the channel is not open,
    ///   `SmdError.protocolViolation` when the remote's state is garbage.
    public func continueOpen(now: ContinuousClock.Instant) throws(SmdError) -> SmdOpenStep {
        guard let stage = openStage else {
            guard state == .opened else { throw SmdError(.notOpen, channel: name, "no open handshake in flight (channel is \(state))") }
            return SmdOpenStep(isOpen: true, kickRemote: false)
        }
        let remote = try readRemoteState()
        switch stage {
        case .awaitingRemoteOpening(let deadline):
            guard remote.isOpeningOrOpened else {
                if now >= deadline { try failOpen("remote side did not enter opening state") }
                return SmdOpenStep(isOpen: false, kickRemote: false)
            }
            setState(.opened)
            if remote == .opened {
                openStage = nil
                return SmdOpenStep(isOpen: true, kickRemote: true)
            }
            openStage = .awaitingRemoteOpened(deadline: now.advanced(by: Self.handshakeStageTimeout))
            return SmdOpenStep(isOpen: false, kickRemote: true)
        case .awaitingRemoteOpened(let deadline):
            if remote == .opened {
                openStage = nil
                return SmdOpenStep(isOpen: true, kickRemote: false)
            }
            if now >= deadline { try failOpen("remote side did not enter open state") }
            return SmdOpenStep(isOpen: false, kickRemote: false)
        }
    }

    /// The deadline of the handshake stage in flight, if any.
    public var openDeadline: ContinuousClock.Instant? {
        switch openStage {
        case .awaitingRemoteOpening(let deadline), .awaitingRemoteOpened(let deadline): deadline
        case nil: nil
        }
    }

    /// Whether a host open handshake is in flight.
    public var isOpening: Bool { openStage != nil }

    private func failOpen(_ message: String) throws(SmdError) -> Never {
        openStage = nil
        setState(.closed)
        throw SmdError(.timedOut, channel: name, message)
    }

    // MARK: Remote

    /// Starts serving the channel (remote side): from CLOSED, reset and announce OPENING.
    ///
    /// - Returns: whether the host must be signalled.
    @discardableResult
    public func remoteOpen() -> Bool {
        serving = true
        guard state == .closed else { return false }
        reset()
        setState(.opening)
        return true
    }

    /// Stops serving the channel (remote side): CLOSED and reset.
    ///
    /// - Returns: true: the host must be signalled.
    @discardableResult
    public func remoteClose() -> Bool {
        serving = false
        return close()
    }

    /// Whether the remote side serves this channel (reopens it after the host left).
    public var isServing: Bool { serving }

    /// Reacts to the host's state (remote side); call on every signal before `handleInterrupt`.
    ///
    /// - Throws: `SmdError.protocolViolation` when the host's state is garbage.
    public func remoteStep() throws(SmdError) -> SmdRemoteStep {
        let host = try readRemoteState()
        switch state {
        case .opening where host == .opened:
            setState(.opened)
            return SmdRemoteStep(event: .opened, kickHost: true)
        case .opened where host != .opened:
            reset()
            if serving { setState(.opening) }
            return SmdRemoteStep(event: .hostLeft, kickHost: true)
        case .closed where serving:
            reset()
            setState(.opening)
            return SmdRemoteStep(event: .none, kickHost: true)
        default:
            return SmdRemoteStep(event: .none, kickHost: false)
        }
    }
}

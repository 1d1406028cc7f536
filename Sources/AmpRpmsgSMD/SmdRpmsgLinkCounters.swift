// Running totals of one SMD rpmsg link, for diagnostics and tests. The rpmsg core keeps its own counters
// (per endpoint, drops for unknown addresses); these count what only the transport sees: packets through the
// FIFOs, waits for room, handshakes and protocol violations.

/// Totals of one ``SmdRpmsgEdgeLink``.
public struct SmdRpmsgLinkCounters: Sendable, Equatable {
    /// Packets taken out of the receive FIFOs (all channels).
    public var received: UInt64 = 0
    /// Payload bytes of those packets.
    public var receivedBytes: UInt64 = 0
    /// Packets written into the transmit FIFOs.
    public var transmitted: UInt64 = 0
    /// Payload bytes of those packets.
    public var transmittedBytes: UInt64 = 0
    /// Blocking sends that found the FIFO full and had to wait for the remote to read.
    public var blockedSends: UInt64 = 0
    /// Blocking sends that gave up after their timeout.
    public var sendTimeouts: UInt64 = 0
    /// try* sends that found the FIFO full.
    public var noBuffer: UInt64 = 0
    /// Fatal protocol violations (at most one: the first one breaks the link).
    public var violations: UInt64 = 0
    /// Open handshakes completed (each makes the channel appear on the bus).
    public var channelsOpened: UInt64 = 0
    /// Open channels the remote left (each made the channel disappear from the bus).
    public var channelsClosed: UInt64 = 0
    /// Open handshakes that missed a 1 s stage deadline.
    public var handshakeTimeouts: UInt64 = 0
    /// Kicks rung on the to-remote doorbell.
    public var kicks: UInt64 = 0

    public init() {}
}

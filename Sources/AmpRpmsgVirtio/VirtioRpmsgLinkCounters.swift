// Running totals of one virtio rpmsg link, for diagnostics and tests. The rpmsg core keeps its own counters
// (messages per endpoint, drops for unknown addresses); these count what only the transport sees: buffers,
// waits, kicks and protocol violations.

/// Totals of one ``VirtioRpmsgLink``.
public struct VirtioRpmsgLinkCounters: Sendable, Equatable {
    /// Buffers taken from vring0 (every one was posted again at once).
    public var received: UInt64 = 0
    /// Messages put on vring1.
    public var transmitted: UInt64 = 0
    /// Received messages dropped because they named address ANY (src or dst).
    public var rejected: UInt64 = 0
    /// Fatal protocol violations (at most one per link: the first one breaks it).
    public var violations: UInt64 = 0
    /// try* sends that found no transmit buffer.
    public var noBuffer: UInt64 = 0
    /// Blocking sends that had to wait for a transmit buffer.
    public var blockedSends: UInt64 = 0
    /// Blocking sends that gave up after their timeout.
    public var sendTimeouts: UInt64 = 0
    /// Kicks rung on the to-remote doorbell (vring0 and vring1 together).
    public var kicks: UInt64 = 0

    public init() {}
}

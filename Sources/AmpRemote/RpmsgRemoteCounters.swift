/// Running totals of the remote's rpmsg device, for traces, tests and the host's diagnostics.
///
/// Linux drops a message without a recipient with one log line and leaks a buffer whose header is too long;
/// the runtime counts both, traces them, and always returns the buffer to the host.
public struct RpmsgRemoteCounters: Sendable, Equatable {
    /// Messages taken from vring1 with a valid header (including name-service messages and dropped ones).
    public var received: UInt64 = 0
    /// Messages put on vring0 (firmware sends and name-service announcements).
    public var sent: UInt64 = 0
    /// Valid messages for an address with no endpoint ("no recipient"): returned unread.
    public var dropped: UInt64 = 0
    /// Buffers on vring1 too short for a header, or whose header's length runs past the buffer: returned unread.
    public var malformed: UInt64 = 0
    /// Ring protocol violations by the host (each one ends in a fatal error report).
    public var violations: UInt64 = 0
    /// Name-service announcements sent (CREATE and DESTROY).
    public var announcements: UInt64 = 0
    /// Received buffers currently held by the firmware (``RpmsgReceivedMessage/hold()``).
    public var held: Int = 0
    /// Sends that had to wait for a transmit buffer.
    public var sendWaits: UInt64 = 0
    /// Blocking sends that gave up after their timeout.
    public var sendTimeouts: UInt64 = 0

    public init() {}
}

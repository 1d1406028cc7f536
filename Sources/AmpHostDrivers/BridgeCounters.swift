// What the userland bridges report: running totals per bridge, and a snapshot per channel for listings
// (`ampsoc ls`). "rx" is the direction from the remote to the user, "tx" from the user to the remote, as
// for an rpmsg endpoint on the host.

import AmpRpmsg

/// Running totals of one bridge (an endpoint socket or a terminal).
public struct BridgeCounters: Sendable, Equatable {
    /// Messages received from the remote and accepted into the bridge (dropped ones excluded).
    public var rxMessages: UInt64 = 0
    /// Payload bytes of ``rxMessages``.
    public var rxBytes: UInt64 = 0
    /// Messages sent to the remote.
    public var txMessages: UInt64 = 0
    /// Payload bytes of ``txMessages``.
    public var txBytes: UInt64 = 0
    /// Messages from the remote discarded because the bridge's queue was full (or it was closed).
    public var dropped: UInt64 = 0
    /// Messages a socket client wrote that were longer than the MTU and therefore not sent.
    public var oversize: UInt64 = 0
    /// Sends to the remote that failed (the message is lost; see ``BridgeSnapshot/lastError``).
    public var sendFailures: UInt64 = 0
    /// Clients accepted as the socket's client.
    public var connections: UInt64 = 0
    /// Connections closed at once because another client was connected.
    public var rejectedClients: UInt64 = 0
    /// Messages from the remote waiting in the bridge's queue now.
    public var queued: Int = 0

    public init() {}
}

/// One bridge as a driver lists it.
public struct BridgeSnapshot: Sendable, Equatable {
    /// The kind of userland interface.
    public enum Kind: String, Sendable, Equatable {
        /// A SOCK_SEQPACKET UNIX socket (``EndpointSocketBridge``), the /dev/rpmsgN equivalent.
        case endpointSocket = "socket"
        /// A pseudo-terminal (``TerminalBridge``), the /dev/ttyRPMSGN equivalent.
        case terminal = "tty"
    }

    public var kind: Kind
    /// The channel's device name ("<link>.<name>.<src>.<dst>").
    public var channel: String
    /// The link the channel lives on, e.g. "ipu.vdev0".
    public var link: String
    /// The channel's service name, e.g. "rpmsg-raw".
    public var channelName: String
    /// The host endpoint's address.
    public var localAddress: UInt32
    /// The remote address messages are sent to.
    public var remoteAddress: UInt32
    /// The socket's path or the terminal's slave device.
    public var path: String
    /// Largest message (socket) or chunk (terminal) sent to the remote.
    public var mtu: Int
    /// Whether a client is connected (sockets); nil for terminals, where it cannot be known.
    public var isClientConnected: Bool?
    public var counters: BridgeCounters
    /// The last problem met (a failed send, an oversize message, a system-call error), if any.
    public var lastError: String?

    public init(
        kind: Kind, channel: String, link: String, channelName: String, localAddress: UInt32, remoteAddress: UInt32,
        path: String, mtu: Int, isClientConnected: Bool?, counters: BridgeCounters, lastError: String?
    ) {
        self.kind = kind
        self.channel = channel
        self.link = link
        self.channelName = channelName
        self.localAddress = localAddress
        self.remoteAddress = remoteAddress
        self.path = path
        self.mtu = mtu
        self.isClientConnected = isClientConnected
        self.counters = counters
        self.lastError = lastError
    }
}

/// How a bridge sends one message (at most the MTU) to the remote: normally the channel endpoint's blocking
/// ``RpmsgEndpoint/send(_:)``. It runs on the bridge's own thread.
public typealias BridgeSend = @Sendable (_ payload: [UInt8]) throws(RpmsgError) -> Void

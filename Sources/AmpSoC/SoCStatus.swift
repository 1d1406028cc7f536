import AmpHostDrivers
import AmpProfiles
import AmpRemoteproc
import AmpRpmsg

/// One remote processor as `ampsoc ls` shows it.
public struct ProcessorStatus: Sendable, Equatable {
    public var name: String
    public var state: RemoteprocState
    /// The firmware as configured (profile or `rproc NAME firmware`).
    public var firmware: String
    public var crashCount: Int
    public var powerCount: Int
    /// The firmware process while one exists.
    public var pid: Int32?
    public var recoveryEnabled: Bool
    public var coredump: CoredumpMode
    /// The rpmsg links of the current boot ("ipu.vdev0"), empty when offline.
    public var links: [String]
}

/// One rpmsg channel on the host bus.
public struct ChannelStatus: Sendable, Equatable {
    /// The remote processor the channel's link belongs to.
    public var rproc: String
    /// The link ("ipu.vdev0").
    public var link: String
    /// The wire protocol under the link: "virtio" or "smd".
    public var transport: String
    public var name: String
    /// The host's address for the channel (its endpoint's address once a driver bound, else the channel's
    /// source, ANY for announced channels).
    public var source: UInt32
    /// The remote's address.
    public var destination: UInt32
    /// The channel's device name ("ipu.vdev0.rpmsg-echo.-1.1024").
    public var deviceName: String
    /// The bound host driver, if any.
    public var driver: String?
    /// Traffic of the channel's endpoint (zero until a driver bound).
    public var counters: RpmsgEndpointCounters
    /// The endpoint socket of an "rpmsg-raw"/"rpmsg_chrdev" channel.
    public var socketPath: String?
    /// The pseudo-terminal of an "rpmsg-tty" channel.
    public var terminalPath: String?
    /// The socket's or terminal's own traffic and problems.
    public var bridge: BridgeStatus?
}

/// The userland side of an endpoint socket or a channel's terminal.
public struct BridgeStatus: Sendable, Equatable {
    /// Longest message sent to the remote; longer client messages are refused.
    public var mtu: Int
    /// Whether a client is connected now (sockets; nil for terminals).
    public var clientConnected: Bool?
    public var counters: BridgeCounters
    /// The last problem met (a failed send, an oversize message, a system-call error).
    public var lastError: String?
}

/// An endpoint created through ``EmulatedSoC/createEndpoint(rproc:name:source:destination:)``.
public struct EndpointStatus: Sendable, Equatable {
    public var rproc: String
    public var link: String
    public var name: String
    public var address: UInt32
    public var destination: UInt32
    public var counters: RpmsgEndpointCounters
    /// Its SOCK_SEQPACKET socket.
    public var socketPath: String?
    /// The socket's own traffic and problems.
    public var bridge: BridgeStatus?
}

/// A message received by the Swift API.
public struct SoCMessage: Sendable, Equatable {
    public var payload: [UInt8]
    /// The sender's address.
    public var source: UInt32

    public init(payload: [UInt8], source: UInt32) {
        self.payload = payload
        self.source = source
    }
}

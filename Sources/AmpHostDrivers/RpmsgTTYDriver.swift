// A host driver that gives userland a terminal per channel, as Linux's rpmsg_tty does with /dev/ttyRPMSGN
// for channels named "rpmsg-tty".
//
//   probe:    opens a TerminalBridge (a pseudo-terminal, slave /dev/pts/N in raw mode); bytes typed on it are
//             sent with the channel endpoint's blocking send, in chunks of at most the MTU;
//   message:  handed to the bridge (written to the terminal; never blocks the receive thread);
//   remove:   closes the bridge: programs holding the terminal see a hang-up.

import AmpRpmsg
import AmpSystem

/// Binds "rpmsg-tty" channels to pseudo-terminals.
public final class RpmsgTTYDriver: RpmsgDriver {
    /// Channel names the driver serves.
    public static let channelNames = ["rpmsg-tty"]

    public let name: String
    public var idTable: [String] { Self.channelNames }
    /// Queue bound of every bridge (messages from the remote kept for the terminal).
    public let queueCapacity: Int
    private let bridges = ChannelBridgeTable<TerminalBridge>(kind: .terminal)

    public init(name: String = "rpmsg_tty", queueCapacity: Int = TerminalBridge.defaultQueueCapacity) {
        self.name = name
        self.queueCapacity = queueCapacity
    }

    /// The terminal (slave device path) of `channel`, while the driver is bound to it.
    public func terminalPath(forChannel channel: RpmsgChannel) -> String? {
        bridges.bridge(for: channel)?.path
    }

    /// The terminal of the channel whose device name ("<link>.<name>.<src>.<dst>") is `deviceName`.
    public func terminalPath(forChannel deviceName: String) -> String? {
        bridges.bridge(forDeviceName: deviceName)?.path
    }

    /// The bridge serving `channel`, for its counters or to close it early.
    public func bridge(forChannel channel: RpmsgChannel) -> TerminalBridge? {
        bridges.bridge(for: channel)
    }

    /// Every terminal with its channel and counters, ordered by link and local address.
    public var snapshots: [BridgeSnapshot] { bridges.snapshots }

    public func probe(_ channel: RpmsgChannel) throws(RpmsgError) {
        guard let endpoint = channel.endpoint else {
            throw RpmsgError(.noDevice, "\(channel.deviceName): no endpoint to bridge")
        }
        let bridge: TerminalBridge
        do {
            bridge = try TerminalBridge(
                mtu: endpoint.mtu, queueCapacity: queueCapacity, send: RpmsgRawDriver.sender(for: endpoint))
        } catch {
            channel.log("cannot open a terminal: \(error)")
            bridges.discardEarly(for: channel)
            throw bridgeError(error, channel: channel)
        }
        bridges.insert(bridge, for: channel)
        channel.log("terminal \(bridge.path)")
    }

    public func remove(_ channel: RpmsgChannel) {
        bridges.remove(channel)?.close()
    }

    public func callback(_ channel: RpmsgChannel, payload: [UInt8], source: UInt32) {
        bridges.deliver(payload, for: channel)
    }
}

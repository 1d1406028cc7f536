// The bookkeeping both bridging drivers share: which bridge serves which channel, looked up by the channel
// object (probe, callback, remove) or by its device name (listings, the control socket), and snapshots.

import AmpRpmsg
import Synchronization

/// What a bridging driver needs from a bridge.
protocol ChannelBridge: AnyObject, Sendable {
    var path: String { get }
    var mtu: Int { get }
    var counters: BridgeCounters { get }
    var lastError: String? { get }
    var isClientConnectedIfKnown: Bool? { get }
    func deliver(_ payload: [UInt8])
    func close()
}

extension EndpointSocketBridge: ChannelBridge {
    var isClientConnectedIfKnown: Bool? { isClientConnected }
}

extension TerminalBridge: ChannelBridge {
    var isClientConnectedIfKnown: Bool? { nil }
}

/// Bridges by channel, thread-safe.
final class ChannelBridgeTable<Bridge: ChannelBridge>: Sendable {
    struct Entry: Sendable {
        let channel: RpmsgChannelInfo
        let localAddress: UInt32
        let bridge: Bridge
    }

    private let kind: BridgeSnapshot.Kind
    private let entries = Mutex<[ObjectIdentifier: Entry]>([:])

    init(kind: BridgeSnapshot.Kind) {
        self.kind = kind
    }

    func insert(_ bridge: Bridge, for channel: RpmsgChannel) {
        let entry = Entry(channel: channel.info, localAddress: channel.localAddress, bridge: bridge)
        entries.withLock { $0[ObjectIdentifier(channel)] = entry }
    }

    func bridge(for channel: RpmsgChannel) -> Bridge? {
        entries.withLock { $0[ObjectIdentifier(channel)]?.bridge }
    }

    /// The bridge of the channel whose device name ("<link>.<name>.<src>.<dst>") is `deviceName`.
    func bridge(forDeviceName deviceName: String) -> Bridge? {
        entries.withLock { table in table.values.first { $0.channel.deviceName == deviceName }?.bridge }
    }

    func remove(_ channel: RpmsgChannel) -> Bridge? {
        entries.withLock { $0.removeValue(forKey: ObjectIdentifier(channel))?.bridge }
    }

    /// One snapshot per bridge, ordered by link, then local address.
    var snapshots: [BridgeSnapshot] {
        let current = entries.withLock { Array($0.values) }
        return current.map { entry in
            BridgeSnapshot(
                kind: kind, channel: entry.channel.deviceName, link: entry.channel.link, channelName: entry.channel.name,
                localAddress: entry.localAddress, remoteAddress: entry.channel.destination, path: entry.bridge.path,
                mtu: entry.bridge.mtu, isClientConnected: entry.bridge.isClientConnectedIfKnown,
                counters: entry.bridge.counters, lastError: entry.bridge.lastError)
        }.sorted { ($0.link, $0.localAddress, $0.channel) < ($1.link, $1.localAddress, $1.channel) }
    }
}

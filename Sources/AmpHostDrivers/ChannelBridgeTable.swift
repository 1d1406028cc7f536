// The bookkeeping both bridging drivers share: which bridge serves which channel, looked up by the channel
// object (probe, callback, remove) or by its device name (listings, the control socket), and snapshots.
// Messages that arrive while a probe is still making the bridge (the bus creates the channel's endpoint
// first) are held and handed to the bridge, in order, when it is inserted.

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
    private let entries = Mutex<Tables>(Tables())
    /// Most messages held for one channel before its bridge exists; beyond that the oldest are dropped.
    static var earlyLimit: Int { 1024 }

    struct Tables {
        var bridges: [ObjectIdentifier: Entry] = [:]
        /// Messages for channels whose bridge is being made.
        var early: [ObjectIdentifier: [[UInt8]]] = [:]
    }

    init(kind: BridgeSnapshot.Kind) {
        self.kind = kind
    }

    /// Publishes `bridge` for `channel`, first handing it the messages that arrived meanwhile (a bridge's
    /// `deliver` only queues, so this holds the lock briefly and keeps the order).
    func insert(_ bridge: Bridge, for channel: RpmsgChannel) {
        let entry = Entry(channel: channel.info, localAddress: channel.localAddress, bridge: bridge)
        entries.withLock { tables in
            for payload in tables.early.removeValue(forKey: ObjectIdentifier(channel)) ?? [] { bridge.deliver(payload) }
            tables.bridges[ObjectIdentifier(channel)] = entry
        }
    }

    /// Hands a message for `channel` to its bridge, or holds it until the bridge is inserted.
    func deliver(_ payload: [UInt8], for channel: RpmsgChannel) {
        let key = ObjectIdentifier(channel)
        let bridge = entries.withLock { tables -> Bridge? in
            if let bridge = tables.bridges[key]?.bridge { return bridge }
            // Taken out of the table while it grows, so appending does not copy it.
            var held = tables.early.removeValue(forKey: key) ?? []
            if held.count >= Self.earlyLimit { held.removeFirst() }
            held.append(payload)
            tables.early[key] = held
            return nil
        }
        bridge?.deliver(payload)
    }

    /// Forgets what was held for `channel` (its probe failed).
    func discardEarly(for channel: RpmsgChannel) {
        _ = entries.withLock { $0.early.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    func bridge(for channel: RpmsgChannel) -> Bridge? {
        entries.withLock { $0.bridges[ObjectIdentifier(channel)]?.bridge }
    }

    /// The bridge of the channel whose device name ("<link>.<name>.<src>.<dst>") is `deviceName`.
    func bridge(forDeviceName deviceName: String) -> Bridge? {
        entries.withLock { tables in tables.bridges.values.first { $0.channel.deviceName == deviceName }?.bridge }
    }

    func remove(_ channel: RpmsgChannel) -> Bridge? {
        entries.withLock { tables in
            tables.early[ObjectIdentifier(channel)] = nil
            return tables.bridges.removeValue(forKey: ObjectIdentifier(channel))?.bridge
        }
    }

    /// One snapshot per bridge, ordered by link, then local address.
    var snapshots: [BridgeSnapshot] {
        let current = entries.withLock { Array($0.bridges.values) }
        return current.map { entry in
            BridgeSnapshot(
                kind: kind, channel: entry.channel.deviceName, link: entry.channel.link, channelName: entry.channel.name,
                localAddress: entry.localAddress, remoteAddress: entry.channel.destination, path: entry.bridge.path,
                mtu: entry.bridge.mtu, isClientConnected: entry.bridge.isClientConnectedIfKnown,
                counters: entry.bridge.counters, lastError: entry.bridge.lastError)
        }.sorted { ($0.link, $0.localAddress, $0.channel) < ($1.link, $1.localAddress, $1.channel) }
    }
}

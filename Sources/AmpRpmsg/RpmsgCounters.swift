// Counters kept by the rpmsg core: per link (and summed over every link of a registry) and per endpoint.
// They are plain snapshots; the live values sit behind a mutex in the object that owns them.

import Synchronization

/// Traffic and problems seen on one link, or summed over links (``RpmsgDriverRegistry/totals``).
public struct RpmsgLinkCounters: Sendable, Hashable {
    /// Messages the transport handed to the bus (delivered, dropped or rejected alike).
    public var rxMessages: UInt64 = 0
    /// Payload bytes of those messages.
    public var rxBytes: UInt64 = 0
    /// Messages sent successfully over the link.
    public var txMessages: UInt64 = 0
    /// Payload bytes of those messages.
    public var txBytes: UInt64 = 0
    /// Inbound messages whose destination address had no endpoint.
    public var droppedNoRecipient: UInt64 = 0
    /// Name-service messages rejected (not exactly 40 bytes, or unusable content).
    public var malformedNameService: UInt64 = 0
    /// Frames the transport could not parse (reported through ``RpmsgBus/reportInvalidInbound(_:)``).
    public var invalidInbound: UInt64 = 0

    public init() {}
}

/// Traffic of one endpoint.
public struct RpmsgEndpointCounters: Sendable, Hashable {
    /// Messages delivered to the endpoint's callback.
    public var rxMessages: UInt64 = 0
    /// Payload bytes of those messages.
    public var rxBytes: UInt64 = 0
    /// Messages sent successfully from the endpoint.
    public var txMessages: UInt64 = 0
    /// Payload bytes of those messages.
    public var txBytes: UInt64 = 0

    public init() {}
}

/// Live link counters behind a mutex.
final class LinkCounterCell: Sendable {
    private let value = Mutex(RpmsgLinkCounters())

    var snapshot: RpmsgLinkCounters { value.withLock { $0 } }

    func update(_ change: (inout RpmsgLinkCounters) -> Void) {
        value.withLock { change(&$0) }
    }
}

// Counters kept by the rpmsg core: per link (and summed over every link of a registry) and per endpoint.
// They are plain snapshots; the live values are relaxed atomics (one per field) in the cells below, so counting a
// message on the hot path is an atomic add, never a lock. A snapshot reads the fields one by one: taken while
// traffic flows, its fields may come from slightly different instants (each is exact on its own).

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

/// The traffic half of a live counter cell (messages and payload bytes, each way): one relaxed atomic per
/// field, stored inline in the cell that owns it (no indirection on the hot path).
struct TrafficCounterAtomics: ~Copyable, Sendable {
    let rxMessages = Atomic<UInt64>(0)
    let rxBytes = Atomic<UInt64>(0)
    let txMessages = Atomic<UInt64>(0)
    let txBytes = Atomic<UInt64>(0)

    /// One message of `bytes` payload bytes received (the hot path).
    @inline(__always)
    func countReceived(bytes: Int) {
        rxMessages.wrappingAdd(1, ordering: .relaxed)
        rxBytes.wrappingAdd(UInt64(bytes), ordering: .relaxed)
    }

    /// One message of `bytes` payload bytes sent (the hot path).
    @inline(__always)
    func countTransmitted(bytes: Int) {
        txMessages.wrappingAdd(1, ordering: .relaxed)
        txBytes.wrappingAdd(UInt64(bytes), ordering: .relaxed)
    }

    /// The four values as they are now: rx messages, rx bytes, tx messages, tx bytes.
    var values: (rxMessages: UInt64, rxBytes: UInt64, txMessages: UInt64, txBytes: UInt64) {
        (rxMessages.load(ordering: .relaxed), rxBytes.load(ordering: .relaxed),
         txMessages.load(ordering: .relaxed), txBytes.load(ordering: .relaxed))
    }
}

/// Live link counters: one relaxed atomic per field.
final class LinkCounterCell: Sendable {
    private let traffic = TrafficCounterAtomics()
    private let droppedNoRecipient = Atomic<UInt64>(0)
    private let malformedNameService = Atomic<UInt64>(0)
    private let invalidInbound = Atomic<UInt64>(0)

    var snapshot: RpmsgLinkCounters {
        var totals = RpmsgLinkCounters()
        (totals.rxMessages, totals.rxBytes, totals.txMessages, totals.txBytes) = traffic.values
        totals.droppedNoRecipient = droppedNoRecipient.load(ordering: .relaxed)
        totals.malformedNameService = malformedNameService.load(ordering: .relaxed)
        totals.invalidInbound = invalidInbound.load(ordering: .relaxed)
        return totals
    }

    /// Adds what `change` adds to a zeroed set of counters (counters only ever grow).
    func update(_ change: (inout RpmsgLinkCounters) -> Void) {
        var delta = RpmsgLinkCounters()
        change(&delta)
        add(delta.rxMessages, to: traffic.rxMessages)
        add(delta.rxBytes, to: traffic.rxBytes)
        add(delta.txMessages, to: traffic.txMessages)
        add(delta.txBytes, to: traffic.txBytes)
        add(delta.droppedNoRecipient, to: droppedNoRecipient)
        add(delta.malformedNameService, to: malformedNameService)
        add(delta.invalidInbound, to: invalidInbound)
    }

    /// One message of `bytes` payload bytes received (the hot path).
    @inline(__always)
    func countReceived(bytes: Int) { traffic.countReceived(bytes: bytes) }

    /// One message of `bytes` payload bytes sent (the hot path).
    @inline(__always)
    func countTransmitted(bytes: Int) { traffic.countTransmitted(bytes: bytes) }

    @inline(__always)
    private func add(_ value: UInt64, to counter: borrowing Atomic<UInt64>) {
        if value != 0 { counter.wrappingAdd(value, ordering: .relaxed) }
    }
}

/// Live endpoint counters: one relaxed atomic per field.
final class EndpointCounterCell: Sendable {
    private let traffic = TrafficCounterAtomics()

    var snapshot: RpmsgEndpointCounters {
        var totals = RpmsgEndpointCounters()
        (totals.rxMessages, totals.rxBytes, totals.txMessages, totals.txBytes) = traffic.values
        return totals
    }

    @inline(__always)
    func countReceived(bytes: Int) { traffic.countReceived(bytes: bytes) }

    @inline(__always)
    func countTransmitted(bytes: Int) { traffic.countTransmitted(bytes: bytes) }
}

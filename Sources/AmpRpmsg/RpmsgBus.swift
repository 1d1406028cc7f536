// The transport-agnostic rpmsg core for one link (what Linux's rpmsg_core.c plus the endpoint table of
// virtio_rpmsg_bus.c do for one rpmsg device): endpoint addresses, inbound dispatch by destination address,
// channels and their drivers, the name service (RpmsgNameService.swift), counters and events.
//
// Inbound: the transport calls `receive(source:destination:payload:)` for each message, or lends it in
// place through its receive thread's `RpmsgInboundDelivery`. The destination's endpoint gets
// callback(endpoint, payload, source); a message for an unbound address is counted (on the link and in the
// registry's totals) and reported as `droppedNoRecipient`, never dropped silently.
//
// Lifetime: a bus starts up and lives until `linkDown()` (remote stopped or crashed): then every channel is
// destroyed (drivers' remove runs) and every endpoint with it, and every later send fails with .noDevice.
// A link is not brought up again: recovery creates a new transport and a new bus.
//
// Threading: tables are guarded by a Mutex; endpoint callbacks, driver methods and the event sink are
// always invoked with no lock held, so they may send and create or destroy endpoints and channels.
// Lock order where two are nested: bus tables, then a channel's state.

import AmpWire
import Synchronization

/// The rpmsg core of one link.
public final class RpmsgBus: Sendable {
    /// The link's operations.
    public let transport: any RpmsgTransport
    /// Drivers, event sink and counter totals shared with other links.
    public let registry: RpmsgDriverRegistry
    /// How long blocking sends wait for a buffer (Linux: 15 s).
    public let sendTimeout: Duration

    let linkCounters = LinkCounterCell()
    /// Whether the link is up; endpoints hold it strongly, so their send path needs no weak load of the bus.
    let liveness = LinkLiveness()
    let tables = Mutex(Tables())

    struct Tables {
        var endpoints = RpmsgAddressTable<RpmsgEndpoint>()
        /// In creation order.
        var channels: [RpmsgChannel] = []
    }

    /// Creates the core of a link that is up, attaches it to `registry` and, when the transport carries
    /// name-service messages, binds the name-service endpoint at address 53.
    public init(
        transport: any RpmsgTransport, registry: RpmsgDriverRegistry = RpmsgDriverRegistry(),
        sendTimeout: Duration = .seconds(15)
    ) {
        self.transport = transport
        self.registry = registry
        self.sendTimeout = sendTimeout
        registry.trackCounters(linkCounters)
        if transport.supportsNameService {
            RpmsgNameService.start(on: self)
        }
        registry.attach(self)
    }

    deinit {
        // A bus dropped without linkDown(): its endpoints must not send any more.
        _ = liveness.markDown()
    }

    /// The link's name (the transport's).
    public var name: String { transport.name }

    /// Largest payload a send accepts.
    public var mtu: Int { transport.mtu }

    /// False once ``linkDown()`` was called.
    public var isUp: Bool { liveness.isUp }

    /// Traffic and problems seen on this link.
    public var counters: RpmsgLinkCounters { linkCounters.snapshot }

    /// Bound endpoint addresses in increasing order (the name service's 53 included).
    public var endpointAddresses: [UInt32] { tables.withLock { $0.endpoints.addresses } }

    /// The endpoint bound to `address`, if any.
    public func endpoint(at address: UInt32) -> RpmsgEndpoint? {
        tables.withLock { $0.endpoints[address] }
    }

    // MARK: Endpoints

    /// Creates an endpoint not tied to a channel (`rpmsg_create_ept`).
    ///
    /// - Parameters:
    ///   - address: a fixed address, or ``RpmsgConstants/addressAny`` for the lowest free one >= 1024.
    ///   - destination: where ``RpmsgEndpoint/send(_:)`` goes; ANY makes it fail (use `sendTo`).
    ///   - callback: runs for every message delivered to the endpoint.
    /// - Throws: `.addressInUse` for a fixed address that is bound, `.noDevice` when the link is down.
    public func createEndpoint(
        address: UInt32 = RpmsgConstants.addressAny, destination: UInt32 = RpmsgConstants.addressAny,
        callback: @escaping RpmsgEndpointCallback
    ) throws(RpmsgError) -> RpmsgEndpoint {
        try makeEndpoint(address: address, destination: destination, channel: nil, handler: .copying(callback))
    }

    /// Creates an endpoint not tied to a channel whose callback is lent each payload instead of given a copy
    /// (see ``RpmsgEndpointBorrowingCallback``); otherwise as ``createEndpoint(address:destination:callback:)``.
    public func createBorrowingEndpoint(
        address: UInt32 = RpmsgConstants.addressAny, destination: UInt32 = RpmsgConstants.addressAny,
        callback: @escaping RpmsgEndpointBorrowingCallback
    ) throws(RpmsgError) -> RpmsgEndpoint {
        try makeEndpoint(address: address, destination: destination, channel: nil, handler: .borrowing(callback))
    }

    func makeEndpoint(
        address: UInt32, destination: UInt32, channel: RpmsgChannel?, handler: RpmsgEndpointHandler
    ) throws(RpmsgError) -> RpmsgEndpoint {
        try tables.withLock { tables throws(RpmsgError) -> RpmsgEndpoint in
            guard isUp else {
                throw RpmsgError(.noDevice, "\(name): the link is down")
            }
            return try tables.endpoints.bind(address) { bound in
                RpmsgEndpoint(
                    address: bound, destination: destination, channel: channel, bus: self, handler: handler)
            }
        }
    }

    /// Destroys `endpoint` and frees its address (if it still holds it).
    func destroyEndpoint(_ endpoint: RpmsgEndpoint) {
        guard endpoint.markDestroyed() else { return }
        tables.withLock { tables in
            if tables.endpoints[endpoint.address] === endpoint {
                tables.endpoints.release(endpoint.address)
            }
        }
    }

    // MARK: Inbound

    /// Delivers one inbound message to the endpoint bound to `destination` (called by the transport).
    public func receive(source: UInt32, destination: UInt32, payload: [UInt8]) {
        linkCounters.countReceived(bytes: payload.count)
        let endpoint = tables.withLock { $0.endpoints[destination] }
        if let endpoint, endpoint.deliver(payload, from: source) { return }
        dropNoRecipient(source: source, destination: destination, length: payload.count)
    }

    /// A receive thread's delivery path for this bus, for transports that lend payloads in place (see
    /// ``RpmsgInboundDelivery``).
    public func makeInboundDelivery() -> RpmsgInboundDelivery {
        RpmsgInboundDelivery(bus: self)
    }

    /// Counts and reports a message for an address without an endpoint.
    func dropNoRecipient(source: UInt32, destination: UInt32, length: Int) {
        count { $0.droppedNoRecipient += 1 }
        emit(.droppedNoRecipient(link: name, source: source, destination: destination, length: length))
    }

    /// Counts and reports an inbound frame the transport could not parse (for example a header length
    /// beyond the buffer); the transport recycles the buffer instead of leaking it.
    public func reportInvalidInbound(_ reason: String) {
        count { $0.invalidInbound += 1 }
        emit(.invalidInbound(link: name, reason: reason))
    }

    // MARK: Link state

    /// The remote stopped or crashed: destroys every channel (newest first; drivers' remove runs, without
    /// announcements since nobody listens) and every endpoint, detaches from the registry, and makes
    /// every later send fail with `.noDevice`. Idempotent.
    public func linkDown() {
        guard liveness.markDown() else { return }
        let channels = tables.withLock { tables in
            let channels = tables.channels
            tables.channels.removeAll()
            return channels
        }
        for channel in channels.reversed() {
            tearDown(channel)
        }
        let endpoints = tables.withLock { tables in
            let endpoints = tables.endpoints.addresses.compactMap { tables.endpoints[$0] }
            tables.endpoints = RpmsgAddressTable()
            return endpoints
        }
        for endpoint in endpoints {
            _ = endpoint.markDestroyed()
        }
        registry.detach(self)
        emit(.linkDown(link: name))
    }

    // MARK: Counters and events

    /// Applies a change to this link's counters (the registry's totals are sums over its links' counters).
    func count(_ change: (inout RpmsgLinkCounters) -> Void) {
        linkCounters.update(change)
    }

    func emit(_ event: RpmsgEvent) {
        registry.emit(event)
    }
}

/// Whether one link is up: true from creation until ``markDown()``.
final class LinkLiveness: Sendable {
    private let up = Atomic<Bool>(true)

    var isUp: Bool { up.load(ordering: .acquiring) }

    /// Marks the link down; returns whether it was up.
    func markDown() -> Bool { up.exchange(false, ordering: .acquiringAndReleasing) }
}

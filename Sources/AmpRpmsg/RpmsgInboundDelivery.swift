// The inbound half of the rpmsg core as one receive thread uses it: messages lent in place by a
// shared-memory transport go to the endpoint bound to their destination, as RpmsgBus.receive does for
// copied ones.
//
// Per message: count it on the link, find the endpoint, run its callback. Consecutive messages mostly go to
// the same endpoint (a driver's conversation with its service), so the last endpoint and its callback are
// kept here, and the common case takes no lock and no table lookup: only a look at whether that endpoint
// was destroyed meanwhile (then the table is asked again, and the address may be bound anew). A destroyed
// endpoint's callback is thus never run, but this cache lets go of it only at the next message on the link
// (or when the transport drops this object at link down).

import AmpWire

/// Delivers inbound messages of one link to its endpoints, on behalf of the transport's receive thread.
///
/// Not thread-safe: it may be handed to another thread, but only one thread at a time uses it (its cache is
/// unsynchronized): the transport's receive thread. Other threads use ``RpmsgBus/receive(source:destination:payload:)``.
public final class RpmsgInboundDelivery: @unchecked Sendable {
    /// The bus delivered to.
    public let bus: RpmsgBus
    private let linkCounters: LinkCounterCell
    private var cachedAddress = RpmsgConstants.addressAny
    private var cachedEndpoint: RpmsgEndpoint?
    private var cachedHandler: RpmsgEndpointHandler?

    init(bus: RpmsgBus) {
        self.bus = bus
        linkCounters = bus.linkCounters
    }

    /// Delivers one message whose payload is lent for the duration of the call (a callback that wants an
    /// array gets a copy). A message for an address without an endpoint is counted and reported as dropped.
    public func deliver(source: UInt32, destination: UInt32, payload: UnsafeRawBufferPointer) {
        linkCounters.countReceived(bytes: payload.count)
        if destination == cachedAddress, let endpoint = cachedEndpoint, let handler = cachedHandler,
            !endpoint.isDestroyed
        {
            endpoint.countDelivered(bytes: payload.count)
            handler.call(endpoint, bytes: payload, source: source)
            return
        }
        cachedAddress = RpmsgConstants.addressAny
        cachedEndpoint = nil
        cachedHandler = nil
        guard let endpoint = bus.endpoint(at: destination), let handler = endpoint.liveHandler else {
            bus.dropNoRecipient(source: source, destination: destination, length: payload.count)
            return
        }
        cachedAddress = destination
        cachedEndpoint = endpoint
        cachedHandler = handler
        endpoint.countDelivered(bytes: payload.count)
        handler.call(endpoint, bytes: payload, source: source)
    }
}

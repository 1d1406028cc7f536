// An rpmsg endpoint: a local address on one link with a receive callback, and the send family of Linux's
// rpmsg API (rpmsg_send, rpmsg_sendto, rpmsg_send_offchannel and their try* variants).
//
// Checks made here for every transport, in Linux's order:
//   endpoint destroyed or link down          -> ENODEV    (.noDevice)
//   source or destination is ANY             -> EINVAL    (.invalidArgument)
//   payload longer than the transport's MTU  -> EMSGSIZE  (.messageTooLarge)
// then the transport sends: blocking variants wait up to the bus's send timeout (15 s by default) for a
// buffer (.timedOut), try* variants fail at once when none is free (.noBuffer).

import AmpWire
import Synchronization

/// Called for each message delivered to an endpoint: the endpoint, the payload, and the sender's address.
/// Runs on the transport's receive thread with no core lock held, so it may send, or create and destroy
/// endpoints (including its own).
public typealias RpmsgEndpointCallback =
    @Sendable (_ endpoint: RpmsgEndpoint, _ payload: [UInt8], _ source: UInt32) -> Void

/// Like ``RpmsgEndpointCallback``, but the payload is lent, not copied (Linux's `rpmsg_rx_cb_t`): over a
/// shared-memory transport it is the message where it lies in the receive buffer, which goes back to the
/// remote once the callback returns. The bytes are valid only during the call; copy what must outlive it.
public typealias RpmsgEndpointBorrowingCallback =
    @Sendable (_ endpoint: RpmsgEndpoint, _ payload: UnsafeRawBufferPointer, _ source: UInt32) -> Void

/// An endpoint's receive callback, of either kind; each kind is called with what it asks for, copying only
/// when a lent payload meets a callback that wants its own array.
enum RpmsgEndpointHandler: Sendable {
    case copying(RpmsgEndpointCallback)
    case borrowing(RpmsgEndpointBorrowingCallback)

    @inline(__always)
    func call(_ endpoint: RpmsgEndpoint, bytes: UnsafeRawBufferPointer, source: UInt32) {
        switch self {
        case .copying(let callback): callback(endpoint, Array(bytes), source)
        case .borrowing(let callback): callback(endpoint, bytes, source)
        }
    }

    @inline(__always)
    func call(_ endpoint: RpmsgEndpoint, payload: [UInt8], source: UInt32) {
        switch self {
        case .copying(let callback): callback(endpoint, payload, source)
        case .borrowing(let callback): payload.withUnsafeBytes { callback(endpoint, $0, source) }
        }
    }
}

/// A bound address on one link (Linux's `struct rpmsg_endpoint`).
public final class RpmsgEndpoint: Sendable {
    /// The endpoint's local address.
    public let address: UInt32
    /// Destination of ``send(_:)``: the channel's remote address, or the one given at creation (ANY when
    /// none, in which case ``send(_:)`` fails with `.invalidArgument`).
    public let destination: UInt32
    /// The channel the endpoint serves, if it was created for one.
    public weak let channel: RpmsgChannel?

    private weak let bus: RpmsgBus?
    private let transport: any RpmsgTransport
    private let sendTimeout: Duration
    /// The callback, dropped on destruction (it may capture the endpoint's owner).
    private let callbackSlot: Mutex<CallbackSlot>
    private let destroyed = Atomic<Bool>(false)
    private let tallies = EndpointCounterCell()
    // The bus's liveness and counters, held strongly: the send path reads them without loading the weak `bus`.
    private let liveness: LinkLiveness
    private let linkCounters: LinkCounterCell

    init(
        address: UInt32, destination: UInt32, channel: RpmsgChannel?, bus: RpmsgBus, handler: RpmsgEndpointHandler
    ) {
        self.address = address
        self.destination = destination
        self.channel = channel
        self.bus = bus
        self.transport = bus.transport
        self.sendTimeout = bus.sendTimeout
        self.callbackSlot = Mutex(CallbackSlot(handler: handler))
        self.liveness = bus.liveness
        self.linkCounters = bus.linkCounters
    }

    /// Name of the link the endpoint lives on.
    public var linkName: String { transport.name }

    /// Largest payload a send accepts (`rpmsg_get_mtu`).
    public var mtu: Int { transport.mtu }

    /// Whether the endpoint was destroyed (explicitly, with its channel, or because the link went down).
    public var isDestroyed: Bool { destroyed.load(ordering: .acquiring) }

    /// Messages and bytes received and sent so far.
    public var counters: RpmsgEndpointCounters { tallies.snapshot }

    // MARK: Sending

    /// Sends to ``destination`` from ``address``, waiting for a buffer (`rpmsg_send`).
    public func send(_ payload: [UInt8]) throws(RpmsgError) {
        try transmit(source: address, destination: destination, payload: payload, wait: sendTimeout)
    }

    /// Sends to `destination` from ``address``, waiting for a buffer (`rpmsg_sendto`).
    public func sendTo(_ destination: UInt32, _ payload: [UInt8]) throws(RpmsgError) {
        try transmit(source: address, destination: destination, payload: payload, wait: sendTimeout)
    }

    /// Sends from `source` to `destination`, waiting for a buffer (`rpmsg_send_offchannel`).
    public func sendOffchannel(source: UInt32, destination: UInt32, _ payload: [UInt8]) throws(RpmsgError) {
        try transmit(source: source, destination: destination, payload: payload, wait: sendTimeout)
    }

    /// Sends to ``destination`` from ``address``; `.noBuffer` when no buffer is free now (`rpmsg_trysend`).
    public func trySend(_ payload: [UInt8]) throws(RpmsgError) {
        try transmit(source: address, destination: destination, payload: payload, wait: nil)
    }

    /// Sends to `destination` from ``address``; `.noBuffer` when no buffer is free now (`rpmsg_trysendto`).
    public func trySendTo(_ destination: UInt32, _ payload: [UInt8]) throws(RpmsgError) {
        try transmit(source: address, destination: destination, payload: payload, wait: nil)
    }

    /// Sends from `source` to `destination`; `.noBuffer` when no buffer is free now
    /// (`rpmsg_trysend_offchannel`).
    public func trySendOffchannel(source: UInt32, destination: UInt32, _ payload: [UInt8]) throws(RpmsgError) {
        try transmit(source: source, destination: destination, payload: payload, wait: nil)
    }

    /// Whether a send would find a buffer now (`rpmsg_poll`); `.notSupported` unless the transport can tell.
    public func poll() throws(RpmsgError) -> RpmsgPollEvents {
        try checkAlive()
        return try transport.poll(source: address)
    }

    /// Unbinds the address and stops deliveries (`rpmsg_destroy_ept`). Idempotent. A callback already
    /// running on the receive thread finishes; no new one starts.
    public func destroy() {
        if let bus {
            bus.destroyEndpoint(self)
        } else {
            _ = markDestroyed()
        }
    }

    private func transmit(source: UInt32, destination: UInt32, payload: [UInt8], wait: Duration?) throws(RpmsgError) {
        try checkAlive()
        guard source != RpmsgConstants.addressAny, destination != RpmsgConstants.addressAny else {
            throw RpmsgError(
                .invalidArgument,
                "\(linkName): cannot send \(hex(source)) -> \(hex(destination)): source and destination must not be ANY")
        }
        let mtu = transport.mtu
        guard payload.count <= mtu else {
            throw RpmsgError(
                .messageTooLarge, "\(linkName): payload of \(payload.count) bytes exceeds the MTU of \(mtu)")
        }
        try transport.send(source: source, destination: destination, payload: payload, wait: wait)
        tallies.countTransmitted(bytes: payload.count)
        linkCounters.countTransmitted(bytes: payload.count)
    }

    private func checkAlive() throws(RpmsgError) {
        guard !isDestroyed else {
            throw RpmsgError(.noDevice, "\(linkName): endpoint \(hex(address)) was destroyed")
        }
        guard liveness.isUp else {
            throw RpmsgError(.noDevice, "\(linkName): the link is down")
        }
    }

    // MARK: Core side

    /// Runs the callback for one inbound message; false when the endpoint was destroyed meanwhile.
    func deliver(_ payload: [UInt8], from source: UInt32) -> Bool {
        guard let handler = liveHandler else { return false }
        tallies.countReceived(bytes: payload.count)
        handler.call(self, payload: payload, source: source)
        return true
    }

    /// The callback, unless the endpoint was destroyed (it is dropped then).
    var liveHandler: RpmsgEndpointHandler? {
        guard !destroyed.load(ordering: .acquiring) else { return nil }
        return callbackSlot.withLock { $0.handler }
    }

    /// Counts one delivered message (for a caller that runs the callback itself, as ``RpmsgInboundDelivery``).
    @inline(__always)
    func countDelivered(bytes: Int) {
        tallies.countReceived(bytes: bytes)
    }

    /// Marks the endpoint destroyed and drops its callback (breaking any reference cycle through it).
    /// Returns whether it was alive.
    func markDestroyed() -> Bool {
        guard !destroyed.exchange(true, ordering: .acquiringAndReleasing) else { return false }
        callbackSlot.withLock { $0.handler = nil }
        return true
    }
}

/// The callback of an endpoint, in a struct: a closure stored directly as a `Mutex`'s generic value is
/// re-wrapped in one more reabstraction thunk by every `withLock` (the `inout` value is written back), so
/// every delivery would get slower than the last; a struct field keeps its concrete representation.
private struct CallbackSlot {
    var handler: RpmsgEndpointHandler?
}

// The transport operations table: what one rpmsg link (for example one virtio rpmsg device of one remote
// processor, or one SMD edge) must provide so the transport-agnostic core can run on top of it.
//
// This plays the role of Linux's `struct rpmsg_device_ops` / `struct rpmsg_endpoint_ops`
// (rpmsg_internal.h), reduced to what a transport really owns:
//
//   required  name      link name, prefix of every channel's device name ("ipu.vdev0")
//             mtu       largest payload one message can carry (virtio with 512-byte buffers: 496)
//             send      put one message {src, dst, payload} on the wire; block up to `wait` for a
//                       buffer, or fail at once with .noBuffer when `wait` is nil (the try* variants)
//   optional  supportsNameService  the link carries name-service announcements (virtio F_NS)
//             byteOrder            byte order of structures sent over the link (name-service messages)
//             poll                 readiness to send without blocking (virtio has none: .notSupported)
//
// Everything else (addresses, endpoints, channels, drivers, the name service, counters, events) lives in
// the core, so a transport is small. Inbound, a transport calls `RpmsgBus.receive(source:destination:payload:)`
// once per message, in arrival order, from its receive thread (or, to lend payloads in place, its receive
// thread's `RpmsgInboundDelivery.deliver`), and `RpmsgBus.reportInvalidInbound(_:)` for a frame it could
// not parse (so nothing is dropped silently).

import AmpWire

/// Readiness reported by ``RpmsgTransport/poll(source:)`` (Linux's EPOLLOUT for rpmsg endpoints).
public struct RpmsgPollEvents: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// A send would find a buffer right now (EPOLLOUT).
    public static let writable = RpmsgPollEvents(rawValue: 1 << 0)
}

/// Operations one rpmsg link provides to the core (Linux's rpmsg device and endpoint ops).
///
/// Implementations must be thread-safe: `send` is called from any thread, concurrently with the
/// transport's own receive thread delivering messages to the bus.
public protocol RpmsgTransport: AnyObject, Sendable {
    /// Name of the link, the first part of every channel's device name (for example "ipu.vdev0").
    var name: String { get }

    /// Largest payload one message can carry (`rpmsg_get_mtu`); 496 for virtio with 512-byte buffers.
    var mtu: Int { get }

    /// Sends one message (`send_offchannel_raw` in virtio_rpmsg_bus).
    ///
    /// The core has already checked that neither address is ``RpmsgConstants/addressAny``, that the
    /// payload fits ``mtu`` and that the link is up.
    /// - Parameters:
    ///   - wait: `nil` for the non-blocking try* variants; otherwise how long to wait for a free buffer.
    /// - Throws: ``RpmsgError/Code/noBuffer`` when `wait` is nil and no buffer is free,
    ///   ``RpmsgError/Code/timedOut`` when none became free within `wait`, ``RpmsgError/Code/noDevice``
    ///   when the link went away.
    func send(source: UInt32, destination: UInt32, payload: [UInt8], wait: Duration?) throws(RpmsgError)

    /// Whether the link carries name-service announcements (virtio's `VIRTIO_RPMSG_F_NS`). When true the
    /// bus listens on address 53 and announces locally created channels. Default: false.
    var supportsNameService: Bool { get }

    /// Byte order of structures carried in payloads, such as name-service messages. Default: little endian.
    var byteOrder: ByteOrder { get }

    /// Whether a send from `source` would find a buffer now (the endpoint `poll` op).
    /// Default: throws ``RpmsgError/Code/notSupported``, as virtio does.
    func poll(source: UInt32) throws(RpmsgError) -> RpmsgPollEvents
}

extension RpmsgTransport {
    public var supportsNameService: Bool { false }

    public var byteOrder: ByteOrder { .little }

    public func poll(source: UInt32) throws(RpmsgError) -> RpmsgPollEvents {
        throw RpmsgError(.notSupported, "\(name): the transport cannot poll for free buffers")
    }
}

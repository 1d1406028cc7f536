// Two rpmsg buses wired back to back through two InMemoryTransports: the host side and a fake remote side,
// each with its own driver registry. The remote side is an ordinary RpmsgBus, so a test plays the remote
// with the same API: create an endpoint (say, an echo) and announce it with `remoteBus.announce(...)`.
//
// Delivery happens only on demand: deliverPending() moves the frames queued at the moment of the call,
// host-to-remote first, then remote-to-host; deliverUntilIdle() repeats that until both queues are empty;
// deliverPendingToHost() / deliverPendingToRemote() move one direction only.
// Frames sent during a delivery wait for the next pass, so callbacks never nest.

import AmpWire

/// A host bus and a fake remote bus connected in memory.
public final class InMemoryLink: Sendable {
    /// The host side's transport.
    public let hostTransport: InMemoryTransport
    /// The remote side's transport.
    public let remoteTransport: InMemoryTransport
    /// The host's rpmsg core for this link.
    public let hostBus: RpmsgBus
    /// The fake remote's rpmsg core.
    public let remoteBus: RpmsgBus

    /// - Parameters:
    ///   - hostName: link name on the host (prefix of host channel device names).
    ///   - remoteName: link name on the remote side.
    ///   - mtu: largest payload on both sides (496, as virtio with 512-byte buffers, by default).
    ///   - buffersPerDirection: frames each side may have in flight (256, half of Linux's 512, by default).
    ///   - nameService: whether both buses run the name service at address 53 (virtio F_NS).
    ///   - byteOrder: byte order of headers and name-service messages.
    ///   - sendTimeout: how long blocking sends wait for a buffer on both sides.
    public init(
        hostName: String = "host.vdev0", remoteName: String = "remote.vdev0",
        hostRegistry: RpmsgDriverRegistry = RpmsgDriverRegistry(),
        remoteRegistry: RpmsgDriverRegistry = RpmsgDriverRegistry(),
        mtu: Int = RpmsgConstants.defaultMTU, buffersPerDirection: Int = RpmsgConstants.maxBufferCount / 2,
        nameService: Bool = true, byteOrder: ByteOrder = .little, sendTimeout: Duration = .seconds(15)
    ) {
        hostTransport = InMemoryTransport(
            name: hostName, mtu: mtu, buffers: buffersPerDirection, supportsNameService: nameService,
            byteOrder: byteOrder)
        remoteTransport = InMemoryTransport(
            name: remoteName, mtu: mtu, buffers: buffersPerDirection, supportsNameService: nameService,
            byteOrder: byteOrder)
        hostBus = RpmsgBus(transport: hostTransport, registry: hostRegistry, sendTimeout: sendTimeout)
        remoteBus = RpmsgBus(transport: remoteTransport, registry: remoteRegistry, sendTimeout: sendTimeout)
    }

    /// Frames sent by the host and not yet delivered.
    public var pendingToRemote: Int { hostTransport.pendingCount }

    /// Frames sent by the remote and not yet delivered.
    public var pendingToHost: Int { remoteTransport.pendingCount }

    /// Delivers the frames queued now (host-to-remote first) and returns how many were delivered.
    @discardableResult
    public func deliverPending() -> Int {
        let toRemote = hostTransport.outbound.takeAll()
        let toHost = remoteTransport.outbound.takeAll()
        for frame in toRemote { deliver(frame, to: remoteBus) }
        for frame in toHost { deliver(frame, to: hostBus) }
        return toRemote.count + toHost.count
    }

    /// Delivers only the frames the host queued until now; returns how many.
    @discardableResult
    public func deliverPendingToRemote() -> Int {
        let frames = hostTransport.outbound.takeAll()
        for frame in frames { deliver(frame, to: remoteBus) }
        return frames.count
    }

    /// Delivers only the frames the remote queued until now; returns how many.
    @discardableResult
    public func deliverPendingToHost() -> Int {
        let frames = remoteTransport.outbound.takeAll()
        for frame in frames { deliver(frame, to: hostBus) }
        return frames.count
    }

    /// Delivers until nothing is queued, or until at least `limit` frames were delivered (against two
    /// sides that answer each other forever); returns how many were delivered.
    @discardableResult
    public func deliverUntilIdle(limit: Int = 1_000_000) -> Int {
        var delivered = 0
        while delivered < limit {
            let count = deliverPending()
            if count == 0 { break }
            delivered += count
        }
        return delivered
    }

    /// Cuts the wire: queued frames are discarded, blocked senders wake, and every later send on either
    /// side fails with `.noDevice`. The buses are left alone; call their `linkDown()` as a host would.
    public func disconnect() {
        hostTransport.outbound.close()
        remoteTransport.outbound.close()
    }

    private func deliver(_ frame: [UInt8], to bus: RpmsgBus) {
        do {
            let message = try RpmsgMessage.parse(frame, order: bus.transport.byteOrder)
            bus.receive(source: message.source, destination: message.destination, payload: message.payload)
        } catch {
            bus.reportInvalidInbound(error.description)
        }
    }
}

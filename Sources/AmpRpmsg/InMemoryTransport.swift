// An rpmsg transport that keeps messages in process memory, for deterministic tests of the core, the
// name service and drivers (the role swift-nio's EmbeddedChannel plays for NIO). Two of them make an
// InMemoryLink (InMemoryLink.swift).
//
// Each side owns a bounded queue of outbound frames, standing for its TX buffers: a send serialises
// {rpmsg_hdr, payload} in the link's byte order (AmpWire's RpmsgMessage) into a free slot, waiting up to
// `wait` for one (or failing with .noBuffer at once for the try* variants, .timedOut when the wait
// expires). Nothing moves until the test calls InMemoryLink.deliverPending() or deliverUntilIdle(): the
// frames are then parsed again and handed to the peer bus, which frees their slots. So the order of events
// is fully under the test's control, and a sender blocked for a buffer is released only by a delivery
// (on another thread) or by disconnect().

import AmpWire
import Foundation

/// One side of an ``InMemoryLink``.
public final class InMemoryTransport: RpmsgTransport {
    public let name: String
    public let mtu: Int
    public let supportsNameService: Bool
    public let byteOrder: ByteOrder

    /// This side's TX buffers: frames waiting to be delivered to the peer.
    let outbound: InMemoryFrameQueue

    init(name: String, mtu: Int, buffers: Int, supportsNameService: Bool, byteOrder: ByteOrder) {
        self.name = name
        self.mtu = mtu
        self.supportsNameService = supportsNameService
        self.byteOrder = byteOrder
        self.outbound = InMemoryFrameQueue(capacity: buffers)
    }

    /// Number of TX buffers (frames that can wait for delivery at once).
    public var bufferCount: Int { outbound.capacity }

    /// Frames sent and not yet delivered.
    public var pendingCount: Int { outbound.count }

    public func send(source: UInt32, destination: UInt32, payload: [UInt8], wait: Duration?) throws(RpmsgError) {
        let message: RpmsgMessage
        do {
            message = try RpmsgMessage(source: source, destination: destination, payload: payload)
        } catch {
            throw RpmsgError(.messageTooLarge, "\(name): \(error.description)")
        }
        try outbound.append(message.serialized(order: byteOrder), wait: wait, link: name)
    }

    /// Writable while a TX buffer is free.
    public func poll(source: UInt32) throws(RpmsgError) -> RpmsgPollEvents {
        outbound.hasFreeSlot ? .writable : []
    }
}

/// A bounded FIFO of frames whose producers may wait for a free slot.
///
/// Guarded by its NSCondition rather than a Mutex because blocked senders must sleep until a delivery
/// frees a slot; every stored property is read and written only with the condition locked.
final class InMemoryFrameQueue: @unchecked Sendable {
    let capacity: Int
    private let condition = NSCondition()
    private var frames: [[UInt8]] = []
    private var closed = false

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    var count: Int { locked { frames.count } }

    var hasFreeSlot: Bool { locked { !closed && frames.count < capacity } }

    /// Appends `frame`, waiting up to `wait` for a free slot (nil: no waiting).
    func append(_ frame: [UInt8], wait: Duration?, link: String) throws(RpmsgError) {
        let clock = ContinuousClock()
        let deadline = wait.map { clock.now + $0 }
        condition.lock()
        defer { condition.unlock() }
        while true {
            guard !closed else {
                throw RpmsgError(.noDevice, "\(link): the link is disconnected")
            }
            if frames.count < capacity {
                frames.append(frame)
                return
            }
            guard let deadline, let wait else {
                throw RpmsgError(.noBuffer, "\(link): no free TX buffer (all \(capacity) in flight)")
            }
            let remaining = deadline - clock.now
            guard remaining > .zero else {
                throw RpmsgError(.timedOut, "\(link): no TX buffer became free within \(wait)")
            }
            _ = condition.wait(until: Date().addingTimeInterval(remaining.timeInterval))
        }
    }

    /// Removes and returns every queued frame, waking blocked producers.
    func takeAll() -> [[UInt8]] {
        locked {
            let taken = frames
            frames.removeAll()
            condition.broadcast()
            return taken
        }
    }

    /// Discards queued frames; every later append fails with `.noDevice` and blocked producers wake.
    func close() {
        locked {
            closed = true
            frames.removeAll()
            condition.broadcast()
        }
    }

    private func locked<T>(_ body: () -> T) -> T {
        condition.lock()
        defer { condition.unlock() }
        return body()
    }
}

extension Duration {
    /// The duration in seconds, as Foundation's time intervals count.
    var timeInterval: TimeInterval {
        let parts = components
        return TimeInterval(parts.seconds) + TimeInterval(parts.attoseconds) / 1e18
    }
}

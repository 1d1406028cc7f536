import AmpRemoteproc
import AmpSystem
import Foundation

/// The host's event sink inside an ``EmulatedSoC``: forwards every event to the user's sink, to live
/// subscriptions (``EmulatedSoC/subscribeEvents()``), and wakes threads waiting for a change of state.
///
/// `emit` runs on the host's main loop thread; everything else may run on any thread.
final class SoCEventHub: HostEventSink, @unchecked Sendable {
    private let forward: HostEventSink?
    private let onEvent: (@Sendable (HostEvent) -> Void)?
    private let condition = NSCondition()
    /// Bumped by every event and by ``poke()``; guarded by `condition`.
    private var generation: UInt64 = 0
    private var closed = false
    private var subscriptions: [ObjectIdentifier: SoCEventSubscription] = [:]

    init(forward: HostEventSink?, onEvent: (@Sendable (HostEvent) -> Void)?) {
        self.forward = forward
        self.onEvent = onEvent
    }

    func emit(_ event: HostEvent) {
        forward?.emit(event)
        onEvent?(event)
        condition.lock()
        let targets = Array(subscriptions.values)
        generation &+= 1
        condition.broadcast()
        condition.unlock()
        for subscription in targets { subscription.push(event) }
    }

    /// Wakes waiters without an event (something they watch changed outside the event stream).
    func poke() {
        condition.lock()
        generation &+= 1
        condition.broadcast()
        condition.unlock()
    }

    /// The current generation; pass it to ``wait(after:deadline:)`` after checking a condition.
    var currentGeneration: UInt64 {
        condition.lock()
        defer { condition.unlock() }
        return generation
    }

    /// Waits until the generation moves past `seen`, the hub closes, or `deadline` (monotonic ns) passes.
    /// Returns false on timeout or when closed.
    func wait(after seen: UInt64, deadline: UInt64) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while generation == seen && !closed {
            let now = MonotonicClock.nanoseconds()
            guard now < deadline else { return false }
            _ = condition.wait(until: Date(timeIntervalSinceNow: Double(deadline - now) / 1e9))
        }
        return !closed
    }

    func subscribe(capacity: Int) -> SoCEventSubscription {
        let subscription = SoCEventSubscription(capacity: capacity, hub: self)
        condition.lock()
        if closed {
            subscription.close()
        } else {
            subscriptions[ObjectIdentifier(subscription)] = subscription
        }
        condition.unlock()
        return subscription
    }

    func unsubscribe(_ subscription: SoCEventSubscription) {
        condition.lock()
        subscriptions[ObjectIdentifier(subscription)] = nil
        condition.unlock()
    }

    /// The instance ended: waiters return, subscriptions end after their queued events.
    func close() {
        condition.lock()
        closed = true
        let targets = Array(subscriptions.values)
        subscriptions.removeAll()
        condition.broadcast()
        condition.unlock()
        for subscription in targets { subscription.close() }
    }
}

/// A live stream of host events from the moment of subscribing (`ampsoc events`, `trace --follow`).
///
/// Events queue up to a bound while nobody reads; beyond it the oldest are dropped and counted
/// (``dropped``), so a stalled reader never holds the host back.
public final class SoCEventSubscription: Sendable {
    private let queue: SoCBoundedQueue<HostEvent>
    private weak let hub: SoCEventHub?

    init(capacity: Int, hub: SoCEventHub) {
        queue = SoCBoundedQueue(capacity: capacity)
        self.hub = hub
    }

    func push(_ event: HostEvent) {
        queue.push(event)
    }

    func close() {
        queue.close(reason: "the stream ended")
    }

    /// Events dropped because the queue was full.
    public var dropped: UInt64 { queue.dropped }

    /// The next event; waits up to `timeout` (nil: until one arrives or the instance shuts down).
    /// Returns nil on timeout, or when the instance shut down and every queued event was read.
    public func next(timeout: Duration? = nil) -> HostEvent? {
        try? queue.next(timeout: timeout).get()
    }

    /// Whether the stream ended (the instance shut down or ``cancel()`` was called).
    public var isClosed: Bool { queue.isClosed }

    /// Stops the stream; a waiting ``next(timeout:)`` returns nil once the queue is read.
    public func cancel() {
        hub?.unsubscribe(self)
        close()
    }
}

import AmpSystem
import Foundation

/// Items handed from a thread that must never block (a link's receive thread, the host's main loop) to a
/// reader that waits for them: received messages of an endpoint, events of a subscription.
///
/// Beyond `capacity` unread items the oldest is dropped and counted, so a reader that stopped reading cannot
/// stall the producer. Once closed, the reader gets what is queued, then the end.
final class SoCBoundedQueue<Element: Sendable>: @unchecked Sendable {
    /// Why ``next(timeout:)`` returned no item.
    enum Ending: Equatable {
        case timedOut
        /// Closed and drained; the reason given to ``close(reason:)``.
        case closed(String)
    }

    private let condition = NSCondition()
    private var items: [Element] = []
    private var head = 0
    private let capacity: Int
    private var closedReason: String?
    private var droppedCount: UInt64 = 0

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// Queues `item` (dropping the oldest when full); ignored once closed. Never blocks.
    func push(_ item: Element) {
        condition.lock()
        defer { condition.unlock() }
        guard closedReason == nil else { return }
        if items.count - head >= capacity {
            head += 1
            droppedCount += 1
        }
        items.append(item)
        if head > 256 && head * 2 > items.count {
            items.removeFirst(head)
            head = 0
        }
        condition.signal()
    }

    /// No more items will come; waiting readers get the queued ones, then `.closed(reason)`. Idempotent (the
    /// first reason stays).
    func close(reason: String) {
        condition.lock()
        if closedReason == nil { closedReason = reason }
        condition.broadcast()
        condition.unlock()
    }

    var isClosed: Bool {
        condition.lock()
        defer { condition.unlock() }
        return closedReason != nil
    }

    /// Items dropped because the queue was full.
    var dropped: UInt64 {
        condition.lock()
        defer { condition.unlock() }
        return droppedCount
    }

    /// The next item, waiting up to `timeout` (nil: without limit).
    func next(timeout: Duration?) -> Result<Element, QueueEnd> {
        let deadline = timeout.map { MonotonicClock.deadline(after: $0) }
        condition.lock()
        defer { condition.unlock() }
        while head == items.count {
            if let closedReason { return .failure(QueueEnd(ending: .closed(closedReason))) }
            if let deadline {
                let now = MonotonicClock.nanoseconds()
                guard now < deadline else { return .failure(QueueEnd(ending: .timedOut)) }
                _ = condition.wait(until: Date(timeIntervalSinceNow: Double(deadline - now) / 1e9))
            } else {
                condition.wait()
            }
        }
        let item = items[head]
        head += 1
        return .success(item)
    }

    /// The end of a wait without an item.
    struct QueueEnd: Error {
        let ending: Ending
    }
}

import AmpSystem
import Foundation

/// Messages received for a reader of the Swift API (or the control socket), waiting to be read.
///
/// Filled on a link's receive thread, which must never block: beyond `capacity` the oldest message is
/// dropped and counted, so a reader that stopped reading cannot stall the link.
final class SoCMessageQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private var messages: [SoCMessage] = []
    private var head = 0
    private let capacity: Int
    private var closedReason: String?
    private(set) var dropped: UInt64 = 0

    init(capacity: Int = 1024) {
        self.capacity = capacity
    }

    func push(_ message: SoCMessage) {
        condition.lock()
        defer { condition.unlock() }
        guard closedReason == nil else { return }
        if messages.count - head >= capacity {
            head += 1
            dropped += 1
        }
        messages.append(message)
        if head > 256 && head * 2 > messages.count {
            messages.removeFirst(head)
            head = 0
        }
        condition.signal()
    }

    /// No more messages will come (`reason` says why); waiting readers get the queued ones, then an error.
    func close(reason: String) {
        condition.lock()
        if closedReason == nil { closedReason = reason }
        condition.broadcast()
        condition.unlock()
    }

    /// The next message, waiting up to `timeout`.
    /// - Throws: ETIMEDOUT (`what` names the endpoint) or, once closed and drained, ENODEV with the reason.
    func next(timeout: Duration, what: String) throws(SoCError) -> SoCMessage {
        let deadline = MonotonicClock.deadline(after: timeout)
        condition.lock()
        defer { condition.unlock() }
        while head == messages.count {
            if let closedReason { throw SoCError(errno: ENODEV, "\(what): \(closedReason)") }
            let now = MonotonicClock.nanoseconds()
            guard now < deadline else { throw SoCError(errno: ETIMEDOUT, "\(what): no message within \(timeout)") }
            _ = condition.wait(until: Date(timeIntervalSinceNow: Double(deadline - now) / 1e9))
        }
        let message = messages[head]
        head += 1
        return message
    }
}

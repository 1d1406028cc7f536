// A first-in, first-out queue over an array, for the per-message paths of the rpmsg transports and drivers
// (recycled transmit buffers, messages waiting for a bridge's user).

/// A first-in, first-out queue. Removal advances a head index; the consumed prefix is cut off once it is at
/// least half of the storage, so both operations are amortised O(1) and the storage never holds more than
/// twice the elements queued (plus a few). A taken slot is overwritten with the `vacated` value at once, so
/// it stops referencing what it held.
@frozen
public struct FirstInFirstOut<Element> {
    @usableFromInline var items: [Element] = []
    @usableFromInline var head = 0
    @usableFromInline let vacated: Element

    /// An empty queue; `vacated` fills the slots of taken elements (e.g. 0, or an empty array).
    @inlinable
    public init(vacated: Element) {
        self.vacated = vacated
    }

    /// Elements queued.
    @inlinable
    public var count: Int { items.count - head }

    /// Whether nothing is queued.
    @inlinable
    public var isEmpty: Bool { head == items.count }

    /// Queues `element` last.
    @inlinable
    public mutating func append(_ element: Element) {
        items.append(element)
    }

    /// Removes and returns the oldest element, or nil when empty.
    @inlinable
    public mutating func removeFirst() -> Element? {
        guard head < items.count else { return nil }
        let element = items[head]
        items[head] = vacated
        head += 1
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 32, head * 2 >= items.count {
            items.removeFirst(head)
            head = 0
        }
        return element
    }

    /// Empties the queue and releases its storage.
    @inlinable
    public mutating func removeAll() {
        items = []
        head = 0
    }
}

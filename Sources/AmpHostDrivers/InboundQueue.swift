// The bounded FIFO in which a bridge keeps messages from the remote until its user can take them.
// When full, a new message is refused (tail drop), so what is queued stays a contiguous run of what arrived.

/// A bounded first-in, first-out queue of payloads. Removal advances a head index; the consumed prefix is
/// cut off once it is at least half of the storage, so both operations are amortised O(1).
struct InboundQueue {
    /// Most payloads held at once.
    let capacity: Int
    private var items: [[UInt8]] = []
    private var head = 0

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// Payloads held now.
    var count: Int { items.count - head }

    var isEmpty: Bool { count == 0 }

    /// Appends `payload`; false (and nothing changes) when the queue is full.
    mutating func append(_ payload: [UInt8]) -> Bool {
        guard count < capacity else { return false }
        items.append(payload)
        return true
    }

    /// Removes and returns the oldest payload.
    mutating func removeFirst() -> [UInt8]? {
        guard head < items.count else { return nil }
        let payload = items[head]
        items[head] = []
        head += 1
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 32, head * 2 >= items.count {
            items.removeFirst(head)
            head = 0
        }
        return payload
    }

    /// Empties the queue; returns how many payloads it held.
    mutating func removeAll() -> Int {
        let removed = count
        items = []
        head = 0
        return removed
    }
}

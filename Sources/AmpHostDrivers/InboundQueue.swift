// The bounded FIFO in which a bridge keeps messages from the remote until its user can take them.
// When full, a new message is refused (tail drop), so what is queued stays a contiguous run of what arrived.

import AmpRpmsg

/// A bounded first-in, first-out queue of payloads.
struct InboundQueue {
    /// Most payloads held at once.
    let capacity: Int
    private var items = FirstInFirstOut<[UInt8]>(vacated: [])

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// Payloads held now.
    var count: Int { items.count }

    var isEmpty: Bool { items.isEmpty }

    /// Appends `payload`; false (and nothing changes) when the queue is full.
    mutating func append(_ payload: [UInt8]) -> Bool {
        guard items.count < capacity else { return false }
        items.append(payload)
        return true
    }

    /// Removes and returns the oldest payload.
    mutating func removeFirst() -> [UInt8]? {
        items.removeFirst()
    }

    /// Empties the queue; returns how many payloads it held.
    mutating func removeAll() -> Int {
        let removed = items.count
        items.removeAll()
        return removed
    }
}

import Testing

@testable import AmpHostDrivers

@Suite("InboundQueueTests")
struct InboundQueueTests {
    @Test func boundedFIFOWithTailDrop() {
        var queue = InboundQueue(capacity: 3)
        let accepted = [queue.append([1]), queue.append([2]), queue.append([3]), queue.append([4])]
        #expect(accepted == [true, true, true, false])
        #expect(queue.count == 3)
        var taken = [queue.removeFirst()]
        let fifth = queue.append([5])
        #expect(fifth)
        while let next = queue.removeFirst() { taken.append(next) }
        #expect(taken == [[1], [2], [3], [5]])
        #expect(queue.isEmpty)
        #expect(InboundQueue(capacity: 0).capacity == 1)
    }

    @Test func orderSurvivesManyInterleavedOperations() {
        var queue = InboundQueue(capacity: 100)
        var expected: [UInt8] = []
        var next: UInt8 = 0
        var taken: [UInt8] = []
        for round in 0..<2000 {
            if round % 3 != 2 {
                if queue.append([next]) { expected.append(next) }
                next &+= 1
            } else if let first = queue.removeFirst() {
                taken.append(contentsOf: first)
            }
        }
        while let first = queue.removeFirst() { taken.append(contentsOf: first) }
        #expect(taken == expected)
        let removed = queue.removeAll()
        #expect(removed == 0)
    }
}

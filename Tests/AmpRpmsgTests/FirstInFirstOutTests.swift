import AmpRpmsg
import Testing

@Suite struct FirstInFirstOutTests {
    @Test func elementsComeOutInTheOrderTheyWentIn() {
        var queue = FirstInFirstOut<Int>(vacated: 0)
        #expect(queue.isEmpty && queue.count == 0 && queue.removeFirst() == nil)
        for value in 1...5 { queue.append(value) }
        #expect(queue.count == 5)
        #expect(queue.removeFirst() == 1 && queue.removeFirst() == 2)
        queue.append(6)
        #expect((0..<4).compactMap { _ in queue.removeFirst() } == [3, 4, 5, 6])
        #expect(queue.isEmpty && queue.removeFirst() == nil)
    }

    /// Interleaved appends and removals far beyond the compaction threshold keep the order and the count.
    @Test func orderAndCountSurviveCompaction() {
        var queue = FirstInFirstOut<Int>(vacated: -1)
        var next = 0
        var expected = 0
        for round in 0..<2_000 {
            for _ in 0..<(round % 7 + 1) {
                queue.append(next)
                next += 1
            }
            for _ in 0..<(round % 5 + 1) {
                guard let value = queue.removeFirst() else { break }
                #expect(value == expected)
                expected += 1
            }
            #expect(queue.count == next - expected)
        }
        while let value = queue.removeFirst() {
            #expect(value == expected)
            expected += 1
        }
        #expect(expected == next)
    }

    /// A taken slot lets go of what it referenced at once, not at the next compaction.
    @Test func takenElementsAreReleased() {
        final class Token {}
        var queue = FirstInFirstOut<Token?>(vacated: nil)
        weak var first: Token?
        do {
            let token = Token()
            first = token
            queue.append(token)
            queue.append(Token())
        }
        _ = queue.removeFirst()
        #expect(first == nil)
        #expect(queue.count == 1)
        queue.removeAll()
        #expect(queue.isEmpty)
    }
}

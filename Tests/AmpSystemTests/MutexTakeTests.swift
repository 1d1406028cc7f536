import Synchronization
import Testing

@testable import AmpSystem

@Suite("MutexTakeTests")
struct MutexTakeTests {
    @Test func takingAMutexValueLeavesNil() {
        let slot = Mutex<[Int]?>([1, 2])
        #expect(slot.take() == [1, 2])
        #expect(slot.take() == nil)
        #expect(slot.withLock { $0 } == nil)
    }
}

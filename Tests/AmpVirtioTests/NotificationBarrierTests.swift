import AmpVirtio
import Synchronization
import Testing

/// NotificationBarriers: the declaration words, when a publish drops its fence, and what an arming does
/// when its process-wide barrier fails. (That the barrier orders another thread is ProcessBarrierTests'.)
@Suite struct NotificationBarrierTests {
    /// Two declaration words (own, peer) in separate cache lines.
    final class Words {
        let memory = UnsafeMutableRawPointer.allocate(byteCount: 128, alignment: 64)
        var own: UnsafeMutableRawPointer { memory }
        var peer: UnsafeMutableRawPointer { memory + 64 }
        init() { memory.initializeMemory(as: UInt8.self, repeating: 0, count: 128) }
        deinit { memory.deallocate() }
        func value(_ word: UnsafeMutableRawPointer) -> UInt32 { word.load(as: UInt32.self) }
    }

    /// Counts the arming barriers and answers them with `succeeds`.
    final class BarrierProbe: Sendable {
        let calls = Atomic<Int>(0)
        let succeeds: Bool
        init(succeeds: Bool) { self.succeeds = succeeds }
        func barrier() -> Bool {
            calls.wrappingAdd(1, ordering: .relaxed)
            return succeeds
        }
    }

    @Test func theSpecsFencesNeverDropThePublishFence() {
        #expect(!NotificationBarriers.fences.publishesWithoutFence)
    }

    @Test func declaringWritesOwnWordAndFollowsThePeers() {
        let words = Words()
        let probe = BarrierProbe(succeeds: true)
        let barriers = NotificationBarriers.declaring(words.own, peerDeclaration: words.peer) { probe.barrier() }
        #expect(words.value(words.own) == 1)
        #expect(words.value(words.peer) == 0)
        #expect(!barriers.publishesWithoutFence)  // the peer has not said it arms behind a barrier
        words.peer.storeBytes(of: 1, as: UInt32.self)
        #expect(barriers.publishesWithoutFence)
    }

    @Test func aPublishReadsThePeersWordEachTime() throws {
        let words = Words()
        let pair = try QueuePair(num: 4, align: 16)
        let probe = BarrierProbe(succeeds: true)
        pair.driver.barriers = .declaring(words.own, peerDeclaration: words.peer) { probe.barrier() }
        pair.device.barriers = .declaring(words.peer, peerDeclaration: words.own) { probe.barrier() }
        #expect(pair.driver.barriers.publishesWithoutFence && pair.device.barriers.publishesWithoutFence)
        // Publishes, takes and returns work as with fences, and no publish calls the arming barrier.
        try pair.roundTrips(10)
        #expect(probe.calls.load(ordering: .relaxed) == 0)
        #expect(!pair.device.enableNotifications())
        #expect(!pair.device.armBarrierFailed)
        #expect(!pair.driver.enableCallbacks())
        #expect(probe.calls.load(ordering: .relaxed) == 2)
    }

    @Test func armingBehindAFailedBarrierReportsPendingSoTheCallerDoesNotSleep() throws {
        let words = Words()
        let pair = try QueuePair(num: 4, align: 16, eventIndex: true)
        let failing = BarrierProbe(succeeds: false)
        pair.driver.barriers = .declaring(words.own, peerDeclaration: words.peer) { failing.barrier() }
        pair.device.barriers = .declaring(words.peer, peerDeclaration: words.own) { failing.barrier() }
        // Nothing is pending on either side, yet both say "look again" rather than "sleep".
        #expect(pair.device.enableNotifications())
        #expect(pair.device.armBarrierFailed)
        #expect(pair.driver.enableCallbacks())
        #expect(try pair.device.takeAvailable() == nil)
        #expect(try pair.driver.takeUsed() == nil)
        #expect(failing.calls.load(ordering: .relaxed) == 2)
        // The requests were still stored: avail_event and used_event name the next index.
        #expect(pair.ring.u16(at: pair.ring.layout.availEventOffset) == 0)
        #expect(pair.ring.u16(at: pair.ring.layout.usedEventOffset) == 0)
    }
}

import Foundation
import Glibc
import Testing

@testable import AmpSystem

/// Doorbells between two real processes: this test and `amp-system-testpeer echo`, over a real shared-memory
/// segment. Every round rings one id host->remote and waits for the same bit back; a lost wake-up would show
/// up as a 5 s timeout (mask 0) instead of hanging the run.
@Suite("DoorbellProcessTests", .serialized)
struct DoorbellProcessTests {
    struct Run: CustomTestStringConvertible, Sendable {
        var kind: String
        var rounds: Int
        var spinMicroseconds: Int
        var testDescription: String { "\(kind), \(rounds) rounds, spin \(spinMicroseconds) us" }
    }

    @Test(arguments: [
        Run(kind: "futex", rounds: 10_000, spinMicroseconds: 30),
        Run(kind: "eventfd", rounds: 10_000, spinMicroseconds: 30),
        // The single-CPU path: no spinning on either side, every ring goes through sleep and wake.
        Run(kind: "futex", rounds: 2_000, spinMicroseconds: 0),
        Run(kind: "eventfd", rounds: 2_000, spinMicroseconds: 0),
    ])
    func pingPongWithoutLostWakeups(run: Run) throws {
        let name = try TestSupport.uniqueSegmentName("pingpong")
        let segment = try SharedMemorySegment.create(name: name, size: 4096)
        defer { try? segment.unlink() }
        let toRemote = try EventFD()
        let toHost = try EventFD()
        let outbound = try Doorbell(
            segment: segment, mailboxOffset: MailboxLayout.hostToRemoteOffset,
            kind: run.kind == "futex" ? .futex : .eventfd(toRemote), spinBudget: .microseconds(run.spinMicroseconds))
        let inbound = try Doorbell(
            segment: segment, mailboxOffset: MailboxLayout.remoteToHostOffset,
            kind: run.kind == "futex" ? .futex : .eventfd(toHost), spinBudget: .microseconds(run.spinMicroseconds))

        let peer = try ChildProcess.spawn(
            executable: try TestSupport.peerPath(),
            arguments: ["echo", name, run.kind, "\(run.rounds)", "\(run.spinMicroseconds)"],
            inheritFDs: [(from: toRemote.fileDescriptor, to: 3), (from: toHost.fileDescriptor, to: 4)])
        defer { _ = try? peer.terminate(grace: .milliseconds(100)) }

        let start = MonotonicClock.nanoseconds()
        for round in 0..<run.rounds {
            let notifyID = UInt32(round % 40)
            try outbound.ring(notifyID: notifyID)
            let mask = try inbound.wait(timeout: .seconds(5))
            try #require(mask == MailboxLayout.bit(forNotifyID: notifyID), "round \(round): got mask \(mask)")
        }
        let elapsed = TestSupport.milliseconds(since: start)
        #expect(try peer.waitForExit(timeout: .seconds(5)) == .exited(0))
        // Exactly one ring per round in each direction, nobody left registered as asleep, nothing pending.
        #expect(try segment.atomicWord(at: 4).load() == UInt32(run.rounds))
        #expect(try segment.atomicWord(at: 68).load() == UInt32(run.rounds))
        #expect(try segment.atomicWord(at: 8).load() == 0)
        #expect(try segment.atomicWord(at: 72).load() == 0)
        #expect(try segment.atomicWord(at: 0).load() == 0)
        #expect(try segment.atomicWord(at: 64).load() == 0)
        print("doorbell \(run.testDescription): \(String(format: "%.1f", elapsed * 1000 / Double(run.rounds))) us per round trip")
    }

    @Test func peerWaitingAloneTimesOutWithZeroAndExitsWithItsCode() throws {
        let name = try TestSupport.uniqueSegmentName("peer-timeout")
        let segment = try SharedMemorySegment.create(name: name, size: 4096)
        defer { try? segment.unlink() }
        // The peer waits 10 s per round; ring once, then stay quiet and terminate it while it sleeps.
        let peer = try ChildProcess.spawn(
            executable: try TestSupport.peerPath(), arguments: ["echo", name, "futex", "2", "30"])
        let outbound = try Doorbell(segment: segment, mailboxOffset: 0, kind: .futex)
        let inbound = try Doorbell(segment: segment, mailboxOffset: 64, kind: .futex)
        try outbound.ring(notifyID: 9)
        #expect(try inbound.wait(timeout: .seconds(5)) == 1 << 9)
        #expect(try inbound.wait(timeout: .milliseconds(50)) == 0)
        // Wait until the peer is asleep on its futex, then stop it.
        let sleepers = try segment.atomicWord(at: 8)
        let deadline = MonotonicClock.nanoseconds() + 5_000_000_000
        while sleepers.load() == 0 && MonotonicClock.nanoseconds() < deadline { usleep(1_000) }
        #expect(sleepers.load() == 1)
        #expect(try peer.terminate(grace: .seconds(2)) == .signaled(SIGTERM))
    }
}

// Two threads, one per side, on the same memory: ordering of head/tail publication and of the
// fBLOCKREADINTR handshake under real concurrency (no signals: both sides poll).

import Foundation
import Testing

import AmpSMD
import AmpWire

/// Hands a side's channel to its thread; each channel is used by exactly one thread.
private final class Handoff: @unchecked Sendable {
    let channel: SmdChannel
    var received: [[UInt8]] = []
    var error: SmdError?
    init(_ channel: SmdChannel) { self.channel = channel }
}

@Suite("SmdThreadedTests")
struct SmdThreadedTests {
    @Test(arguments: SmdInfoLayout.allCases)
    func streamAcrossThreads(layout: SmdInfoLayout) throws {
        let pair = try EdgePair()
        let (host, remote) = try pair.openChannel(name: "stream", fifoSize: 256, layout: layout)
        let sender = Handoff(host)
        let receiver = Handoff(remote)
        let count = 1000
        // Dedicated threads, not Dispatch's global queue: its few workers on a 2-CPU machine can all be taken
        // by the busy senders of parallel test cases, leaving the receivers unscheduled.
        let done = DispatchGroup()
        Self.run(in: done) {
            do {
                var index = 0
                while index < count {
                    let size = 4 * (1 + index % 50)
                    if try sender.channel.send(pattern(size, start: UInt8(truncatingIfNeeded: index))) == .sent {
                        index += 1
                    } else {
                        sched_yield()
                    }
                }
            } catch { sender.error = error as? SmdError }
        }
        Self.run(in: done) {
            do {
                while receiver.received.count < count {
                    let result = try receiver.channel.handleInterrupt { payload in
                        receiver.received.append(Array(payload))
                        return true
                    }
                    if result.delivered == 0 { sched_yield() }
                }
            } catch { receiver.error = error as? SmdError }
        }
        #expect(done.wait(timeout: .now() + 60) == .success)
        #expect(sender.error == nil && receiver.error == nil)
        #expect(receiver.received.count == count)
        let expected = (0..<count).map { pattern(4 * (1 + $0 % 50), start: UInt8(truncatingIfNeeded: $0)) }
        #expect(receiver.received == expected)
    }

    /// Runs `body` on a thread of its own, inside `group`.
    private static func run(in group: DispatchGroup, _ body: @escaping @Sendable () -> Void) {
        group.enter()
        Thread {
            body()
            group.leave()
        }.start()
    }
}

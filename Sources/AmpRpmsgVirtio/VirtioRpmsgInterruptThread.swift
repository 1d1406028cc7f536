// The host's "interrupt handler" for a remote's virtio rpmsg links: one thread per to-host doorbell.
//
// The remote rings the to-host doorbell with a vring's notify id after it publishes used buffers (and bit 31
// for control-block news). A doorbell has exactly one waiter, so one thread serves every link of a remote:
//
//   loop: service every link (drain vring0, deliver, reclaim vring1) -> wait on the doorbell, polling every
//         link's vring0 while spinning, re-arming vring0 interrupts before sleeping
//
// The pending bits only say "look"; every wake services every link, as a shared mailbox interrupt would
// (a remote's notify ids are harmless to ignore). A sender blocked on this very thread (a driver answering
// from its callback) also waits on the doorbell; when it did, the loop services all links again before
// sleeping, so a ring it consumed is never lost. The wait is bounded (idleRescan) as a safety net against a
// remote that forgets to ring. Stopping: close the links, then stop() (wake + join).

import AmpSystem
import Dispatch
import Foundation
import Synchronization

/// The thread that waits on a remote's to-host doorbell and services its virtio rpmsg links.
public final class VirtioRpmsgInterruptThread: Sendable {
    /// Thread name (for debuggers), e.g. "ampsoc ipu rpmsg".
    public let name: String
    /// The links served.
    public let links: [VirtioRpmsgLink]
    private let doorbell: Doorbell
    private let stopping = Atomic<Bool>(false)
    private let running = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)

    /// Longest doorbell sleep: a ring the remote failed to make costs at most this much latency.
    public static let idleRescan: Duration = .milliseconds(250)

    /// - Parameters:
    ///   - doorbell: the to-host doorbell; this thread must be its only waiter.
    ///   - links: the links to service (their `toHost` must be this doorbell).
    public init(name: String, doorbell: Doorbell, links: [VirtioRpmsgLink]) {
        self.name = name
        self.doorbell = doorbell
        self.links = links
    }

    /// Starts the thread (once; later calls do nothing).
    public func start() {
        guard !running.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let thread = Thread { [self] in run() }
        thread.name = name
        thread.start()
    }

    /// Asks the thread to end, wakes it and waits up to `timeout` for it. Close the links first, so that
    /// a sender blocked on the thread gives up. Returns whether the thread ended (true if it never ran).
    @discardableResult
    public func stop(timeout: Duration = .seconds(5)) -> Bool {
        guard running.load(ordering: .acquiring) else { return true }
        guard !stopping.exchange(true, ordering: .acquiringAndReleasing) else { return true }
        try? doorbell.wake()
        let seconds = Double(MonotonicClock.nanoseconds(of: timeout)) / 1e9
        return finished.wait(timeout: .now() + seconds) == .success
    }

    private func run() {
        for link in links { link.adoptServiceThread() }
        // The poll runs on every spin iteration: it looks through unretained pollers (no reference counting),
        // and a remote with one link (the usual case) needs no loop at all.
        let pollers = links.map(\.inboundPoller)
        let onlyPoller = pollers.count == 1 ? pollers[0] : nil
        let poll: () -> Bool = {
            if let onlyPoller { return onlyPoller.hasInboundPending }
            return pollers.contains { $0.hasInboundPending }
        }
        while !stopping.load(ordering: .acquiring) {
            let before = nestedWaits()
            for link in links { link.service() }
            if stopping.load(ordering: .acquiring) { break }
            // A sender on this thread waited on the doorbell and may have taken rings meant for us: rescan.
            if nestedWaits() != before { continue }
            do {
                // While spinning, poll every link's vring0 (its interrupts are off after a drained pass);
                // before sleeping, turn them on again (and do not sleep if a message slipped in).
                _ = try doorbell.wait(
                    timeout: Self.idleRescan, polledMask: Doorbell.wakeBit,
                    poll: poll,
                    arm: {
                        var pending = false
                        for link in links where link.armReceive() { pending = true }
                        return pending
                    })
            } catch {
                // The doorbell's syscall failed (should not happen): do not spin on the error.
                usleep(10_000)
            }
        }
        finished.signal()
    }

    private func nestedWaits() -> UInt64 {
        links.reduce(0) { $0 &+ $1.serviceThreadDoorbellWaits.load(ordering: .relaxed) }
    }
}

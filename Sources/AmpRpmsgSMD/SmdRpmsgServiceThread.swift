// The host's "interrupt handler" for a remote's SMD edge: one thread per to-host doorbell (a doorbell has
// exactly one waiter), serving that remote's SMD links (normally one: one edge per remote).
//
//   loop: service every link (scan, channel handlers, state work, deliveries) -> wait on the doorbell for
//         at most `tick` while a handshake deadline or retry back-off is pending, else `idleRescan`
//
// A wait that ends without a ring also rescans the allocation tables (a channel published just after a scan
// read the free space would otherwise wait for the next allocation). A sender blocked on this very thread (a
// driver answering from its callback) waits on the doorbell itself; when it did, the loop runs another pass
// before sleeping, so a ring it consumed is never lost. Stopping: close the links, then stop() (wake + join).

import AmpSystem
import Dispatch
import Foundation
import Synchronization

/// The thread that waits on a remote's to-host doorbell and services its SMD rpmsg links.
public final class SmdRpmsgServiceThread: Sendable {
    /// Thread name (for debuggers), e.g. "ampsoc modem smd".
    public let name: String
    /// The links served.
    public let links: [SmdRpmsgEdgeLink]
    private let doorbell: Doorbell
    private let stopping = Atomic<Bool>(false)
    private let started = Atomic<Bool>(false)
    private let alive = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)

    /// Period of the service pass while a handshake stage deadline or a retry back-off is pending.
    public static let tick: Duration = .milliseconds(20)
    /// Longest doorbell sleep otherwise: a ring the remote failed to make costs at most this much latency.
    public static let idleRescan: Duration = .milliseconds(250)

    /// - Parameters:
    ///   - doorbell: the to-host doorbell; this thread must be its only waiter.
    ///   - links: the links to service (their `toHost` must be this doorbell).
    public init(name: String, doorbell: Doorbell, links: [SmdRpmsgEdgeLink]) {
        self.name = name
        self.doorbell = doorbell
        self.links = links
    }

    /// Starts the thread (once; later calls do nothing).
    public func start() {
        guard !started.exchange(true, ordering: .acquiringAndReleasing) else { return }
        alive.store(true, ordering: .releasing)
        let thread = Thread { [self] in run() }
        thread.name = name
        thread.start()
    }

    /// Whether the thread was started and has not ended yet.
    public var isRunning: Bool { alive.load(ordering: .acquiring) }

    /// Asks the thread to end, wakes it and waits up to `timeout` for it. Close the links first, so that a
    /// sender blocked on the thread gives up. Returns whether the thread ended (true if it never ran).
    @discardableResult
    public func stop(timeout: Duration = .seconds(5)) -> Bool {
        guard started.load(ordering: .acquiring) else { return true }
        guard !stopping.exchange(true, ordering: .acquiringAndReleasing) else { return !isRunning }
        try? doorbell.wake()
        let seconds = Double(MonotonicClock.nanoseconds(of: timeout)) / 1e9
        return finished.wait(timeout: .now() + seconds) == .success
    }

    private func run() {
        for link in links { link.adoptServiceThread() }
        var rescan = true
        while !stopping.load(ordering: .acquiring) {
            let before = nestedWaits()
            var more = false
            for link in links where link.service(rescan: rescan) { more = true }
            rescan = false
            if stopping.load(ordering: .acquiring) { break }
            // Packets left behind a full inbox, or a sender on this thread consumed rings meant for us.
            if more || nestedWaits() != before { continue }
            let timeout = links.contains { $0.hasDeadline } ? Self.tick : Self.idleRescan
            do {
                if try doorbell.wait(timeout: timeout) == 0 { rescan = true }
            } catch {
                // The doorbell's syscall failed (should not happen): do not spin on the error.
                usleep(10_000)
                rescan = true
            }
        }
        alive.store(false, ordering: .releasing)
        finished.signal()
    }

    private func nestedWaits() -> UInt64 {
        links.reduce(0) { $0 &+ $1.serviceThreadDoorbellWaits.load(ordering: .relaxed) }
    }
}

// The machinery both userland bridges share: the bounded queue of messages from the remote with the
// counters, the eventfd that wakes the bridge's thread, the epoll set it sleeps on, and the thread itself.
//
// Threads: `enqueue` runs on a link's receive thread and never blocks (a lock held for a few instructions,
// at most one eventfd write). Everything else that touches descriptors runs on the bridge's own thread,
// which is the only one to read or write the user's side. `stop` asks the thread to end, wakes it and joins
// it (unless called from that very thread).

import AmpRpmsg
import AmpSystem
import Dispatch
import Foundation
import Synchronization

final class BridgeRuntime: Sendable {
    /// The set the bridge thread sleeps on (the wake-up eventfd is already in it).
    let epoll: Epoll
    private let wake: EventFD
    private let state: Mutex<State>
    private let stopRequested = Atomic<Bool>(false)
    private let threadStarted = Atomic<Bool>(false)
    private let threadID = Atomic<UInt>(0)
    private let finished = DispatchSemaphore(value: 0)

    private struct State {
        var queue: InboundQueue
        var counters = BridgeCounters()
        var lastError: String?
        var clientConnected = false
        var closed = false
    }

    init(queueCapacity: Int) throws(SystemError) {
        epoll = try Epoll()
        wake = try EventFD()
        state = Mutex(State(queue: InboundQueue(capacity: queueCapacity)))
        try epoll.add(wake.fileDescriptor, events: .readable)
    }

    // MARK: Any thread

    /// Queues a message from the remote for the user and wakes the thread; counts it, or counts it dropped
    /// when the queue is full or the bridge closed. Never blocks.
    func enqueue(_ payload: [UInt8]) {
        let mustWake = state.withLock { state -> Bool in
            let wasEmpty = state.queue.isEmpty
            guard !state.closed, state.queue.append(payload) else {
                state.counters.dropped += 1
                return false
            }
            state.counters.rxMessages += 1
            state.counters.rxBytes += UInt64(payload.count)
            return wasEmpty
        }
        // Only the empty -> non-empty transition needs a wake-up: otherwise the thread has work pending
        // already and comes back to the queue by itself.
        if mustWake { try? wake.signal() }
    }

    var counters: BridgeCounters {
        state.withLock { state in
            var counters = state.counters
            counters.queued = state.queue.count
            return counters
        }
    }

    var lastError: String? { state.withLock { $0.lastError } }

    var isClientConnected: Bool { state.withLock { $0.clientConnected } }

    var isStopping: Bool { stopRequested.load(ordering: .acquiring) }

    /// Starts `body` on a new thread named `name`.
    func start(name: String, _ body: @escaping @Sendable () -> Void) {
        threadStarted.store(true, ordering: .releasing)
        let thread = Thread { [self] in
            threadID.store(UInt(pthread_self()), ordering: .releasing)
            body()
            finished.signal()
        }
        thread.name = name
        thread.start()
    }

    /// Marks the bridge closed (later messages are dropped), ends the thread and waits for it. Returns false
    /// when the bridge was closed already.
    func stop() -> Bool {
        let first = state.withLock { state -> Bool in
            guard !state.closed else { return false }
            state.closed = true
            return true
        }
        guard first else { return false }
        stopRequested.store(true, ordering: .releasing)
        try? wake.signal()
        let onOwnThread = threadID.load(ordering: .acquiring) == UInt(pthread_self())
        if threadStarted.load(ordering: .acquiring), !onOwnThread { finished.wait() }
        return true
    }

    // MARK: Bridge thread

    func isWake(_ fd: Int32) -> Bool { fd == wake.fileDescriptor }

    func drainWake() { _ = try? wake.drain() }

    /// The oldest queued message, removed from the queue.
    func takeInbound() -> [UInt8]? {
        state.withLock { $0.queue.removeFirst() }
    }

    /// Discards every queued message, counting them as dropped (when the bridge closes).
    func discardInbound() {
        state.withLock { state in
            state.counters.dropped += UInt64(state.queue.removeAll())
        }
    }

    func count(_ change: (inout BridgeCounters) -> Void) {
        state.withLock { change(&$0.counters) }
    }

    func setClientConnected(_ connected: Bool) {
        state.withLock { $0.clientConnected = connected }
    }

    /// Records `message` as the last problem met.
    func note(_ message: String) {
        state.withLock { $0.lastError = message }
    }

    /// Sends one message to the remote through `send`, counting the outcome.
    func send(_ payload: [UInt8], through send: BridgeSend) {
        do throws(RpmsgError) {
            try send(payload)
            count {
                $0.txMessages += 1
                $0.txBytes += UInt64(payload.count)
            }
        } catch {
            state.withLock { state in
                state.counters.sendFailures += 1
                state.lastError = "send of \(payload.count) bytes failed: \(error.message)"
            }
        }
    }
}

import AmpSystem

/// The remote core's scheduler: a single-threaded, cooperative message loop in the style of a small RTOS.
///
/// Work arrives four ways, all run on the loop's thread, one callback at a time:
/// - timers: one-shot (``after(_:_:)``) and periodic (``every(_:_:)``), cancellable through their handle;
/// - work items (``post(_:)``) and cooperative tasks (``task(_:)``): a task's step closure runs repeatedly,
///   yielding to timers, notifications and other work between steps, until it returns ``TaskStep/done``;
/// - notifications (``onNotify(_:_:)``, ``onAnyNotify(_:)``): the bits the host rang on the to-remote mailbox;
/// - stop handlers (``onStop(_:)``), run once when the host asks for an orderly stop.
///
/// One pass of the loop: check the stop request; dispatch the notify bits taken last time; run the timers that
/// are due (earliest first); run the work items and task steps that were ready at the start of the pass; then
/// take the doorbell's pending bits, sleeping in the doorbell (futex or eventfd) until the next timer deadline
/// when nothing is ready. An idle poller (the rpmsg device's vring1) is polled wherever the doorbell is
/// looked at, so a peer that was asked not to ring while the loop spins is still heard. An idle loop therefore sleeps in the kernel and uses no CPU; a loop with ready work
/// only polls the doorbell.
///
/// Nothing here is thread-safe: call it only from the loop's thread (from setup code and from callbacks).
/// A callback that blocks blocks the whole core, heartbeat included, as on a real single-core RTOS.
public final class MessageLoop {
    /// What a task step returns.
    public enum TaskStep: Sendable {
        /// Run the step again after the loop has had a turn.
        case more
        /// The task is finished.
        case done
    }

    /// Why ``run(until:)`` returned.
    enum EndReason: Equatable {
        /// The stop check returned true.
        case stopRequested
        /// The caller's condition became true.
        case conditionMet
        /// ``quit()`` was called.
        case quit
    }

    /// Why ``block(timeout:until:)`` returned.
    enum BlockOutcome: Equatable {
        /// The condition became true.
        case conditionMet
        /// The timeout passed first.
        case timedOut
        /// The host asked for an orderly stop; the caller should give up so the loop can stop.
        case stopRequested
    }

    /// A scheduled timer; ``cancel()`` it to stop it. Dropping the handle does not cancel the timer.
    public final class TimerHandle {
        fileprivate let id: UInt64
        fileprivate weak var loop: MessageLoop?

        fileprivate init(id: UInt64, loop: MessageLoop) {
            self.id = id
            self.loop = loop
        }

        /// Cancels the timer: it will not fire again (a periodic timer may cancel itself from its own action).
        /// Cancelling twice, or after a one-shot timer fired, does nothing.
        public func cancel() { loop?.removeTimer(id) }

        /// Whether the timer is still scheduled.
        public var isActive: Bool { loop?.timers.contains { $0.id == id } ?? false }
    }

    private struct ScheduledTimer {
        let id: UInt64
        var deadline: UInt64
        /// Nanoseconds between firings; nil for a one-shot timer.
        let period: UInt64?
        /// Whether it also runs while a callback blocks in ``block(timeout:until:)`` (the heartbeat).
        let essential: Bool
        let action: () -> Void
    }

    /// The shortest period ``every(_:_:)`` accepts; shorter ones are raised to it.
    public static let minimumPeriod: Duration = .milliseconds(1)

    private let doorbell: Doorbell
    private let stopRequested: () -> Bool
    /// Whether waiting spins before sleeping (more than one usable CPU): only then is busy polling of any use.
    var spins: Bool { doorbell.spinBudgetNanoseconds > 0 }
    /// ``MonotonicClock/coarseLagNanoseconds``, read once (another module's global costs an accessor call).
    private let coarseLag = MonotonicClock.coarseLagNanoseconds
    // @exclusivity(unchecked) on the state every pass touches: see RpmsgRemoteDevice.
    /// Sorted by deadline, then id (registration order).
    @exclusivity(unchecked) private var timers: [ScheduledTimer] = []
    private var nextTimerID: UInt64 = 1
    @exclusivity(unchecked) private var ready: [() -> TaskStep] = []
    /// Every notify handler, in registration order (``onNotify(_:_:)`` ones with their bit, ``onAnyNotify(_:)``
    /// ones with none), owned here; `notifyOrder` lists them unretained, specific ones first, for `dispatch`.
    @exclusivity(unchecked) private var notifyHandlers: [NotifyHandler] = []
    /// Dispatch order: the ``onNotify(_:_:)`` handlers, then the ``onAnyNotify(_:)`` ones, each in registration
    /// order. Unretained (``notifyHandlers`` owns them, and handlers are never removed), so dispatching a
    /// message costs no reference counting.
    @exclusivity(unchecked) private var notifyOrder: [Unmanaged<NotifyHandler>] = []
    /// How many of `notifyOrder` are ``onNotify(_:_:)`` handlers.
    @exclusivity(unchecked) private var specificNotifyCount = 0

    /// A notify handler: for one bit, or for every ring (`bit` nil).
    private final class NotifyHandler {
        let bit: UInt32?
        let handle: (UInt32) -> Void

        init(bit: UInt32?, handle: @escaping (UInt32) -> Void) {
            self.bit = bit
            self.handle = handle
        }
    }
    private var stopHandlers: [() -> Void] = []
    @exclusivity(unchecked) private var quitRequested = false
    /// Bits taken from the doorbell but not yet dispatched (kept across ``run(until:)`` calls).
    @exclusivity(unchecked) private var undispatchedBits: UInt32 = 0
    /// Work found in shared memory rather than rung (see ``setIdlePoller(bits:poll:arm:)``).
    /// Every pass and every spin iteration uses it through its unretained copy: copying the closures out of a
    /// stored property would cost a retain and a release of each per use.
    @exclusivity(unchecked) private var idlePoller = HotReference<IdlePoller>()

    /// A source of work the loop polls while it spins on the doorbell (see ``setIdlePoller(bits:poll:arm:)``).
    private final class IdlePoller {
        let bits: UInt32
        let poll: () -> Bool
        let arm: () -> Bool

        init(bits: UInt32, poll: @escaping () -> Bool, arm: @escaping () -> Bool) {
            self.bits = bits
            self.poll = poll
            self.arm = arm
        }
    }

    /// A loop that sleeps on `doorbell` (it must be the only waiter on it) and ends when `stopRequested`
    /// returns true; the check runs before every pass, so after every wake-up.
    init(doorbell: Doorbell, stopRequested: @escaping () -> Bool) {
        self.doorbell = doorbell
        self.stopRequested = stopRequested
    }

    // MARK: Registering work

    /// Runs `action` once, `delay` from now (at the first pass after the deadline).
    @discardableResult
    public func after(_ delay: Duration, _ action: @escaping () -> Void) -> TimerHandle {
        schedule(deadline: MonotonicClock.nanoseconds() &+ MonotonicClock.nanoseconds(of: delay), period: nil, essential: false, action)
    }

    /// Runs `action` every `period` (at least ``minimumPeriod``), first one period from now. A loop that falls
    /// behind skips the missed firings rather than running them in a burst.
    @discardableResult
    public func every(_ period: Duration, _ action: @escaping () -> Void) -> TimerHandle {
        every(period, essential: false, action)
    }

    /// ``every(_:_:)``; an `essential` timer also runs while a callback blocks in ``block(timeout:until:)``
    /// (the runtime's heartbeat, so a sender waiting for a buffer does not look hung to the watchdog).
    @discardableResult
    func every(_ period: Duration, essential: Bool, _ action: @escaping () -> Void) -> TimerHandle {
        let nanoseconds = max(MonotonicClock.nanoseconds(of: period), MonotonicClock.nanoseconds(of: Self.minimumPeriod))
        return schedule(deadline: MonotonicClock.nanoseconds() &+ nanoseconds, period: nanoseconds, essential: essential, action)
    }

    /// Runs `work` once, at the next pass.
    public func post(_ work: @escaping () -> Void) {
        ready.append {
            work()
            return .done
        }
    }

    /// Starts a cooperative task: `step` runs at the next pass and again at every later pass until it returns
    /// ``TaskStep/done``. Keep each step short; timers and notifications run between steps.
    public func task(_ step: @escaping () -> TaskStep) {
        ready.append(step)
    }

    /// Calls `handler` with the pending bits whenever a taken mask contains the bit of `notifyID` (ids 31 and
    /// above share bit 31), or bit 31, which means "check everything". Handlers run in registration order.
    public func onNotify(_ notifyID: UInt32, _ handler: @escaping (UInt32) -> Void) {
        let entry = NotifyHandler(bit: MailboxLayout.bit(forNotifyID: notifyID), handle: handler)
        notifyHandlers.append(entry)
        notifyOrder.insert(.passUnretained(entry), at: specificNotifyCount)
        specificNotifyCount += 1
    }

    /// Calls `handler` with every non-zero mask taken from the doorbell, after the ``onNotify(_:_:)`` handlers.
    public func onAnyNotify(_ handler: @escaping (UInt32) -> Void) {
        let entry = NotifyHandler(bit: nil, handle: handler)
        notifyHandlers.append(entry)
        notifyOrder.append(.passUnretained(entry))
    }

    /// Registers `handler` to run, in registration order, when the host asks for an orderly stop.
    public func onStop(_ handler: @escaping () -> Void) {
        stopHandlers.append(handler)
    }

    /// Ends ``run(until:)`` after the current callback (used by tests and embedders; firmware ends when the host
    /// stops it).
    func quit() { quitRequested = true }

    /// Lets the loop find work without a doorbell ring, as busy polling does: whenever it looks at the
    /// doorbell (between passes, and while it spins before sleeping) it also calls `poll`, and when that
    /// returns true it dispatches `bits` as if they had been rung. Before it sleeps it calls `arm` once, which
    /// must ask the peer to ring again (a virtqueue's notifications) and return whether work arrived
    /// meanwhile. The owner may ask the peer not to ring while the loop polls. One poller per loop (a new
    /// one replaces the old one). Keep `poll` cheap: it runs on every spin iteration.
    func setIdlePoller(bits: UInt32, poll: @escaping () -> Bool, arm: @escaping () -> Bool) {
        idlePoller.set(IdlePoller(bits: bits, poll: poll, arm: arm))
    }

    /// Stops polling (the polled rings are gone).
    func removeIdlePoller() {
        idlePoller.set(nil)
    }

    // MARK: Running

    /// Runs passes until the stop check or `condition` (checked before every pass) is true, or ``quit()``.
    /// Throws only if sleeping on the doorbell fails.
    func run(until condition: () -> Bool = { false }) throws(SystemError) -> EndReason {
        while true {
            if stopRequested() { return .stopRequested }
            if quitRequested {
                quitRequested = false
                return .quit
            }
            if condition() { return .conditionMet }
            if undispatchedBits != 0 {
                let bits = undispatchedBits
                undispatchedBits = 0
                dispatch(bits)
            }
            runDueTimers()
            runReadyWork()
            undispatchedBits |= try takeBits()
        }
    }

    /// Runs the stop handlers once each, in registration order.
    func runStopHandlers() {
        let handlers = stopHandlers
        stopHandlers = []
        for handler in handlers { handler() }
    }

    private func dispatch(_ bits: UInt32) {
        let everything = bits & MailboxLayout.overflowBit != 0
        // Over a copy of the list: a handler may register another one, which runs from the next ring on.
        for reference in notifyOrder {
            reference._withUnsafeGuaranteedRef { entry in
                if let bit = entry.bit, !everything, bits & bit == 0 { return }
                entry.handle(bits)
            }
        }
    }

    private func runDueTimers() {
        // Most passes come nowhere near a deadline (the heartbeat's is hundreds of milliseconds away): the
        // coarse clock proves that for a few nanoseconds, and only otherwise is the precise clock read.
        guard let earliest = timers.first?.deadline,
            MonotonicClock.coarseNanoseconds() &+ coarseLag >= earliest
        else { return }
        let now = MonotonicClock.nanoseconds()
        while !quitRequested, let first = timers.first, first.deadline <= now {
            timers.removeFirst()
            reschedule(first, now: now)
            first.action()
        }
    }

    /// Puts a periodic timer that just fired back in the queue (skipping missed firings).
    private func reschedule(_ timer: ScheduledTimer, now: UInt64) {
        guard let period = timer.period else { return }
        var next = timer.deadline &+ period
        if next <= now { next = now &+ period }
        insert(ScheduledTimer(id: timer.id, deadline: next, period: period, essential: timer.essential, action: timer.action))
    }

    private func runReadyWork() {
        let batch = ready
        ready = []
        for (index, step) in batch.enumerated() {
            if quitRequested {
                ready.insert(contentsOf: batch[index...], at: 0)
                return
            }
            if step() == .more { ready.append(step) }
        }
    }

    /// The doorbell's pending bits: polled when work is ready, a timer is due or bits taken by a blocked
    /// callback (``block(timeout:until:)``) wait for dispatch, otherwise waited for until the next deadline (or
    /// forever without timers).
    private func takeBits() throws(SystemError) -> UInt32 {
        if !ready.isEmpty || quitRequested || undispatchedBits != 0 { return takePendingAndPolled() }
        // Work already there needs no timeout, so no clock reading.
        let found = takePendingAndPolled()
        if found != 0 { return found }
        guard let deadline = timers.first?.deadline else { return try waitForBits(timeout: nil) }
        let now = MonotonicClock.nanoseconds()
        if deadline <= now { return takePendingAndPolled() }
        return try waitForBits(timeout: .nanoseconds(Int64(clamping: deadline - now)))
    }

    /// The pending bits, and the idle poller's bits if it finds work, without waiting.
    private func takePendingAndPolled() -> UInt32 {
        let bits = doorbell.takePending()
        guard let idlePollerReference = idlePoller.unretained else { return bits }
        return idlePollerReference._withUnsafeGuaranteedRef { $0.poll() ? bits | $0.bits : bits }
    }

    /// Waits on the doorbell (polling the idle poller while spinning, arming it before sleeping). Nothing
    /// replaces the poller meanwhile: `poll` and `arm` only look at rings.
    private func waitForBits(timeout: Duration?) throws(SystemError) -> UInt32 {
        guard let idlePollerReference = idlePoller.unretained else { return try doorbell.wait(timeout: timeout) }
        return try idlePollerReference._withUnsafeGuaranteedRef { poller in
            Result { () throws(SystemError) -> UInt32 in
                try doorbell.wait(timeout: timeout, polledMask: poller.bits, poll: poller.poll, arm: poller.arm)
            }
        }.get()
    }

    // MARK: Blocking inside a callback

    /// Blocks the current callback, as a blocking call on a single-core RTOS does, until `condition` holds, the
    /// host requests a stop, or `timeout` passes. `condition` is checked first, then after every doorbell
    /// wake-up and at least every `recheckEvery`. Meanwhile only essential timers (the heartbeat) run; the
    /// bits taken from the doorbell are kept and dispatched by the loop as usual once the callback returns.
    /// Throws only if sleeping on the doorbell fails.
    func block(
        timeout: Duration, recheckEvery: Duration = .milliseconds(50), until condition: () -> Bool
    ) throws(SystemError) -> BlockOutcome {
        let start = MonotonicClock.nanoseconds()
        let deadline = start &+ MonotonicClock.nanoseconds(of: timeout)
        let recheck = max(MonotonicClock.nanoseconds(of: recheckEvery), 1_000_000)
        while true {
            if condition() { return .conditionMet }
            if stopRequested() { return .stopRequested }
            let now = MonotonicClock.nanoseconds()
            if now >= deadline { return .timedOut }
            runDueEssentialTimers(now: now)
            var wake = min(deadline, now &+ recheck)
            if let next = timers.first(where: { $0.essential })?.deadline { wake = min(wake, next) }
            let wait = wake > now ? wake - now : 0
            undispatchedBits |= wait == 0 ? doorbell.takePending() : try doorbell.wait(timeout: .nanoseconds(Int64(clamping: wait)))
        }
    }

    /// Runs the essential timers that are due, earliest first.
    private func runDueEssentialTimers(now: UInt64) {
        while let index = timers.firstIndex(where: { $0.essential }), timers[index].deadline <= now {
            let timer = timers.remove(at: index)
            reschedule(timer, now: now)
            timer.action()
        }
    }

    // MARK: Timer queue

    private func schedule(deadline: UInt64, period: UInt64?, essential: Bool, _ action: @escaping () -> Void) -> TimerHandle {
        let id = nextTimerID
        nextTimerID += 1
        insert(ScheduledTimer(id: id, deadline: deadline, period: period, essential: essential, action: action))
        return TimerHandle(id: id, loop: self)
    }

    /// Inserts keeping `timers` sorted by (deadline, id).
    private func insert(_ timer: ScheduledTimer) {
        var low = 0
        var high = timers.count
        while low < high {
            let middle = (low + high) / 2
            let other = timers[middle]
            if other.deadline < timer.deadline || (other.deadline == timer.deadline && other.id < timer.id) {
                low = middle + 1
            } else {
                high = middle
            }
        }
        timers.insert(timer, at: low)
    }

    private func removeTimer(_ id: UInt64) {
        timers.removeAll { $0.id == id }
    }
}

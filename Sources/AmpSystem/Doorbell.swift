import CAmpShim
import Glibc

/// One direction of an emulated mailbox: the ringer sets a notify id's bit, the single waiter takes the bits.
/// Both processes build a `Doorbell` over the same ``MailboxLayout`` block; one calls ``ring(notifyID:)``, the
/// other ``wait(timeout:)``.
///
/// Two ways to sleep, chosen per profile:
/// - ``Kind/futex``: the waiter sleeps in FUTEX_WAIT on the block's `sequence` word; the ringer FUTEX_WAKEs it.
/// - ``Kind/eventfd(_:)``: the waiter sleeps in `ppoll(2)` on an eventfd that the host created and passed to the
///   remote through spawn; the ringer writes to it. A host can put that eventfd in its own ``Epoll`` set and
///   bracket the epoll wait with ``registerSleeper()`` / ``unregisterSleeper()``.
///
/// Waiting is adaptive: after a first check the waiter spins (with `amp_cpu_relax`) for ``spinBudgetNanoseconds``
/// (a ring from the other CPU then costs well under a microsecond instead of a ~30 us wake-up), then sleeps.
/// After the first ``yieldAfterNanoseconds`` of a spin it also yields the CPU between looks, so a ringer that
/// the scheduler placed on the same CPU is not shut out for the rest of the spin.
/// With a single usable CPU the budget is 0, because spinning would only keep the ringer off that CPU.
/// Ringers make the wake syscall only while `sleepers` is non-zero.
///
/// No lost wake-ups. Ringer: (A) OR the bit into `pending`, (B) increment `sequence` (release), seq_cst fence,
/// (C) read `sleepers` and make the wake call if non-zero. Sleeper: (D) increment `sleepers`, (E) read `sequence`
/// as S (acquire), seq_cst fence, (F) take `pending`, and only if it was empty sleep while `sequence == S`.
/// The two fences are totally ordered. If the ringer's comes first, F sees A and the sleeper does not sleep.
/// Otherwise C sees D and the ringer makes the wake call; and if F missed A, E read a sequence older than B
/// (had E seen B, release/acquire would have made A visible to F), so FUTEX_WAIT(S) either finds
/// `sequence != S` and returns at once, or the kernel queues the sleeper before the ringer's FUTEX_WAKE, which
/// follows B. With the eventfd kind the ringer's write leaves the eventfd readable until drained, so the poll
/// returns at once whichever side comes first.
/// Spurious wake-ups (stale eventfd counts, sequence changes whose bits were already taken) just loop.
///
/// One waiter per direction: `pending` is taken with an exchange, so a second waiter would steal bits.
public final class Doorbell: @unchecked Sendable {
    /// How a waiter sleeps and a ringer wakes it.
    public enum Kind: Sendable {
        /// FUTEX_WAIT / FUTEX_WAKE on the mailbox's sequence word (shared futex, works across processes).
        case futex
        /// `ppoll(2)` on / `write(2)` to this eventfd; both processes hold the same eventfd.
        case eventfd(EventFD)
    }

    /// The default spinning time before sleeping.
    public static let defaultSpinBudget: Duration = .microseconds(30)
    /// The pending bit that ``wake()`` sets (shared with notify ids >= 31).
    public static let wakeBit = MailboxLayout.overflowBit

    /// How this doorbell sleeps and wakes.
    public let kind: Kind
    /// Spinning time in ``wait(timeout:)`` before sleeping; 0 on a single usable CPU.
    public let spinBudgetNanoseconds: UInt64
    private let pending: SharedAtomicWord
    private let sequence: SharedAtomicWord
    private let sleepers: SharedAtomicWord

    /// A doorbell over the mailbox block at `mailboxOffset` in `segment` (64-byte aligned, see ``MailboxLayout``).
    /// `spinBudget` is used only when more than one CPU is usable (``CPUAffinity/usableCPUCount()``).
    public init(
        segment: SharedMemorySegment, mailboxOffset: Int, kind: Kind, spinBudget: Duration = Doorbell.defaultSpinBudget
    ) throws(SystemError) {
        try MailboxLayout.checkPlacement(in: segment, at: mailboxOffset)
        pending = try segment.atomicWord(at: mailboxOffset + MailboxLayout.pendingOffset)
        sequence = try segment.atomicWord(at: mailboxOffset + MailboxLayout.sequenceOffset)
        sleepers = try segment.atomicWord(at: mailboxOffset + MailboxLayout.sleepersOffset)
        self.kind = kind
        spinBudgetNanoseconds = Doorbell.effectiveSpinBudget(spinBudget, usableCPUs: CPUAffinity.usableCPUCount())
    }

    /// `requested` in nanoseconds, or 0 when only one CPU is usable.
    public static func effectiveSpinBudget(_ requested: Duration, usableCPUs: Int) -> UInt64 {
        usableCPUs > 1 ? MonotonicClock.nanoseconds(of: requested) : 0
    }

    // MARK: Ringing

    /// Rings `notifyID`: sets its pending bit, bumps the sequence, and wakes the waiter if it is asleep
    /// (FUTEX_WAKE or an eventfd write). Never blocks.
    public func ring(notifyID: UInt32) throws(SystemError) {
        pending.bitwiseOr(MailboxLayout.bit(forNotifyID: notifyID), ordering: .releasing)
        sequence.wrappingAdd(1, ordering: .releasing)
        amp_fence_seq_cst()
        if sleepers.load(ordering: .relaxed) != 0 {
            try wakeSleepers()
        }
    }

    /// Interrupts the waiter (e.g. for shutdown): rings ``wakeBit``, so its ``wait(timeout:)`` returns a non-zero
    /// mask and it re-checks everything, including its stop flag.
    public func wake() throws(SystemError) {
        try ring(notifyID: 31)
    }

    private func wakeSleepers() throws(SystemError) {
        switch kind {
        case .futex:
            _ = try Sys.checked("futex_wake", "doorbell sequence word", Sys.futexWake(sequence.address, Int32.max))
        case .eventfd(let eventFD):
            try eventFD.signal()
        }
    }

    // MARK: Waiting

    /// Takes the pending bits without waiting (0 if none).
    public func takePending() -> UInt32 {
        if pending.load(ordering: .relaxed) == 0 { return 0 }
        return pending.exchange(0, ordering: .acquiringAndReleasing)
    }

    /// Waits until a ring, then returns and clears the pending mask; returns 0 if `timeout` passes first
    /// (nil waits forever). Spins for up to ``spinBudgetNanoseconds`` before sleeping. EINTR is retried with the
    /// time left. Only one thread may wait on a doorbell at a time.
    public func wait(timeout: Duration?) throws(SystemError) -> UInt32 {
        try wait(timeout: timeout, polledMask: 0, poll: { false }, arm: { false })
    }

    /// ``wait(timeout:)`` for a waiter that can also find work without a ring, by polling shared memory (a
    /// virtqueue whose peer was asked not to ring while this side spins, as virtio's notification suppression
    /// or Linux's busy polling do). While spinning it calls `poll` between two looks at the pending bits;
    /// before sleeping it calls `arm` once, which must ask the peer to ring again and say whether work arrived
    /// meanwhile (then it does not sleep). Returns the pending bits, plus `polledMask` when `poll` or `arm`
    /// found work; 0 if `timeout` passes first.
    ///
    /// The clock is not read until the spin has gone on for a while (32 looks), so a ring or polled work
    /// that arrives within about a microsecond costs no clock read at all; the spin budget and the timeout
    /// count from that first reading.
    public func wait(
        timeout: Duration?, polledMask: UInt32, poll: () -> Bool, arm: () -> Bool
    ) throws(SystemError) -> UInt32 {
        let first = takePending()
        if first != 0 { return first }
        if poll() { return polledMask | takePending() }
        let timeoutNanoseconds = timeout.map { MonotonicClock.nanoseconds(of: $0) }
        let start: UInt64
        if spinBudgetNanoseconds > 0 {
            let budget = min(spinBudgetNanoseconds, timeoutNanoseconds ?? .max)
            let spun = spin(for: budget, polledMask: polledMask, poll: poll)
            if spun.mask != 0 { return spun.mask }
            start = spun.start
        } else {
            start = MonotonicClock.nanoseconds()
        }
        if arm() { return polledMask | takePending() }
        let deadline = timeoutNanoseconds.map { start &+ $0 }
        if MonotonicClock.remaining(until: deadline) == 0 { return takePending() }
        return try sleepUntilRung(deadline: deadline)
    }

    /// The sleeping half of a wait: sleeps (and re-checks) until a ring or `deadline`; returns the mask.
    private func sleepUntilRung(deadline: UInt64?) throws(SystemError) -> UInt32 {
        while true {
            let remaining = MonotonicClock.remaining(until: deadline)
            if remaining == 0 { return takePending() }
            sleepers.wrappingAdd(1, ordering: .sequentiallyConsistent)
            let observedSequence = sequence.load(ordering: .acquiring)
            amp_fence_seq_cst()
            var mask = takePending()
            if mask == 0 {
                do {
                    try sleep(expectedSequence: observedSequence, timeoutNanoseconds: remaining)
                } catch {
                    sleepers.wrappingSubtract(1, ordering: .sequentiallyConsistent)
                    throw error
                }
                mask = takePending()
            }
            sleepers.wrappingSubtract(1, ordering: .sequentiallyConsistent)
            if mask == 0 { mask = takePending() }
            if mask != 0 { return mask }
        }
    }

    /// After this long without a ring, spinning yields the CPU between looks (see ``spin(for:polledMask:poll:)``).
    public static let yieldAfterNanoseconds: UInt64 = 5_000
    /// A `sched_yield` that takes this long ran another thread on this CPU: the spin ends and the waiter sleeps.
    public static let sharedCPUYieldNanoseconds: UInt64 = 3_000

    /// Spins until a bit is pending or `poll` finds work (returns the taken mask, plus `polledMask` for
    /// polled work) or `budget` nanoseconds have passed (returns mask 0). Also returns the spin's start as
    /// the clock first read it (0 if the spin ended before reading it).
    ///
    /// The clock is read every 32 looks, the first time after 32 looks (so the budget runs from about a
    /// microsecond in). The first ``yieldAfterNanoseconds`` are a pure spin (a ring from a peer running on
    /// another CPU arrives within a few hundred nanoseconds). After that the spinner calls `sched_yield` every
    /// 32 looks: when the ringer shares this CPU (the scheduler put a waker and its wakee on one CPU, which is
    /// sticky: neither sleeps long enough for the balancer to move one), the ringer can then run and ring
    /// instead of waiting for the spin to end and a futex wake-up; with the CPU to itself `sched_yield`
    /// returns at once; when a yield does run another thread instead, the spin ends early (the waiter then
    /// sleeps, and the scheduler may place it on another CPU when it is woken).
    private func spin(for budget: UInt64, polledMask: UInt32, poll: () -> Bool) -> (mask: UInt32, start: UInt64) {
        var iterations: UInt32 = 0
        var start: UInt64 = 0
        var yielding = false
        while true {
            if pending.load(ordering: .relaxed) != 0 {
                let mask = pending.exchange(0, ordering: .acquiringAndReleasing)
                if mask != 0 { return (mask, start) }
            }
            if poll() { return (polledMask | takePending(), start) }
            amp_cpu_relax()
            iterations &+= 1
            if iterations & 31 == 0 {
                let now = MonotonicClock.nanoseconds()
                if start == 0 { start = now }
                let spun = now &- start
                if spun >= budget { return (0, start) }
                if yielding {
                    sched_yield()
                    // The yield ran another thread: this CPU is shared with someone (often the very peer that
                    // will ring, placed here when it was woken). Spinning on would keep both on one CPU, each
                    // ring costing a time slice; sleeping instead lets the scheduler put the waker and this
                    // thread on separate CPUs when it wakes this one.
                    if MonotonicClock.nanoseconds() &- now >= Self.sharedCPUYieldNanoseconds { return (0, start) }
                } else if spun >= Self.yieldAfterNanoseconds {
                    yielding = true
                }
            }
        }
    }

    /// One sleep: returns on a wake, a sequence change, a timeout, EINTR or a spurious wake-up.
    private func sleep(expectedSequence: UInt32, timeoutNanoseconds: Int64) throws(SystemError) {
        switch kind {
        case .futex:
            let result = Sys.futexWait(sequence.address, expectedSequence, timeoutNanoseconds)
            if result >= 0 || result == -EAGAIN || result == -ETIMEDOUT || result == -EINTR { return }
            throw SystemError(call: "futex_wait", subject: "doorbell sequence word", errno: -result)
        case .eventfd(let eventFD):
            let result = Sys.pollOne(eventFD.fileDescriptor, Int16(POLLIN), timeoutNanoseconds)
            if result > 0 { try eventFD.drain() }
            if result >= 0 || result == -EINTR { return }
            throw SystemError(call: "ppoll", subject: "doorbell eventfd \(eventFD.fileDescriptor)", errno: -result)
        }
    }

    // MARK: Sleeping in an outside event loop

    /// For a waiter that sleeps in its own ``Epoll`` set on this doorbell's eventfd: registers as a sleeper and
    /// returns the pending bits taken after registering. Sleep only if the result is 0, and always call
    /// ``unregisterSleeper()`` afterwards (whether or not you slept). The futex kind cannot be slept on in epoll.
    public func registerSleeper() -> UInt32 {
        sleepers.wrappingAdd(1, ordering: .sequentiallyConsistent)
        amp_fence_seq_cst()
        return takePending()
    }

    /// Ends a ``registerSleeper()`` bracket: unregisters, drains the eventfd, and returns the pending bits.
    public func unregisterSleeper() throws(SystemError) -> UInt32 {
        sleepers.wrappingSubtract(1, ordering: .sequentiallyConsistent)
        if case .eventfd(let eventFD) = kind { try eventFD.drain() }
        return takePending()
    }
}

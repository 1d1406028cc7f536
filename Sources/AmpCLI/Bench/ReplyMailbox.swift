import AmpSystem
import Foundation
import Glibc
import Synchronization

/// Hands one reply at a time from the thread that receives it (the rpmsg link's service thread, in a driver
/// callback) to the thread that waits for it (the benchmark's measuring thread).
///
/// The receiver stores the reply's two words and then increments ``posted``; the waiter knows how many
/// replies it has asked for and waits until ``posted`` reaches that number. Waiting spins first, for a bounded
/// time and only when a CPU is free for it (see ``minimumCPUsToSpin``), yielding the CPU every few iterations
/// so that a receiver waiting for this very CPU can run; then it sleeps on a condition variable, in slices, so
/// the caller can check on the remote meanwhile.
///
/// Why spinning needs three CPUs: the link's service thread and the remote's message loop already spin on
/// their doorbells after every message (30 us each), so on two CPUs a third spinner only takes a CPU from one
/// of them. Measured on a 2-vCPU machine: 20-40 us per full-stack round trip when the waiter sleeps at once,
/// ~50 us when it spins (with or without yielding), ~90 us when it spins without yielding.
///
/// No lost wake-ups: the poster increments `posted`, then reads `sleeping`; the waiter sets `sleeping`, then
/// reads `posted` under the lock. Both are sequentially consistent, so one of them sees the other's write: the
/// waiter does not sleep, or the poster signals it (after taking the lock, so after the waiter waits).
final class ReplyMailbox: @unchecked Sendable {
    /// Replies posted so far.
    private let postedCount = Atomic<UInt64>(0)
    private let firstWord = Atomic<UInt64>(0)
    private let secondWord = Atomic<Int>(0)
    private let sleeping = Atomic<Bool>(false)
    /// Guards nothing but the sleep: only taken by a sleeping waiter and by a poster that must wake it.
    private let condition = NSCondition()
    /// Spinning time before sleeping (0 with fewer than ``minimumCPUsToSpin`` usable CPUs).
    let spinNanoseconds: UInt64
    /// Iterations between two `sched_yield` calls while spinning.
    static let yieldEvery: UInt32 = 64
    /// The fewest usable CPUs with which waiters spin: one for the remote, one for the service thread, one
    /// for the waiter.
    static let minimumCPUsToSpin = 3

    /// A mailbox whose waiters spin for `spinBudget` before sleeping when at least ``minimumCPUsToSpin`` CPUs
    /// are usable (`usableCPUs`, by default this thread's), and sleep at once otherwise.
    init(spinBudget: Duration, usableCPUs: Int = CPUAffinity.usableCPUCount()) {
        spinNanoseconds = usableCPUs >= Self.minimumCPUsToSpin ? MonotonicClock.nanoseconds(of: spinBudget) : 0
    }

    /// Replies posted so far.
    var posted: UInt64 { postedCount.load(ordering: .acquiring) }

    /// The words of the latest reply (read them after a wait returned true).
    var latest: (first: UInt64, second: Int) {
        (firstWord.load(ordering: .relaxed), secondWord.load(ordering: .relaxed))
    }

    /// Posts a reply (receiving thread): stores its words, counts it, wakes a sleeping waiter.
    func post(first: UInt64, second: Int) {
        firstWord.store(first, ordering: .relaxed)
        secondWord.store(second, ordering: .relaxed)
        postedCount.wrappingAdd(1, ordering: .sequentiallyConsistent)
        if sleeping.load(ordering: .sequentiallyConsistent) {
            condition.lock()
            condition.broadcast()
            condition.unlock()
        }
    }

    /// Waits until at least `target` replies were posted: spins up to ``spinNanoseconds``, then sleeps up to
    /// `slice`. Returns whether the target was reached (false: the slice passed first; call again to go on).
    func wait(untilPosted target: UInt64, slice: Duration) -> Bool {
        if posted >= target { return true }
        if spinNanoseconds > 0, spin(untilPosted: target) { return true }
        let deadline = Date(timeIntervalSinceNow: Double(MonotonicClock.nanoseconds(of: slice)) / 1e9)
        sleeping.store(true, ordering: .sequentiallyConsistent)
        condition.lock()
        var reached = postedCount.load(ordering: .sequentiallyConsistent) >= target
        while !reached {
            let signalled = condition.wait(until: deadline)
            reached = postedCount.load(ordering: .sequentiallyConsistent) >= target
            if !signalled { break }
        }
        condition.unlock()
        sleeping.store(false, ordering: .relaxed)
        return reached
    }

    /// Spins until `target` is reached (true) or the spin budget is used up (false).
    private func spin(untilPosted target: UInt64) -> Bool {
        let end = MonotonicClock.nanoseconds() &+ spinNanoseconds
        var iterations: UInt32 = 0
        while true {
            if postedCount.load(ordering: .acquiring) >= target { return true }
            iterations &+= 1
            if iterations % Self.yieldEvery == 0 {
                if MonotonicClock.nanoseconds() >= end { return false }
                sched_yield()
            }
        }
    }
}

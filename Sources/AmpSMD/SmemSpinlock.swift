// Emulation of the hardware spinlock (number 3 on Qualcomm SoCs) that serialises SMEM allocations between
// processors. A hardware mutex register holds 0 when free and the owner's id when taken; here the register is
// a 32-bit word in shared memory taken with compare-and-swap 0 -> owner and released by storing 0.
//
// The SMEM header stays byte-exact (the lock is not part of it): the caller places the lock word anywhere in
// the segment both processors map, outside the SMEM region, and hands it to both sides' `SmemHeap`.
// Like Linux's hwspin_lock_timeout_irqsave(..., 1000), taking the lock gives up after 1000 ms.

import AmpWire
import CAmpShim
import Glibc
import Synchronization

/// A cross-process spinlock on one 32-bit word of shared memory.
public struct SmemSpinlock: @unchecked Sendable {
    /// The lock word (0 = free, otherwise the owner's token).
    public let word: UnsafeMutableRawPointer
    /// The value this side writes while it holds the lock; never 0.
    public let owner: UInt32
    /// How long `lock()` keeps trying.
    public let timeout: Duration

    /// A lock on the 4-byte aligned word at `word`, taken with the token `owner`.
    ///
    /// - Throws: `SmdError.invalidArgument` when the word is unaligned or `owner` is 0.
    public init(
        word: UnsafeMutableRawPointer, owner: UInt32,
        timeout: Duration = .milliseconds(SmemLayout.spinlockTimeoutMilliseconds)
    ) throws(SmdError) {
        guard UInt(bitPattern: word) % 4 == 0, owner != 0 else {
            throw SmdError(.invalidArgument, field: "spinlock", "lock word at \(word) must be 4-byte aligned and the owner token not 0")
        }
        self.word = word
        self.owner = owner
        self.timeout = timeout
    }

    private var atomic: UnsafeMutablePointer<Atomic<UInt32>> { word.bindMemory(to: Atomic<UInt32>.self, capacity: 1) }

    /// One attempt: whether the lock was free and is now ours (acquire ordering on success).
    public func tryLock() -> Bool {
        atomic.pointee.compareExchange(expected: 0, desired: owner, ordering: .acquiringAndReleasing).exchanged
    }

    /// Takes the lock, spinning (and yielding the CPU now and then) for at most `timeout`.
    ///
    /// - Throws: `SmdError.lockTimeout` naming the current holder's token when the deadline passes.
    public func lock() throws(SmdError) {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        var spins = 0
        while !tryLock() {
            spins &+= 1
            if spins % 64 == 0 {
                if clock.now >= deadline {
                    let holder = atomic.pointee.load(ordering: .relaxed)
                    throw SmdError(
                        .lockTimeout, field: "spinlock",
                        "SMEM spinlock held by token \(holder) for more than \(timeout); giving up")
                }
                sched_yield()
            } else {
                amp_cpu_relax()
            }
        }
    }

    /// Releases the lock (release ordering: everything written while holding it is visible to the next owner).
    public func unlock() {
        atomic.pointee.store(0, ordering: .releasing)
    }

    /// Runs `body` holding the lock.
    public func withLock<T>(_ body: () throws(SmdError) -> T) throws(SmdError) -> T {
        try lock()
        defer { unlock() }
        return try body()
    }
}

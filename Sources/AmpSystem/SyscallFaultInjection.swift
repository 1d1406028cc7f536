import Synchronization

/// Test hook for the syscall layer, in the spirit of swift-system's mocking: a plan of errno values to return
/// from named calls instead of making them, so tests can prove the EINTR retry loops work.
///
/// Scoped per task: `try SyscallFaults.$plan.withValue(plan) { ... }` affects only the syscalls made
/// synchronously inside that closure (and child tasks), so tests running in parallel do not see each other's
/// faults. Call names are the `Sys` wrapper names (e.g. "read", "ppoll", "futex_wait", "epoll_wait").
final class SyscallFaultPlan: Sendable {
    private struct State {
        var queued: [String: [Int32]]
        var injected: [String: Int] = [:]
    }

    private let state: Mutex<State>

    /// `faults` maps a call name to the errno values to return from its next calls, in order.
    init(_ faults: [String: [Int32]]) {
        state = Mutex(State(queued: faults))
    }

    /// The next errno to inject for `call`, if any remain; counts the injection.
    func take(_ call: String) -> Int32? {
        state.withLock { state -> Int32? in
            guard var queue = state.queued[call], !queue.isEmpty else { return nil }
            let value = queue.removeFirst()
            state.queued[call] = queue
            state.injected[call, default: 0] += 1
            return value
        }
    }

    /// How many faults have been injected into `call` so far.
    func injectedCount(_ call: String) -> Int {
        state.withLock { $0.injected[call, default: 0] }
    }

    /// How many faults for `call` are still waiting to be injected.
    func remaining(_ call: String) -> Int {
        state.withLock { $0.queued[call]?.count ?? 0 }
    }
}

/// Where the syscall layer looks for an active ``SyscallFaultPlan``.
enum SyscallFaults {
    /// The plan for the current task; nil (no injection) outside `withValue`.
    @TaskLocal static var plan: SyscallFaultPlan?
}

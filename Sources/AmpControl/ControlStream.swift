import AmpJSON
import AmpSystem
import Glibc

/// What an operation may do while it runs on a client's thread: send stream items (``emit(_:)``), and see
/// whether to give up (``isCancelled``: the client hung up, or ``isStopping``: the server is stopping).
///
/// Long waits are cut into slices of ``slice`` so that a vanished client or a stopping server is noticed
/// within that time.
final class ControlStream: @unchecked Sendable {
    /// Longest single wait between cancellation checks.
    static let slice: Duration = .milliseconds(200)

    private let send: (JSONObject) throws(ControlError) -> Void
    private let clientGone: () -> Bool
    private let stopping: () -> Bool

    init(
        send: @escaping (JSONObject) throws(ControlError) -> Void, clientGone: @escaping () -> Bool,
        stopping: @escaping () -> Bool
    ) {
        self.send = send
        self.clientGone = clientGone
        self.stopping = stopping
    }

    /// Sends one stream item. Throws when the client is gone (the operation should end).
    func emit(_ event: JSONObject) throws(ControlError) {
        try send(event)
    }

    /// Whether the server is stopping (streams end with reason "shutdown", other requests are cancelled).
    var isStopping: Bool { stopping() }

    /// Whether the operation should end now.
    var isCancelled: Bool { stopping() || clientGone() }

    /// Throws ECANCELED when the operation should end.
    func checkCancelled() throws(ControlError) {
        if stopping() { throw ControlError(code: ECANCELED, "request cancelled: the instance is stopping") }
        if clientGone() { throw ControlError(code: ECANCELED, "request cancelled: the client went away") }
    }

    /// The shorter of ``slice`` and what is left until `deadline` (monotonic ns); nil once it passed.
    static func nextSlice(until deadline: UInt64) -> Duration? {
        let now = MonotonicClock.nanoseconds()
        guard now < deadline else { return nil }
        return min(slice, .nanoseconds(Int64(clamping: deadline - now)))
    }
}

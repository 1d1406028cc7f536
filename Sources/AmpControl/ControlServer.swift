import AmpSoC
import AmpSystem
import Foundation
import Synchronization

/// The control socket of a running instance: listens on `<runtime dir>/<name>.sock` (mode 0600) and serves
/// each client on a thread of its own (docs/control-protocol.md).
///
/// A client that stalls, vanishes mid-request, or sends garbage affects only its own thread: requests block
/// only the thread that makes them (``EmulatedSoC`` hands work to its main loop), waits are cut into short
/// slices that notice a hang-up, and replies to a client that stops reading are abandoned after
/// ``writeTimeout``.
///
/// Stopping is two-phase so that threads blocked in SoC calls can be woken by the SoC's shutdown:
/// ``beginStop()`` (stop accepting, tell clients to finish), then stop or close the SoC, then ``finish()``.
public final class ControlServer: Sendable {
    /// How long a reply may wait for a client that does not read before the client is dropped.
    public static let writeTimeout: Duration = .seconds(30)

    /// The control socket's path.
    public let socketPath: String
    private let listener: UnixSocket
    private let dispatcher: ControlDispatcher
    private let stopping = Atomic<Bool>(false)
    private let threads = DispatchGroup()
    private let sessions = Mutex<[ObjectIdentifier: ControlSession]>([:])

    /// Listens on `socketPath` for `soc` (a stale socket file of a dead instance is replaced). Call ``start()``.
    /// - Throws: ``ControlError`` naming the socket when it cannot be made (EADDRINUSE: something listens).
    public init(soc: EmulatedSoC, socketPath: String) throws(ControlError) {
        do {
            listener = try UnixSocket.listen(at: socketPath, kind: .stream, permissions: 0o600, backlog: 64)
        } catch {
            throw ControlError(error, doing: "control socket")
        }
        self.socketPath = socketPath
        dispatcher = ControlDispatcher(soc: soc, socketPath: socketPath)
    }

    /// Listens on the instance's socket (``InstanceLock/socketPath``).
    public convenience init(soc: EmulatedSoC, instance: InstanceLock) throws(ControlError) {
        try self.init(soc: soc, socketPath: instance.socketPath)
    }

    deinit {
        listener.close()
    }

    /// Starts accepting clients on a thread of its own.
    public func start() {
        threads.enter()
        let thread = Thread { [self] in
            acceptLoop()
            threads.leave()
        }
        thread.name = "ampsoc control accept"
        thread.start()
    }

    /// Whether ``beginStop()`` was called.
    var isStopping: Bool { stopping.load(ordering: .acquiring) }

    /// Clients being served now.
    public var clientCount: Int { sessions.withLock { $0.count } }

    private func acceptLoop() {
        while !isStopping {
            guard (try? listener.waitReadable(timeout: .milliseconds(100))) == true, !isStopping else { continue }
            guard let connection = try? listener.accept() else { continue }
            let session = ControlSession(connection: connection, dispatcher: dispatcher, server: self)
            let key = ObjectIdentifier(session)
            sessions.withLock { $0[key] = session }
            threads.enter()
            let thread = Thread { [self] in
                session.run()
                sessions.withLock { $0[key] = nil }
                threads.leave()
            }
            thread.name = "ampsoc control client"
            thread.start()
        }
    }

    /// Stops accepting, removes the socket file, and tells every client thread to finish (each ends its
    /// request within about 200 ms, or when the SoC call it is blocked in returns). Does not wait.
    public func beginStop() {
        guard !stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
        listener.removeSocketFile()
    }

    /// Waits up to `limit` for every thread to end, then closes what is left. Returns whether all ended.
    @discardableResult
    public func finish(limit: Duration = .seconds(5)) -> Bool {
        beginStop()
        let ended = threads.wait(timeout: .now() + .nanoseconds(Int(MonotonicClock.nanoseconds(of: limit)))) == .success
        listener.close()
        for session in sessions.withLock({ Array($0.values) }) { session.close() }
        return ended
    }

    /// ``beginStop()`` and ``finish(limit:)``.
    public func stop() {
        beginStop()
        finish()
    }
}

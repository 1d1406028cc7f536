import AmpProfiles
import AmpRemoteproc
import AmpRpmsg
import AmpSystem
import Foundation
import Glibc
import Synchronization

/// A running emulated SoC, driven from Swift: the API integration tests use, and what the control socket
/// serves.
///
/// ```swift
/// let soc = try EmulatedSoC.launch(profilePath: "soc-profiles/omap4.json")
/// defer { soc.shutdown() }
/// let echo = try soc.waitForChannel("rpmsg-echo", timeout: .seconds(5))
/// let reply = try soc.call(channel: echo.name, Array("ping".utf8), timeout: .seconds(2))
/// try soc.crash("ipu", .mmuFault)
/// try soc.waitForState("ipu", .running, timeout: .seconds(5))
/// ```
///
/// Threading: the host (``SoCHost``) lives on one thread, its main loop thread: ``launch(profilePath:options:)``
/// starts a thread of its own; `ampsoc run` builds the SoC with ``init(profile:options:sink:)`` and calls
/// ``run(until:signals:)`` and ``close()`` on its main thread. Every other method may be called from any
/// thread: requests are handed to the main loop and the caller waits for the answer. Waits never block the
/// main loop. Called from the main loop thread itself (an event callback), requests run inline.
public final class EmulatedSoC: @unchecked Sendable {
    /// The profile this SoC was built from.
    public let profile: SoCProfile
    /// The instance name.
    public let name: String
    /// Where endpoint sockets are made.
    public let socketDirectory: String

    let host: SoCHost
    let hub: SoCEventHub
    private let loopThread: pthread_t
    private let tasks = Mutex(TaskQueue())
    private let ownsSocketDirectory: Bool
    let endpoints = Mutex(EndpointTables())
    /// Signalled when a launched SoC's thread has finished (``shutdown()`` waits for it).
    private let finished = DispatchSemaphore(value: 0)
    private let launched: Bool
    private let closedFlag = ClosedFlag()

    struct TaskQueue {
        var items: [MainLoopTask] = []
        var closed = false
    }

    /// Builds the SoC on the calling thread, which becomes its main loop thread: firmware processes are
    /// spawned from it and die with it. Nothing boots yet: call ``bootAutomatically()`` or ``start(_:)``,
    /// then ``run(until:signals:)``, then ``close()``, all on this thread.
    ///
    /// - Throws: `SoCError` when the socket directory or the host's descriptors cannot be made.
    public convenience init(profile: SoCProfile, options: SoCOptions = SoCOptions(), sink: HostEventSink? = nil) throws(SoCError) {
        try self.init(profile: profile, options: options, sink: sink, launched: false)
    }

    private init(profile: SoCProfile, options: SoCOptions, sink: HostEventSink?, launched: Bool) throws(SoCError) {
        self.profile = profile
        self.launched = launched
        let environment = options.environment ?? ProcessInfo.processInfo.environment
        let hub = SoCEventHub(forward: sink, onEvent: options.onEvent)
        self.hub = hub
        let directory: String
        do {
            if let given = options.socketDirectory {
                try FileIO.makeDirectories(given, mode: 0o700)
                directory = given
                ownsSocketDirectory = false
            } else {
                directory = try Self.makePrivateDirectory(environment: environment)
                ownsSocketDirectory = true
            }
            let coredumps = options.coredumpDirectory
                ?? ((environment["TMPDIR"].map { $0 + "/" } ?? "/tmp/") + "ampsoc-coredumps")
            host = try SoCHost(
                profile: profile, instance: options.name, sink: hub, coredumpDirectory: coredumps,
                environment: environment, stopTimeout: options.stopTimeout)
        } catch {
            throw SoCError(error)
        }
        socketDirectory = directory
        name = host.instance
        host.rpmsgSendTimeout = options.rpmsgSendTimeout
        loopThread = pthread_self()
        installDrivers()
        for driver in options.drivers {
            do {
                try installDriver(driver)
            } catch {
                if ownsSocketDirectory { try? FileIO.removeDirectory(directory) }
                throw SoCError(error, context: "host driver \(driver.name)")
            }
        }
    }

    private static func makePrivateDirectory(environment: [String: String]) throws(SystemError) -> String {
        let base = environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        return try FileIO.makeTemporaryDirectory(in: base, prefix: "ampsoc-sockets.")
    }

    // MARK: Launching on a thread of its own

    /// Loads the profile at `profilePath`, builds the SoC on a new thread, boots the auto-boot processors
    /// (unless ``SoCOptions/bootAutomatically`` is false) and runs its main loop there until ``shutdown()``.
    ///
    /// Processors that fail to boot are reported as error events (see ``subscribeEvents()``) and in
    /// ``bootFailures``; the others run.
    /// - Throws: `SoCError` naming the profile file and field for a bad profile, or the failing system call.
    public static func launch(profilePath: String, options: SoCOptions = SoCOptions()) throws(SoCError) -> EmulatedSoC {
        let profile: SoCProfile
        do {
            profile = try ProfileDecoder.load(path: profilePath)
        } catch {
            throw SoCError(errno: EINVAL, error.description)
        }
        return try launch(profile: profile, options: options)
    }

    /// Builds and runs `profile` on a new thread (see ``launch(profilePath:options:)``).
    public static func launch(profile: SoCProfile, options: SoCOptions = SoCOptions()) throws(SoCError) -> EmulatedSoC {
        let handoff = LaunchHandoff()
        let thread = Thread {
            let soc: EmulatedSoC
            do throws(SoCError) {
                _ = try? StaleSegmentCleaner.clean(ownInstance: options.name ?? profile.name)
                soc = try EmulatedSoC(profile: profile, options: options, sink: nil, launched: true)
            } catch {
                handoff.fail(error)
                return
            }
            if options.bootAutomatically {
                soc.bootFailures = soc.host.bootAutomatically().map(SoCError.init)
            }
            handoff.succeed(soc)
            _ = try? soc.run()
            soc.close()
            soc.finished.signal()
        }
        thread.name = "ampsoc \(profile.name) host"
        thread.start()
        return try handoff.wait()
    }

    /// Processors that failed to boot at launch.
    public private(set) var bootFailures: [SoCError] = []

    /// Boots every auto-boot processor (main loop thread only; ``launch(profilePath:options:)`` does it).
    @discardableResult
    public func bootAutomatically() -> [SoCError] {
        host.bootAutomatically().map(SoCError.init)
    }

    /// Stops the main loop; for a launched SoC, also waits until every firmware process is stopped and every
    /// segment and socket removed. Idempotent; safe from any thread but the main loop thread of a launched SoC.
    public func shutdown() {
        host.requestStop()
        guard launched, !isLoopThread else { return }
        finished.wait()
        finished.signal()  // later shutdown() calls return at once
    }

    // MARK: The main loop

    /// Runs the main loop on the thread that built the SoC until `deadline` (monotonic ns), a signal on
    /// `signals`, or ``shutdown()``.
    @discardableResult
    public func run(until deadline: UInt64? = nil, signals: SignalFD? = nil) throws(SoCError) -> SoCHost.StopReason {
        do {
            return try host.run(until: deadline, signals: signals) { [self] in
                runPendingTasks()
            }
        } catch {
            throw SoCError(error)
        }
    }

    /// Stops every processor, closes every endpoint and socket, removes the shared memory; later requests
    /// fail with ENODEV. Main loop thread only; idempotent.
    public func close() {
        guard closedFlag.setOnce() else { return }
        let pending = tasks.withLock { queue in
            queue.closed = true
            defer { queue.items.removeAll() }
            return queue.items
        }
        for task in pending { task.run() }
        closeEndpoints()
        host.tearDown()
        uninstallDrivers()
        hub.close()
        if ownsSocketDirectory { try? FileIO.removeDirectory(socketDirectory) }
    }

    // MARK: Running requests on the main loop

    var isLoopThread: Bool { pthread_equal(pthread_self(), loopThread) != 0 }

    private func runPendingTasks() {
        let pending = tasks.withLock { queue in
            defer { queue.items.removeAll() }
            return queue.items
        }
        for task in pending { task.run() }
        sweepStandingEndpoints()
        sweepCreatedEndpoints()
    }

    /// Runs `body` with the host on the main loop thread and returns its result.
    /// - Throws: `body`'s error, or ENODEV when the SoC has shut down.
    func perform<T: Sendable>(_ body: @escaping (SoCHost) throws(SoCError) -> T) throws(SoCError) -> T {
        if isLoopThread {
            guard !closedFlag.isSet else { throw .noDevice("\(name): the SoC has shut down") }
            return try body(host)
        }
        let result = ResultBox<T>()
        let host = self.host
        let name = self.name
        let closedFlag = self.closedFlag
        let accepted = tasks.withLock { queue in
            guard !queue.closed else { return false }
            queue.items.append(MainLoopTask {
                if closedFlag.isSet {
                    result.set(.failure(.noDevice("\(name): the SoC has shut down")))
                    return
                }
                do throws(SoCError) {
                    result.set(.success(try body(host)))
                } catch {
                    result.set(.failure(error))
                }
            })
            return true
        }
        guard accepted else { throw .noDevice("\(name): the SoC has shut down") }
        host.wake()
        return try result.wait().get()
    }

    /// Waits until `check` returns a value (evaluated on the main loop), re-checking after every event.
    /// - Throws: ETIMEDOUT with `what` when `timeout` passes first; ENODEV when the SoC shuts down.
    func waitUntil<T: Sendable>(
        timeout: Duration, _ what: @autoclosure () -> String, _ check: @escaping (SoCHost) throws(SoCError) -> T?
    ) throws(SoCError) -> T {
        let deadline = MonotonicClock.deadline(after: timeout)
        while true {
            let seen = hub.currentGeneration
            if let value = try perform(check) { return value }
            if !hub.wait(after: seen, deadline: deadline) {
                if closedFlag.isSet { throw .noDevice("\(name): the SoC has shut down") }
                throw .timedOut("timed out after \(timeout) waiting for \(what())")
            }
        }
    }
}

/// Set once, when the SoC closes.
final class ClosedFlag: Sendable {
    private let value = Atomic<Bool>(false)

    var isSet: Bool { value.load(ordering: .acquiring) }

    /// Sets the flag; true for the call that set it.
    func setOnce() -> Bool { !value.exchange(true, ordering: .acquiringAndReleasing) }
}

/// A request waiting for the main loop. Built on the caller's thread, run once on the main loop thread,
/// never concurrently with its builder: what it captures is handed over, not shared.
struct MainLoopTask: @unchecked Sendable {
    let run: () -> Void
}

/// One result handed from the main loop to a waiting caller.
private final class ResultBox<T: Sendable>: @unchecked Sendable {
    private let semaphore = DispatchSemaphore(value: 0)
    private var value: Result<T, SoCError>?

    func set(_ result: Result<T, SoCError>) {
        value = result
        semaphore.signal()
    }

    func wait() -> Result<T, SoCError> {
        semaphore.wait()
        return value ?? .failure(.noDevice("no result"))
    }
}

/// The launched SoC (or the error building it), handed from its thread to ``EmulatedSoC/launch``.
private final class LaunchHandoff: @unchecked Sendable {
    private let semaphore = DispatchSemaphore(value: 0)
    private var result: Result<EmulatedSoC, SoCError>?

    func succeed(_ soc: EmulatedSoC) {
        result = .success(soc)
        semaphore.signal()
    }

    func fail(_ error: SoCError) {
        result = .failure(error)
        semaphore.signal()
    }

    func wait() throws(SoCError) -> EmulatedSoC {
        semaphore.wait()
        return try (result ?? .failure(.noDevice("the SoC thread ended without a result"))).get()
    }
}

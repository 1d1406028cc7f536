import AmpProfiles
import AmpRpmsg
import AmpSystem
import Glibc
import Synchronization

/// The host side of an emulated SoC: every remote processor of a profile, boot dependencies, and the main
/// loop that watches firmware processes (pidfds), crash reports, watchdogs and trace buffers, and reports
/// what the rpmsg links of every remote do (channels, driver output, drops, violations).
///
/// Threading: construct it, boot and run it on one thread (the "main loop thread"); firmware processes are
/// spawned from that thread, so it must live as long as they do (they die with it through PR_SET_PDEATHSIG).
/// ``requestStop()`` may be called from any thread.
public final class SoCHost {
    public let profile: SoCProfile
    public let instance: String
    public let remoteProcessors: [RemoteProcessor]
    let context: HostContext
    private let epoll: Epoll
    private let wakeFD: EventFD
    /// pidfds in the epoll set, with the pid each belongs to (a pidfd number can be reused by a later process).
    private var watchedProcessFDs: [Int32: pid_t] = [:]
    private let stopFlag = StopFlag()
    /// How often processors are polled (crash reports, watchdog, trace) while nothing else happens.
    public var tickInterval: Duration = .milliseconds(20)
    /// Host rpmsg drivers, shared by every virtio rpmsg link of every remote (Linux's rpmsg bus type).
    /// ``rpmsgClientSample`` is registered; register more before booting.
    public var rpmsgRegistry: RpmsgDriverRegistry { context.rpmsgRegistry }
    /// The host's rpmsg client sample driver (binds to "rpmsg-client-sample" channels).
    public let rpmsgClientSample = RpmsgClientSampleDriver()
    /// How long blocking rpmsg sends of links created from now on wait for a buffer (Linux: 15 s).
    public var rpmsgSendTimeout: Duration {
        get { context.rpmsgSendTimeout }
        set { context.rpmsgSendTimeout = newValue }
    }

    /// Why ``run(until:signals:)`` returned.
    public enum StopReason: Equatable, Sendable {
        case signal(Int32)
        case deadline
        case requested
    }

    public init(
        profile: SoCProfile, instance: String? = nil, sink: HostEventSink, coredumpDirectory: String,
        environment: [String: String], stopTimeout: Duration = .seconds(2)
    ) throws(SystemError) {
        self.profile = profile
        self.instance = SegmentNames.sanitize(instance ?? profile.name)
        let wakeFD = try EventFD()
        self.wakeFD = wakeFD
        let context = HostContext(
            instance: self.instance, profilePath: profile.sourcePath, environment: environment, sink: sink,
            coredumpDirectory: coredumpDirectory, stopTimeout: stopTimeout, wakeMainLoop: { try? wakeFD.signal() })
        self.context = context
        remoteProcessors = profile.remoteProcessors.map { RemoteProcessor(profile: $0, context: context) }
        epoll = try Epoll()
        try epoll.add(wakeFD.fileDescriptor, events: .readable)
        // A fresh registry has no drivers, so registering the first one cannot clash.
        try? context.rpmsgRegistry.register(rpmsgClientSample)
    }

    /// The remote processor named `name`.
    public func remoteProcessor(named name: String) -> RemoteProcessor? {
        remoteProcessors.first { $0.name == name }
    }

    private func processor(_ name: String) throws(RemoteprocError) -> RemoteProcessor {
        guard let rproc = remoteProcessor(named: name) else {
            throw RemoteprocError(rproc: name, code: .noDevice, message: "no such remote processor in profile \(profile.name)")
        }
        return rproc
    }

    // MARK: Boot and shutdown with dependencies

    /// Boots `name`, first booting (taking a reference on) each processor it must boot after.
    public func boot(_ name: String) throws(RemoteprocError) {
        let rproc = try processor(name)
        var booted = [RemoteProcessor]()
        for dependency in rproc.profile.bootAfter {
            do {
                try boot(dependency)
                booted.append(try processor(dependency))
            } catch {
                for done in booted.reversed() { try? shutdown(done.name) }
                throw RemoteprocError(
                    rproc: name, code: error.code,
                    message: "cannot boot: it boots after \(dependency), which failed: \(error.description)")
            }
        }
        do {
            try rproc.boot()
        } catch {
            for done in booted.reversed() { try? shutdown(done.name) }
            throw error
        }
    }

    /// Shuts `name` down, then drops the references it held on its dependencies.
    public func shutdown(_ name: String) throws(RemoteprocError) {
        let rproc = try processor(name)
        try rproc.shutdown()
        for dependency in rproc.profile.bootAfter.reversed() { try? shutdown(dependency) }
    }

    /// Boots every auto-boot processor in profile order (dependencies first). A processor that fails is
    /// reported as an error event and skipped; the others boot. Returns the failures.
    @discardableResult
    public func bootAutomatically() -> [RemoteprocError] {
        var failures = [RemoteprocError]()
        for rproc in remoteProcessors where rproc.profile.autoBoot && rproc.powerCount == 0 {
            do {
                try boot(rproc.name)
            } catch {
                failures.append(error)
                context.sink.emit(.error(rproc: rproc.name, message: error.message))
            }
        }
        return failures
    }

    /// Stops every processor (dependents before their dependencies) and releases all shared memory.
    public func tearDown() {
        for rproc in shutdownOrder() { rproc.tearDown() }
        context.drainRpmsgEvents()
    }

    /// Processors ordered so that each comes before the processors it boots after.
    func shutdownOrder() -> [RemoteProcessor] {
        var ordered = [RemoteProcessor]()
        var seen = Set<String>()
        func visit(_ rproc: RemoteProcessor) {
            guard seen.insert(rproc.name).inserted else { return }
            for dependency in rproc.profile.bootAfter {
                if let next = remoteProcessor(named: dependency) { visit(next) }
            }
            ordered.append(rproc)
        }
        remoteProcessors.forEach(visit)
        return ordered.reversed()
    }

    // MARK: Main loop

    /// Asks a running ``run(until:signals:)`` to return. Safe from any thread.
    public func requestStop() {
        stopFlag.set()
        try? wakeFD.signal()
    }

    /// Makes a running main loop go round once soon (its `onTick` runs), without stopping it. Safe from any thread.
    public func wake() {
        try? wakeFD.signal()
    }

    /// Runs the main loop until a signal arrives on `signals`, `deadline` (monotonic ns) passes, or
    /// ``requestStop()`` is called. Between events it polls each processor every ``tickInterval``.
    public func run(until deadline: UInt64? = nil, signals: SignalFD? = nil, onTick: (() -> Void)? = nil) throws(SystemError) -> StopReason {
        if let signals { try epoll.add(signals.fileDescriptor, events: .readable) }
        defer { if let signals { try? epoll.remove(signals.fileDescriptor) } }
        while true {
            syncProcessWatches()
            let now = MonotonicClock.nanoseconds()
            if let deadline, now >= deadline { return .deadline }
            var wait = MonotonicClock.nanoseconds(of: tickInterval)
            if let deadline { wait = min(wait, deadline - now) }
            let ready = try epoll.wait(timeout: .nanoseconds(Int64(wait)))
            for event in ready {
                if event.fd == wakeFD.fileDescriptor {
                    _ = try? wakeFD.drain()
                } else if let signals, event.fd == signals.fileDescriptor {
                    if let signal = try signals.readPending().first { return .signal(signal) }
                } else if let rproc = remoteProcessors.first(where: { $0.processFD == event.fd }) {
                    rproc.processExited()
                }
            }
            context.drainRpmsgEvents()
            if stopFlag.isSet { return .requested }
            let tick = MonotonicClock.nanoseconds()
            for rproc in remoteProcessors { rproc.poll(now: tick) }
            context.drainRpmsgEvents()
            onTick?()
        }
    }

    /// Keeps the epoll set equal to the current firmware processes' pidfds.
    private func syncProcessWatches() {
        var current = [Int32: pid_t]()
        for rproc in remoteProcessors {
            if let fd = rproc.processFD, let pid = rproc.pid { current[fd] = pid }
        }
        guard current != watchedProcessFDs else { return }
        for (fd, pid) in watchedProcessFDs where current[fd] != pid { try? epoll.remove(fd) }
        for (fd, pid) in current where watchedProcessFDs[fd] != pid {
            try? epoll.remove(fd)  // a closed descriptor's stale registration, if the number was reused
            try? epoll.add(fd, events: .readable)
        }
        watchedProcessFDs = current
    }
}

/// A flag set from any thread and read by the main loop.
private final class StopFlag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .releasing) }
    var isSet: Bool { value.load(ordering: .acquiring) }
}

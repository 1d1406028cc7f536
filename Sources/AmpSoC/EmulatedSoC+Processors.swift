import AmpProfiles
import AmpRemoteproc
import AmpRpmsgSMD
import AmpWire
import Glibc

// Remote processors: status, the lifecycle requests of Linux's sysfs/debugfs files, and live views of their
// memory (trace buffers, the loaded resource table, vrings).
extension EmulatedSoC {
    /// Every remote processor of the profile, in profile order.
    public func processors() throws(SoCError) -> [ProcessorStatus] {
        try perform { host in host.remoteProcessors.map(Self.status) }
    }

    /// The remote processor called `rproc`.
    /// - Throws: ENODEV naming it when the profile has no such processor.
    public func processor(_ rproc: String) throws(SoCError) -> ProcessorStatus {
        try onProcessor(rproc) { Self.status($0) }
    }

    static func status(_ rproc: RemoteProcessor) -> ProcessorStatus {
        ProcessorStatus(
            name: rproc.name, state: rproc.state, firmware: rproc.firmware, crashCount: rproc.crashCount,
            powerCount: rproc.powerCount, pid: rproc.pid, recoveryEnabled: rproc.recoveryEnabled,
            coredump: rproc.coredumpMode, links: rproc.rpmsgLinks.map(\.name) + (rproc.smdLink.map { [$0.name] } ?? []))
    }

    /// The processor called `name` (main loop thread). ENODEV naming it, the SoC and the processors it does
    /// have when the profile has none.
    static func processor(_ name: String, in host: SoCHost) throws(SoCError) -> RemoteProcessor {
        guard let processor = host.remoteProcessor(named: name) else {
            let known = host.remoteProcessors.map(\.name).joined(separator: ", ")
            throw SoCError(errno: ENODEV, "\(name): no such remote processor in \(host.instance) (known: \(known))")
        }
        return processor
    }

    /// Runs `body` on the main loop with the processor called `name`.
    func onProcessor<T: Sendable>(
        _ name: String, _ body: @escaping (RemoteProcessor) throws(SoCError) -> T
    ) throws(SoCError) -> T {
        try perform { host throws(SoCError) in try body(Self.processor(name, in: host)) }
    }

    // MARK: Lifecycle (Linux's sysfs `state`, `firmware`, `recovery`, `coredump`; debugfs `crash`)

    /// Boots `rproc` (taking a power reference, first booting the processors it boots after), as writing
    /// "start" to sysfs `state`. EBUSY when it is already running (as Linux).
    public func start(_ rproc: String) throws(SoCError) {
        try perform { host throws(SoCError) in
            let processor = try Self.processor(rproc, in: host)
            guard processor.state == .offline else {
                throw SoCError(errno: EBUSY, "\(rproc): cannot start: processor is \(processor.state)")
            }
            do throws(RemoteprocError) {
                try host.boot(rproc)
            } catch {
                throw SoCError(error)
            }
        }
    }

    /// Stops `rproc` (drops the power reference ``start(_:)`` took), as writing "stop" to sysfs `state`.
    /// EINVAL when it is not running or crashed.
    public func stop(_ rproc: String) throws(SoCError) {
        try perform { host throws(SoCError) in
            let processor = try Self.processor(rproc, in: host)
            guard processor.powerCount > 0, processor.state != .offline else {
                throw SoCError(errno: EINVAL, "\(rproc): cannot stop: processor is \(processor.state)")
            }
            do throws(RemoteprocError) {
                try host.shutdown(rproc)
            } catch {
                throw SoCError(error)
            }
        }
    }

    /// Recovers a crashed `rproc` now (debugfs `recovery` "recover"); EINVAL unless it is crashed.
    public func recover(_ rproc: String) throws(SoCError) {
        try onProcessor(rproc) { processor throws(SoCError) in
            guard processor.state == .crashed else {
                throw SoCError(errno: EINVAL, "\(rproc): cannot recover: processor is \(processor.state), not crashed")
            }
            processor.recover()
        }
    }

    /// Sets the firmware `rproc` boots next time (sysfs `firmware`); EBUSY unless offline.
    public func setFirmware(_ rproc: String, path: String) throws(SoCError) {
        try onProcessor(rproc) { processor throws(SoCError) in
            do throws(RemoteprocError) {
                try processor.setFirmware(path)
            } catch {
                throw SoCError(error)
            }
        }
    }

    /// Crashes a running `rproc` as debugfs `crash` does (the host treats it as that kind of crash).
    public func crash(_ rproc: String, _ kind: ControlBlock.CrashType) throws(SoCError) {
        try onProcessor(rproc) { processor throws(SoCError) in
            do throws(RemoteprocError) {
                try processor.injectCrash(kind)
            } catch {
                throw SoCError(error)
            }
        }
    }

    /// Enables or disables automatic recovery of `rproc` (debugfs `recovery`).
    public func setRecovery(_ rproc: String, enabled: Bool) throws(SoCError) {
        try onProcessor(rproc) { $0.recoveryEnabled = enabled }
    }

    /// Sets `rproc`'s coredump mode (sysfs `coredump`).
    public func setCoredump(_ rproc: String, _ mode: CoredumpMode) throws(SoCError) {
        try onProcessor(rproc) { $0.coredumpMode = mode }
    }

    // MARK: Live views

    /// What `rproc`'s trace buffers hold now, buffers separated by nothing (each ends with its own newline).
    /// ENODEV when it has no loaded image.
    public func trace(_ rproc: String) throws(SoCError) -> String {
        try onProcessor(rproc) { processor throws(SoCError) in
            guard processor.state != .offline else {
                throw SoCError(errno: ENODEV, "\(rproc): no trace buffers: processor is offline")
            }
            return processor.traceBufferTexts().joined()
        }
    }

    /// The resource table as it is in `rproc`'s memory now (debugfs `resource_table`).
    public func resourceTable(_ rproc: String) throws(SoCError) -> ResourceTable {
        try onProcessor(rproc) { processor throws(SoCError) in
            do throws(RemoteprocError) {
                return try processor.loadedResourceTable()
            } catch {
                throw SoCError(error)
            }
        }
    }

    /// The vrings of `rproc`'s rpmsg devices with their live indices; ENODEV when it has none.
    public func vrings(_ rproc: String) throws(SoCError) -> [VringStatus] {
        try onProcessor(rproc) { processor throws(SoCError) in
            guard processor.state != .offline else {
                throw SoCError(errno: ENODEV, "\(rproc): no vrings: processor is offline")
            }
            return processor.vringStatuses()
        }
    }

    /// The channels of `rproc`'s SMD edge with their FIFO indices (empty for a virtio remote); ENODEV offline.
    public func smdChannels(_ rproc: String) throws(SoCError) -> [SmdRpmsgChannelStatus] {
        try onProcessor(rproc) { processor throws(SoCError) in
            guard processor.state != .offline else {
                throw SoCError(errno: ENODEV, "\(rproc): no SMD edge: processor is offline")
            }
            return processor.smdLink?.channelStatus ?? []
        }
    }

    // MARK: Waiting

    /// Waits until `rproc` is in `state`.
    /// - Throws: ETIMEDOUT naming the processor, the state wanted and the state it is in; ENODEV for an
    ///   unknown processor.
    public func waitForState(_ rproc: String, _ state: RemoteprocState, timeout: Duration) throws(SoCError) {
        let last = LastSeen<RemoteprocState>()
        do {
            _ = try waitUntil(timeout: timeout, "\(rproc) to be \(state)") { host throws(SoCError) -> Bool? in
                let processor = try Self.processor(rproc, in: host)
                last.value = processor.state
                return processor.state == state ? true : nil
            }
        } catch where error.errno == ETIMEDOUT {
            throw SoCError(errno: ETIMEDOUT, "\(error.message) (it is \(last.value.map { "\($0)" } ?? "unknown"))")
        }
    }
}

/// The last value a wait saw, for its timeout message.
final class LastSeen<T: Sendable>: @unchecked Sendable {
    var value: T?
}

import AmpSystem
import AmpWire
import Glibc

/// One remote processor's runtime, attached to the shared memory its host prepared: the firmware's handle
/// to the control block, its memory regions and resource table, its doorbells, trace buffer and message loop.
///
/// Firmware normally uses ``run(_:)``, which attaches, waits for the host's release, marks the core running,
/// runs the firmware's setup and then the ``loop`` until the host stops it. Everything here runs on one thread.
///
/// Attaching (``attach()``): parse the `AMPSOC_*` environment; die with the host (`PR_SET_PDEATHSIG`, see
/// AmpSystem's `ParentDeath`); map the segment; validate the control block, regions, loaded resource table
/// and trace records (``AttachLayout``); build the to-remote doorbell (this side waits) and the to-host
/// doorbell (this side rings), over futexes or the inherited eventfds; start the heartbeat (incremented once
/// at attach and then every `heartbeatPeriodMs`, when non-zero); set `remoteState = attached`.
public final class RemoteCore {
    /// What the host passed in the environment.
    public let environment: RemoteEnvironment
    /// The mapped shared-memory segment (control page and regions).
    public let segment: SharedMemorySegment
    /// The validated control-block facts.
    public let layout: AttachLayout
    /// The scheduler firmware registers its timers, tasks and handlers with.
    public let loop: MessageLoop
    let control: ControlBlockView
    let toRemote: Doorbell
    let toHost: Doorbell
    let addressMap: AddressMap
    let traceLog: TraceLog
    /// The virtio rpmsg device, created on first use (see RpmsgCoreAccess.swift).
    var rpmsgDevice: RpmsgRemoteDevice?

    /// The remote processor's name (`AMPSOC_RPROC`).
    public var rprocName: String { environment.rprocName }
    /// The memory regions of this remote, as the host published them.
    public var regions: [MemoryRegionRecord] { layout.regions }
    /// The loaded resource table (as it was when attaching), or nil if the host published none.
    public var resourceTable: ResourceTable? { layout.loadedTable?.table }

    private init(environment: RemoteEnvironment, segment: SharedMemorySegment, layout: AttachLayout) throws(SystemError) {
        self.environment = environment
        self.segment = segment
        self.layout = layout
        control = try ControlBlockView(segment: segment)
        switch environment.doorbell {
        case .futex:
            toRemote = try Doorbell(segment: segment, mailboxOffset: ControlBlock.mailboxToRemoteOffset, kind: .futex)
            toHost = try Doorbell(segment: segment, mailboxOffset: ControlBlock.mailboxToHostOffset, kind: .futex)
        case .eventfd(let toRemoteFD, let toHostFD):
            toRemote = try Doorbell(
                segment: segment, mailboxOffset: ControlBlock.mailboxToRemoteOffset, kind: .eventfd(try EventFD(adopting: toRemoteFD)))
            toHost = try Doorbell(
                segment: segment, mailboxOffset: ControlBlock.mailboxToHostOffset, kind: .eventfd(try EventFD(adopting: toHostFD)))
        }
        addressMap = AddressMap(base: segment.base, regions: layout.regions)
        traceLog = try Self.makeTraceLog(layout: layout, control: control, map: addressMap)
        let control = self.control
        loop = MessageLoop(doorbell: toRemote, stopRequested: { control.isStopRequested })
    }

    /// The log for trace buffer 0: the first trace entry of the loaded table, at the `da`/`len` the host
    /// published in `traces[0]` (or, if it published none, those of the table entry when they translate).
    private static func makeTraceLog(layout: AttachLayout, control: ControlBlockView, map: AddressMap) throws(SystemError) -> TraceLog {
        let hasTraceEntry = layout.loadedTable?.table.entries.contains {
            if case .trace = $0.resource { return true } else { return false }
        } ?? false
        guard hasTraceEntry else { return TraceLog() }
        var place: (da: UInt32, len: UInt32)?
        if let published = layout.traceBuffers.first(where: { $0.index == 0 }) {
            place = (published.da, published.len)
        } else if let entry = layout.loadedTable?.table.entries.lazy.compactMap({ entry -> Resource.Trace? in
            if case .trace(let trace) = entry.resource { return trace } else { return nil }
        }).first {
            place = (entry.da, entry.len)
        }
        guard let place, place.len > 0, let pointer = map.translate(da: place.da, count: Int(place.len)) else {
            RemoteConsole.note("trace: trace buffer 0 is not inside the memory regions; trace output is discarded")
            return TraceLog()
        }
        return TraceLog(buffer: UnsafeMutableRawBufferPointer(start: pointer, count: Int(place.len)), written: try control.traceWritten(0))
    }

    // MARK: Attaching

    /// Attaches using this process's environment. On any failure prints one line naming the problem on stderr
    /// and exits with the status of ``RemoteAttachError/exitCode`` (see ``RemoteExitCode``); never traps.
    public static func attach() -> RemoteCore {
        do {
            return try attach(environment: RemoteEnvironment.processVariables())
        } catch {
            RemoteConsole.note("cannot attach: \(error)")
            exit(error.exitCode)
        }
    }

    /// Attaches using the variables in `environment` (see ``attach()``); throws instead of exiting.
    /// This installs the parent-death signal: if the parent is not `AMPSOC_HOST_PID`, the process is killed.
    public static func attach(environment variables: [String: String]) throws(RemoteAttachError) -> RemoteCore {
        let environment = try RemoteEnvironment.parse(variables)
        RemoteConsole.rprocName.withLock { $0 = environment.rprocName }
        do {
            try ParentDeath.install(expectedParent: environment.hostPID)
            if case .eventfd(let toRemote, let toHost) = environment.doorbell {
                try checkIsEventFD(toRemote)
                try checkIsEventFD(toHost)
            }
            let segment = try SharedMemorySegment.open(name: environment.segmentName)
            let layout = try AttachLayout.read(
                from: segment, expectedGeneration: environment.generation, expectedHostPID: environment.hostPID)
            let core = try RemoteCore(environment: environment, segment: segment, layout: layout)
            core.startHeartbeat()
            core.control.setRemoteState(.attached)
            return core
        } catch let error as RemoteAttachError {
            throw error
        } catch let error as SystemError {
            throw RemoteAttachError(error)
        } catch {
            throw RemoteAttachError(kind: .system, subject: "attach", reason: "\(error)")
        }
    }

    /// Throws an `.environment` error unless descriptor `fd` is an open eventfd (`/proc/self/fd/<fd>`).
    private static func checkIsEventFD(_ fd: Int32) throws(RemoteAttachError) {
        var target = [CChar](repeating: 0, count: 256)
        let length = readlink("/proc/self/fd/\(fd)", &target, target.count - 1)
        guard length > 0 else {
            throw RemoteAttachError(kind: .environment, subject: RemoteEnvironmentKeys.doorbell, reason: "descriptor \(fd) is not open in this process")
        }
        let text = String(decoding: target[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard text == "anon_inode:[eventfd]" else {
            throw RemoteAttachError(kind: .environment, subject: RemoteEnvironmentKeys.doorbell, reason: "descriptor \(fd) is not an eventfd (it is \(text))")
        }
    }

    /// Increments `heartbeat` now and then every `heartbeatPeriodMs` from the loop (nothing when 0).
    private func startHeartbeat() {
        let period = layout.heartbeatPeriodMs
        guard period > 0 else { return }
        let heartbeat = control.heartbeat
        heartbeat.increment()
        loop.every(.milliseconds(Int64(period)), essential: true) { heartbeat.increment() }
    }

    // MARK: Doorbells and state

    /// Rings the host's doorbell with `notifyID` (a vring's notify id, or ``ControlBlock/controlNotifyID``).
    /// A failing wake-up is reported as a fatal error.
    public func notifyHost(_ notifyID: UInt32) {
        do {
            try toHost.ring(notifyID: notifyID)
        } catch {
            fatal("cannot ring the host's doorbell: \(error)")
        }
    }

    /// The state the runtime last published.
    public var remoteState: ControlBlock.RemoteState? {
        ControlBlock.RemoteState(rawValue: control.remoteState.load(ordering: .acquiring))
    }

    // MARK: Addresses

    /// A pointer to `count` bytes at device address `da`, or nil unless they all lie inside one memory region.
    public func translate(da: UInt32, count: Int) -> UnsafeMutableRawPointer? {
        addressMap.translate(da: da, count: count)
    }

    /// The `count` bytes at device address `da`. An address outside every region is an invalid access, as an
    /// IOMMU fault on hardware: the runtime reports an mmufault crash (`faultAddress = da`) and halts.
    public func memory(da: UInt32, count: Int) -> UnsafeMutableRawBufferPointer {
        guard let pointer = addressMap.translate(da: da, count: count) else {
            mmuFault(da: da, count: count)
        }
        return UnsafeMutableRawBufferPointer(start: pointer, count: count)
    }

    // MARK: Trace

    /// Appends `text` and a newline to trace buffer 0 (the host shows it as trace0). Without a trace entry in
    /// the resource table this does nothing (noted once on stderr).
    public func trace(_ text: String) {
        traceLog.append(text)
    }

    /// Whether ``trace(_:)`` has a buffer to write to.
    public var hasTraceBuffer: Bool { traceLog.isAvailable }
}

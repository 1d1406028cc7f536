import AmpProfiles
import AmpSystem
import AmpWire
import Glibc

/// One boot of a remote processor: its shared-memory segment with the loaded firmware, its doorbells, its
/// firmware process and its virtio rpmsg devices. Created by ``RemoteProcessor`` at start, released at stop; a
/// recovery makes a new one.
///
/// Order (as Linux's rproc_start / rproc_stop): spawn, then the rpmsg devices (the remote waits for DRIVER_OK);
/// on every way down (orderly stop, halt, release) the rpmsg devices go first (channels destroyed, drivers'
/// remove runs), then the process is stopped or killed, then the segment is unlinked.
final class RemoteSession {
    let rproc: String
    let segment: SharedMemorySegment
    let memoryMap: RemoteMemoryMap
    let allocation: ResourceAllocation
    let firmware: FirmwareImage
    let process: ChildProcess
    /// Host-to-remote doorbell (the host rings it).
    let toRemote: Doorbell
    /// Remote-to-host doorbell (the rpmsg service thread waits on it).
    let toHost: Doorbell
    /// The rpmsg subdevice: the virtio rpmsg devices (one link per rpmsg vdev) or the SMD edge.
    let rpmsg: any RpmsgSubdevice
    /// Eventfds passed to the firmware process (eventfd doorbells only).
    private let eventFDs: [EventFD]
    /// Warnings from loading (skipped resources, segments outside the memory map).
    let warnings: [String]

    private var lastHeartbeat: UInt64 = 0
    private var lastHeartbeatChange: UInt64
    private var traceReaders: [TraceReader]
    private var partialTraceLines: [String]

    private init(
        rproc: String, segment: SharedMemorySegment, memoryMap: RemoteMemoryMap, allocation: ResourceAllocation,
        firmware: FirmwareImage, process: ChildProcess, toRemote: Doorbell, toHost: Doorbell, rpmsg: any RpmsgSubdevice,
        eventFDs: [EventFD], warnings: [String]
    ) {
        self.rproc = rproc
        self.segment = segment
        self.memoryMap = memoryMap
        self.allocation = allocation
        self.firmware = firmware
        self.process = process
        self.toRemote = toRemote
        self.toHost = toHost
        self.rpmsg = rpmsg
        self.eventFDs = eventFDs
        self.warnings = warnings
        self.lastHeartbeatChange = MonotonicClock.nanoseconds()
        self.traceReaders = allocation.traces.map { TraceReader(trace: $0) }
        self.partialTraceLines = Array(repeating: "", count: allocation.traces.count)
    }

    /// Allocates resources, builds the segment, loads the firmware and spawns its process.
    static func start(
        profile: RemoteProcessorProfile, firmware: FirmwareImage, generation: UInt32, context: HostContext
    ) throws(RemoteprocError) -> RemoteSession {
        let rproc = profile.name
        let memoryMap = try RemoteMemoryMap(regions: profile.memory, rproc: rproc)
        let allocation = try ResourceHandler.handle(
            firmware: firmware, memoryMap: memoryMap, rproc: rproc, bufferSize: Int(profile.rpmsgBufferSize))
        func system<T>(_ body: () throws(SystemError) -> T) throws(RemoteprocError) -> T {
            do { return try body() } catch { throw RemoteprocError(rproc: rproc, system: error) }
        }
        let segment = try system { () throws(SystemError) in
            let name = try SegmentNames.make(instance: context.instance, rproc: rproc)
            return try SharedMemorySegment.create(name: name.path, size: memoryMap.segmentSize)
        }
        let heartbeatPeriod = profile.watchdogTimeoutMs == 0 ? 0 : max(10, profile.watchdogTimeoutMs / 4)
        let loadWarnings = try SegmentImage.build(
            segment: segment, memoryMap: memoryMap, firmware: firmware, allocation: allocation,
            generation: generation, hostPid: UInt32(getpid()), bufferSize: profile.rpmsgBufferSize,
            heartbeatPeriodMs: heartbeatPeriod, rproc: rproc,
            transport: profile.rpmsgTransport == .smd ? .smd : .virtio, smdEdge: profile.smdEdge ?? 0)
        if profile.rpmsgTransport == .smd {
            try SmdRpmsgSubdevice.prepare(segment: segment, memoryMap: memoryMap, rproc: rproc)
        }

        var eventFDs = [EventFD]()
        let kind: Doorbell.Kind
        let toHostKind: Doorbell.Kind
        var doorbellVariable = "futex"
        var inherit = [(from: Int32, to: Int32)]()
        switch profile.doorbell {
        case .futex:
            kind = .futex
            toHostKind = .futex
        case .eventfd:
            let (toRemoteFD, toHostFD) = try system { () throws(SystemError) in (try EventFD(), try EventFD()) }
            eventFDs = [toRemoteFD, toHostFD]
            kind = .eventfd(toRemoteFD)
            toHostKind = .eventfd(toHostFD)
            inherit = [(toRemoteFD.fileDescriptor, 3), (toHostFD.fileDescriptor, 4)]
            doorbellVariable = "eventfd:3,4"
        }
        let (toRemote, toHost) = try system { () throws(SystemError) in
            (
                try Doorbell(segment: segment, mailboxOffset: ControlBlock.mailboxToRemoteOffset, kind: kind),
                try Doorbell(segment: segment, mailboxOffset: ControlBlock.mailboxToHostOffset, kind: toHostKind)
            )
        }
        try system { () throws(SystemError) in
            try segment.atomicWord(at: ControlBlock.hostStateOffset).store(ControlBlock.HostState.released.rawValue)
        }

        var environment = context.environment
        environment["AMPSOC_SEGMENT"] = segment.name
        environment["AMPSOC_RPROC"] = rproc
        environment["AMPSOC_HOST_PID"] = String(getpid())
        environment["AMPSOC_GENERATION"] = String(generation)
        environment["AMPSOC_DOORBELL"] = doorbellVariable
        let process = try system { () throws(SystemError) in
            try ChildProcess.spawn(
                executable: firmware.path, arguments: profile.firmwareArguments, environment: environment,
                inheritFDs: inherit)
        }
        let rpmsg: any RpmsgSubdevice
        do throws(RemoteprocError) {
            switch profile.rpmsgTransport {
            case .virtio:
                rpmsg = try VirtioRpmsgSubdevice.start(
                    rproc: rproc, allocation: allocation, segment: segment, toRemote: toRemote, toHost: toHost,
                    context: context)
            case .smd:
                rpmsg = try SmdRpmsgSubdevice.start(
                    profile: profile, memoryMap: memoryMap, segment: segment, toRemote: toRemote, toHost: toHost,
                    context: context, vdevCount: allocation.vdevs.count)
            }
        } catch {
            _ = try? process.signal(SIGKILL)
            _ = try? process.waitForExit(timeout: .seconds(5))
            try? segment.unlink()
            throw error
        }
        return RemoteSession(
            rproc: rproc, segment: segment, memoryMap: memoryMap, allocation: allocation, firmware: firmware,
            process: process, toRemote: toRemote, toHost: toHost, rpmsg: rpmsg, eventFDs: eventFDs,
            warnings: allocation.warnings + loadWarnings + rpmsg.warnings)
    }

    // MARK: Stopping

    /// Stops the process, after taking the rpmsg devices down. Orderly: ask through the control block and wait
    /// up to `timeout`, then SIGTERM and, after a second, SIGKILL. Not orderly: SIGKILL at once. Always reaps.
    func stop(orderly: Bool, timeout: Duration) {
        rpmsg.stop()
        if orderly, reap() == nil {
            if let host = try? segment.atomicWord(at: ControlBlock.hostStateOffset),
                let request = try? segment.atomicWord(at: ControlBlock.stopRequestOffset)
            {
                host.store(ControlBlock.HostState.stopping.rawValue)
                request.store(1)
                try? toRemote.wake()
            }
            if let status = try? process.waitForExit(timeout: timeout) {
                exitStatus = status
                return
            }
            exitStatus = try? process.terminate(grace: .seconds(1))
        } else {
            halt()
        }
    }

    /// Takes the rpmsg devices down, then kills the process at once (the core halts) and reaps it.
    func halt() {
        rpmsg.stop()
        _ = try? process.signal(SIGKILL)
        if let status = try? process.waitForExit(timeout: .seconds(5)) { exitStatus = status }
    }

    /// How the process ended, once it has been reaped.
    private(set) var exitStatus: ChildProcess.ExitStatus?

    /// The exit status once the process has exited (reaping it), nil while it runs.
    func reap() -> ChildProcess.ExitStatus? {
        if exitStatus == nil, let status = try? process.exitStatus { exitStatus = status }
        return exitStatus
    }

    /// Releases everything: the rpmsg devices, the process (killed if still alive), the segment name and mapping.
    func release() {
        rpmsg.stop()
        if reap() == nil { halt() }
        try? segment.unlink()
    }

    // MARK: Monitoring

    /// A crash the firmware reported in the control block, consumed (cleared) by this call.
    func takeCrashReport() -> (type: String, detail: String)? {
        guard let flag = try? segment.atomicWord(at: ControlBlock.crashReportedOffset),
            flag.load(ordering: .acquiring) == 1,
            let record = try? segment.read(at: 0, count: ControlBlock.size)
        else { return nil }
        flag.store(0)
        let reader = ByteReader(record, order: .host)
        let typeValue = (try? reader.u32(at: ControlBlock.crashTypeOffset, field: "crashType")) ?? UInt32.max
        let address = (try? reader.u64(at: ControlBlock.faultAddressOffset, field: "faultAddress")) ?? 0
        let message = (try? reader.cString(
            at: ControlBlock.crashMessageOffset, capacity: ControlBlock.crashMessageCapacity, field: "crashMessage")) ?? ""
        guard let type = ControlBlock.CrashType(rawValue: typeValue) else {
            return ("fatal error", "remote reported an unknown crash type \(typeValue): \(message)")
        }
        switch type {
        case .mmuFault:
            return (type.name, "invalid access at device address 0x\(String(address, radix: 16))"
                + (message.isEmpty ? "" : ": \(message)"))
        case .watchdog, .fatalError:
            return (type.name, message.isEmpty ? "reported by the firmware" : message)
        }
    }

    /// Whether the heartbeat has not advanced for `timeoutMs` (measured from boot for the first beat).
    func heartbeatStalled(now: UInt64, timeoutMs: UInt32) -> Bool {
        guard let word = try? SharedAtomicWord64(segment: segment, offset: ControlBlock.heartbeatOffset) else { return true }
        let value = word.load()
        if value != lastHeartbeat {
            lastHeartbeat = value
            lastHeartbeatChange = now
            return false
        }
        return now &- lastHeartbeatChange > UInt64(timeoutMs) * 1_000_000
    }

    /// Complete lines written to the trace buffers since the last call.
    func readTraceLines() -> [String] {
        var lines = [String]()
        for index in traceReaders.indices {
            guard let chunk = try? traceReaders[index].readNew(from: segment) else { continue }
            var text = partialTraceLines[index] + chunk
            while let newline = text.firstIndex(of: "\n") {
                lines.append(String(text[..<newline]))
                text = String(text[text.index(after: newline)...])
            }
            partialTraceLines[index] = text
        }
        return lines
    }

    /// Everything left in the trace buffers when the remote is gone: new complete lines, then each buffer's
    /// unterminated last line (so text written just before a stop or a crash is not lost).
    func drainTraceLines() -> [String] {
        var lines = readTraceLines()
        for index in partialTraceLines.indices where !partialTraceLines[index].isEmpty {
            lines.append(partialTraceLines[index])
            partialTraceLines[index] = ""
        }
        return lines
    }

    /// The text each trace buffer holds now (at most its length, oldest first), buffers in table order.
    func traceBufferTexts() -> [String] {
        traceReaders.map { (try? $0.recentText(from: segment)) ?? "" }
    }

    /// Writes an ELF core file of the remote's memory regions.
    func writeCoredump(crashCount: Int, directory: String) throws(RemoteprocError) -> String {
        try CoredumpWriter.write(
            segment: segment, memoryMap: memoryMap, firmware: firmware, rproc: rproc, crashCount: crashCount,
            directory: directory)
    }
}

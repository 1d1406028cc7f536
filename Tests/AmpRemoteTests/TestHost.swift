import AmpSystem
import AmpTestSupport
import AmpWire
import Glibc
import Testing

/// Plays the host's part of docs/shared-memory.md for one remote processor, so the runtime can be tested
/// without the remoteproc core: a segment with a control block, two memory regions, a loaded resource
/// table and a trace record; doorbells; and the firmware process spawned with the AMPSOC_* environment.
final class TestHost {
    /// Region 0: the omap4-like carveout region, 1 MiB at da 0x9F000000.
    static let ipcRegion = MemoryRegionRecord(
        da: 0x9F00_0000, pa: 0x9F00_0000, size: 0x10_0000, kind: .carveout, segmentOffset: 0x1000, name: "ipc")
    /// Region 1: 64 KiB at da 0x80000000.
    static let ddrRegion = MemoryRegionRecord(
        da: 0x8000_0000, pa: 0x8000_0000, size: 0x1_0000, kind: .carveout, segmentOffset: 0x10_1000, name: "ddr")
    static let segmentSize = 0x11_1000
    /// Where the host put the loaded resource table (inside the ipc region).
    static let tableDeviceAddress: UInt32 = 0x9F0F_0000
    static let tableSegmentOffset = 0x1000 + 0xF_0000
    static let traceDeviceAddress: UInt32 = 0x9F00_0000
    static let rprocName = "dsp0"
    static let generation: UInt32 = 5

    let segment: SharedMemorySegment
    let table: ResourceTable
    let traceLength: UInt32

    /// Creates the segment and writes the control block: magic, version, sizes, `generation` 5, `hostState`,
    /// `hostPid` (this process), `bufferSize` 512, `heartbeatPeriodMs`, both regions, the loaded table (a
    /// carveout, a trace of `traceLength` bytes unless `withTrace` is false, an rpmsg vdev) and `traces[0]`.
    init(
        heartbeatMs: UInt32 = 0, traceLength: UInt32 = 0x8000, withTrace: Bool = true,
        hostState: ControlBlock.HostState = .released, label: String = #function
    ) throws {
        let salt = UInt32.random(in: 0...UInt32.max)
        let name = try SegmentNames.make(instance: "rt-test", rproc: "\(Self.rprocName)-\(salt)").path
        segment = try SharedMemorySegment.create(name: name, size: Self.segmentSize)
        self.traceLength = traceLength
        table = Self.loadedTable(traceLength: traceLength, withTrace: withTrace)
        try segment.write(Self.controlPage(table: table, heartbeatMs: heartbeatMs, hostState: hostState, withTrace: withTrace), at: 0)
        try segment.write(table.serialised(order: .host), at: Self.tableSegmentOffset)
    }

    /// The resource table after the host's write-backs (carveout pa, vring das).
    static func loadedTable(traceLength: UInt32, withTrace: Bool) -> ResourceTable {
        var resources: [Resource] = [.carveout(.init(da: 0x9F08_0000, pa: 0x9F08_0000, len: 0x1_0000, name: "ipcdata"))]
        if withTrace { resources.append(.trace(.init(da: traceDeviceAddress, len: traceLength, name: "trace0"))) }
        resources.append(.vdev(.init(
            id: 7, notifyid: 0, dfeatures: 1, gfeatures: 0, status: 0,
            vrings: [
                .init(da: 0x9F04_0000, align: 4096, num: 256, notifyid: 0, pa: 0),
                .init(da: 0x9F04_4000, align: 4096, num: 256, notifyid: 1, pa: 0),
            ],
            config: [])))
        return ResourceTable(resources: resources)
    }

    /// The 4096-byte control page as the host writes it before spawning.
    static func controlPage(
        table: ResourceTable, heartbeatMs: UInt32, hostState: ControlBlock.HostState, withTrace: Bool
    ) -> [UInt8] {
        var writer = ByteWriter(count: ControlBlock.size, order: .host)
        writer.put(bytes: ControlBlock.magic, at: ControlBlock.magicOffset)
        writer.put(ControlBlock.layoutVersion, at: ControlBlock.layoutVersionOffset)
        writer.put(UInt32(ControlBlock.size), at: ControlBlock.controlSizeOffset)
        writer.put(UInt64(segmentSize), at: ControlBlock.segmentSizeOffset)
        writer.put(generation, at: ControlBlock.generationOffset)
        writer.put(hostState.rawValue, at: ControlBlock.hostStateOffset)
        writer.put(heartbeatMs, at: ControlBlock.heartbeatPeriodOffset)
        writer.put(UInt32(tableSegmentOffset), at: ControlBlock.tableOffsetOffset)
        writer.put(UInt32(table.size), at: ControlBlock.tableSizeOffset)
        writer.put(tableDeviceAddress, at: ControlBlock.tableDeviceAddressOffset)
        writer.put(UInt32(2), at: ControlBlock.regionCountOffset)
        writer.put(UInt32(getpid()), at: ControlBlock.hostPidOffset)
        writer.put(UInt32(512), at: ControlBlock.bufferSizeOffset)
        ipcRegion.serialise(into: &writer, at: ControlBlock.regionRecordOffset(0))
        ddrRegion.serialise(into: &writer, at: ControlBlock.regionRecordOffset(1))
        if withTrace, case .trace(let trace)? = table.entries.map(\.resource).first(where: { $0.type == ResourceType.trace }) {
            writer.put(trace.da, at: ControlBlock.traceRecordOffset(0))
            writer.put(trace.len, at: ControlBlock.traceRecordOffset(0) + 4)
        }
        return writer.bytes
    }

    // MARK: Control block fields

    func u32(_ offset: Int) throws -> UInt32 { try segment.atomicWord(at: offset).load(ordering: .acquiring) }

    func setU32(_ offset: Int, _ value: UInt32) throws { try segment.atomicWord(at: offset).store(value, ordering: .releasing) }

    func u64(_ offset: Int) throws -> UInt64 {
        try ByteReader(try segment.read(at: offset, count: 8), order: .host).u64(at: 0, field: "u64")
    }

    func remoteState() throws -> UInt32 { try u32(ControlBlock.remoteStateOffset) }
    func heartbeat() throws -> UInt64 { try u64(ControlBlock.heartbeatOffset) }

    /// crashReported, crashType, faultAddress, crashMessage.
    func crashRecord() throws -> (reported: UInt32, type: UInt32, faultAddress: UInt64, message: String) {
        let message = try ByteReader(try segment.read(at: ControlBlock.crashMessageOffset, count: ControlBlock.crashMessageCapacity), order: .host)
            .cString(at: 0, capacity: ControlBlock.crashMessageCapacity, field: "crashMessage")
        return (try u32(ControlBlock.crashReportedOffset), try u32(ControlBlock.crashTypeOffset),
                try u64(ControlBlock.faultAddressOffset), message)
    }

    /// `traces[0].written` and the raw buffer bytes.
    func traceBuffer() throws -> (written: UInt64, bytes: [UInt8]) {
        let written = try u64(ControlBlock.traceRecordOffset(0) + 8)
        let offset = Int(Self.ipcRegion.segmentOffset) + Int(Self.traceDeviceAddress - Self.ipcRegion.da)
        return (written, try segment.read(at: offset, count: Int(traceLength)))
    }

    /// The trace text so far, for a buffer that has not wrapped.
    func traceText() throws -> String {
        let (written, bytes) = try traceBuffer()
        return String(decoding: bytes.prefix(Int(min(written, UInt64(bytes.count)))), as: UTF8.self)
    }

    func traceLines() throws -> [String] {
        try traceText().split(separator: "\n").map(String.init)
    }

    // MARK: Spawning

    /// How the spawned firmware's doorbells sleep.
    enum DoorbellChoice { case futex, eventfd }

    /// Spawns `firmware` (a sample's executable name) with the AMPSOC_* environment; `overrides` replace or
    /// (with nil) remove variables. stderr goes to a pipe the returned process reads.
    func spawn(
        _ firmware: String, arguments: [String] = [], doorbell: DoorbellChoice = .futex, overrides: [String: String?] = [:]
    ) throws -> RemoteProcess {
        let toRemoteEvent = doorbell == .eventfd ? try EventFD() : nil
        let toHostEvent = doorbell == .eventfd ? try EventFD() : nil
        var environment: [String: String] = [
            "AMPSOC_SEGMENT": segment.name,
            "AMPSOC_RPROC": Self.rprocName,
            "AMPSOC_HOST_PID": "\(getpid())",
            "AMPSOC_GENERATION": "\(Self.generation)",
            "AMPSOC_DOORBELL": doorbell == .eventfd ? "eventfd:3,4" : "futex",
            "PATH": "/usr/bin:/bin",
        ]
        for (key, value) in overrides { environment[key] = value }
        let pipe = try PipePair.create()
        var inherit: [(from: Int32, to: Int32)] = [(pipe.write, 2)]
        if let toRemoteEvent, let toHostEvent {
            inherit += [(toRemoteEvent.fileDescriptor, 3), (toHostEvent.fileDescriptor, 4)]
        }
        let child: ChildProcess
        do {
            child = try ChildProcess.spawn(
                executable: try Self.firmwarePath(firmware), arguments: arguments, environment: environment, inheritFDs: inherit)
        } catch {
            close(pipe.read)
            close(pipe.write)
            throw error
        }
        close(pipe.write)
        return RemoteProcess(
            child: child, stderrFD: pipe.read,
            toRemote: try Doorbell(segment: segment, mailboxOffset: ControlBlock.mailboxToRemoteOffset,
                                   kind: toRemoteEvent.map { .eventfd($0) } ?? .futex),
            toHost: try Doorbell(segment: segment, mailboxOffset: ControlBlock.mailboxToHostOffset,
                                 kind: toHostEvent.map { .eventfd($0) } ?? .futex))
    }

    /// The host's orderly stop: hostState stopping, stopRequest 1, a bit-31 kick.
    func requestStop(_ process: RemoteProcess) throws {
        try setU32(ControlBlock.hostStateOffset, ControlBlock.HostState.stopping.rawValue)
        try setU32(ControlBlock.stopRequestOffset, 1)
        try process.toRemote.ring(notifyID: ControlBlock.controlNotifyID)
    }

    /// The sample executable `name`, found next to the test bundle by walking up from /proc/self/exe.
    static func firmwarePath(_ name: String) throws -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        try #require(length > 0, "readlink /proc/self/exe failed")
        var directory = String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        while let slash = directory.lastIndex(of: "/"), !directory.isEmpty {
            directory = String(directory[..<slash])
            let candidate = directory + "/" + name
            if access(candidate, X_OK) == 0 { return candidate }
        }
        Issue.record("\(name) not found above /proc/self/exe")
        throw SystemError(call: "find firmware", subject: name, code: .noSuchFile)
    }
}

/// A spawned firmware process and the host's ends of its doorbells and stderr.
final class RemoteProcess {
    let child: ChildProcess
    let stderrFD: Int32
    /// The host rings this one.
    let toRemote: Doorbell
    /// The host waits on this one.
    let toHost: Doorbell

    init(child: ChildProcess, stderrFD: Int32, toRemote: Doorbell, toHost: Doorbell) {
        self.child = child
        self.stderrFD = stderrFD
        self.toRemote = toRemote
        self.toHost = toHost
    }

    deinit { close(stderrFD) }

    /// Waits for the exit (failing the test after `timeout`, then killing it) and returns its status.
    func waitForExit(timeout: Duration = .seconds(5)) throws -> ChildProcess.ExitStatus {
        if let status = try child.waitForExit(timeout: timeout) { return status }
        Issue.record("\(child.executable) did not exit within \(timeout)")
        return try child.terminate(grace: .milliseconds(100))
    }

    /// Everything the process wrote to stderr until it closed it (after exit) or `timeout`.
    func standardError(timeout: Duration = .seconds(2)) -> String {
        let end = MonotonicClock.nanoseconds() + MonotonicClock.nanoseconds(of: timeout)
        var bytes: [UInt8] = []
        while MonotonicClock.nanoseconds() < end {
            var entry = pollfd(fd: stderrFD, events: Int16(POLLIN), revents: 0)
            let ready = poll(&entry, 1, 50)
            if ready < 0 && errno == EINTR { continue }
            if ready <= 0 { continue }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let got = chunk.withUnsafeMutableBytes { read(stderrFD, $0.baseAddress, $0.count) }
            if got <= 0 { break }
            bytes += chunk[0..<got]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Whether /dev/shm holds `name` (given with its leading "/").
func segmentExists(_ name: String) -> Bool { access("/dev/shm" + name, F_OK) == 0 }

import AmpProfiles
@testable import AmpRemoteproc
import AmpRpmsg
import AmpRpmsgVirtio
import AmpSystem
import AmpTestSupport
import AmpWire
import Foundation
import Glibc
import Synchronization
import Testing

/// The independent C remote (firmware-samples/c-echo/echo.c, written from docs/independent-remote.md alone)
/// against the real host: compiled here with the toolchain's C compiler, its resource table read back with
/// AmpWire's ELF parser, then run as both remotes of an omap4-like topology (ipu: futex doorbell and
/// EVENT_IDX offered; dsp: eventfd doorbell, no EVENT_IDX). Echoes byte for byte, a 2000-message burst
/// without loss or buffer leak, trace text, heartbeat, orderly stop with exit status 0, recovery after
/// SIGKILL, and a ring violation reported by the C remote as a fatal crash. Every wait is bounded.
@Suite(.serialized) struct CIndependentRemoteTests {
    @Test func echoSourceCompilesAndItsResourceTableParses() throws {
        let build = try CEchoBuild.shared()
        for (path, dfeatures) in [(build.withEventIndex, UInt32(0x2000_0001)), (build.withoutEventIndex, UInt32(1))] {
            let elf = try ELFFile.parse(try FileIO.readFile(path))
            guard case .present(_, let section, let bytes) = elf.resourceTableSection() else {
                Issue.record("\(path): no .resource_table section with contents")
                continue
            }
            #expect(section.size == 200)
            #expect(bytes.count == 200)
            let table = try #require(try elf.parseResourceTable())
            #expect(table.entries.map(\.offset) == [28, 84, 132])
            #expect(table.entries.map(\.resource.kindName) == ["carveout", "trace", "vdev"])
            guard table.entries.count == 3,
                case .carveout(let carveout) = table.entries[0].resource,
                case .trace(let trace) = table.entries[1].resource,
                case .vdev(let vdev) = table.entries[2].resource
            else {
                Issue.record("\(path): unexpected table \(table.entries)")
                continue
            }
            #expect(carveout.da == 0x9F08_0000 && carveout.pa == 0xFFFF_FFFF && carveout.len == 0x1_0000)
            #expect(carveout.name == "ipcdata")
            #expect(trace.da == 0x9F00_0000 && trace.len == 0x8000 && trace.name == "trace0")
            #expect(vdev.id == 7 && vdev.notifyid == 0 && vdev.gfeatures == 0 && vdev.status == 0)
            #expect(vdev.dfeatures == dfeatures)
            #expect(vdev.vrings == [
                Resource.VdevVring(da: 0xFFFF_FFFF, align: 4096, num: 256, notifyid: 0, pa: 0),
                Resource.VdevVring(da: 0xFFFF_FFFF, align: 4096, num: 256, notifyid: 1, pa: 0),
            ])
        }
    }

    @Test func echoesOverBothDoorbellKindsThenStopsInOrder() throws {
        let topology = try CEchoTopology(label: "echo")
        defer { topology.finish() }
        #expect(topology.host.bootAutomatically().isEmpty)
        #expect(try topology.run(until: { topology.announced(by: "ipu") == 1 && topology.announced(by: "dsp") == 1 }))

        for (rproc, features) in [("ipu", UInt32(0x2000_0001)), ("dsp", UInt32(1))] {
            let processor = try topology.rproc(rproc)
            let link = try #require(processor.rpmsgLinks.first)
            #expect(link.negotiatedFeatures == features, "\(rproc)")
            let client = try topology.client(of: rproc)
            let payloads: [[UInt8]] = [[0x5A], Array(0..<16), (0..<496).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }]
            for payload in payloads { try client.endpoint.sendTo(client.destination, payload) }
            #expect(try topology.run(until: { client.replies.count == payloads.count }, limit: 10))
            #expect(client.replies.payloads == payloads, "\(rproc)")
            #expect(client.replies.sources == Array(repeating: client.destination, count: 3), "\(rproc)")
            do {
                try client.endpoint.sendTo(client.destination, Array(repeating: 0, count: 497))
                Issue.record("\(rproc): a 497-byte message was sent")
            } catch {
                #expect(error.code == .messageTooLarge)
            }
        }

        // Trace text from both remotes arrives as host trace events.
        #expect(try topology.run(until: {
            topology.traces(of: "ipu").contains { $0.hasPrefix("c-echo: announced \"rpmsg-c-echo\"") }
                && topology.traces(of: "dsp").contains { $0.hasPrefix("c-echo: announced \"rpmsg-c-echo\"") }
        }, limit: 5))
        let ipuTraces = topology.traces(of: "ipu")
        #expect(ipuTraces.first == "c-echo: boot on ipu (generation 1), doorbell futex, heartbeat 500 ms, offering features 0x20000001")
        #expect(topology.traces(of: "dsp").first
            == "c-echo: boot on dsp (generation 1), doorbell eventfd, heartbeat 500 ms, offering features 0x00000001")
        #expect(ipuTraces.contains { $0.hasPrefix("c-echo: host driver ready: status 0x07, features 0x20000001, vring0 da ") })
        #expect(ipuTraces.contains("c-echo: announced \"rpmsg-c-echo\" (create, address 0x400)"))

        // The heartbeat advances (500 ms period with the 2000 ms watchdog) and the watchdog stays quiet.
        let ipu = try topology.rproc("ipu")
        let session = try #require(ipu.liveSession)
        let heartbeat = try SharedAtomicWord64(segment: session.segment, offset: ControlBlock.heartbeatOffset)
        let firstBeat = heartbeat.load()
        #expect(try topology.run(until: { heartbeat.load() >= firstBeat + 2 }, limit: 5))
        let remoteState = try session.segment.atomicWord(at: ControlBlock.remoteStateOffset)
        #expect(remoteState.load() == ControlBlock.RemoteState.running.rawValue)

        // Orderly stop: the C process exits 0 by itself, well before the 10 s stop timeout would bring SIGTERM.
        let started = MonotonicClock.nanoseconds()
        try topology.host.shutdown("ipu")
        let elapsed = MonotonicClock.nanoseconds() - started
        #expect(session.exitStatus == .exited(0))
        #expect(elapsed < 5_000_000_000, "stop took \(elapsed / 1_000_000) ms")
        #expect(ipu.state == .offline)
        #expect(topology.channelActions(of: "ipu") == ["create rpmsg-c-echo", "destroy rpmsg-c-echo"])
        #expect(topology.crashes.isEmpty)
        #expect(try topology.rproc("dsp").state == .running)
    }

    @Test func burstOfTwoThousandMessagesLosesNothingAndLeaksNoBuffer() throws {
        let topology = try CEchoTopology(label: "burst")
        defer { topology.finish() }
        topology.host.bootAutomatically()
        #expect(try topology.run(until: { topology.announced(by: "ipu") == 1 && topology.announced(by: "dsp") == 1 }))
        for rproc in ["ipu", "dsp"] {
            let link = try #require(try topology.rproc(rproc).rpmsgLinks.first)
            let bus = try #require(link.bus)
            let before = bus.counters
            let client = try topology.client(of: rproc)
            let payloads = (0..<2000).map { index -> [UInt8] in
                Array("burst \(index) ".utf8) + Array(repeating: UInt8(truncatingIfNeeded: index), count: index % 480)
            }
            for payload in payloads { try client.endpoint.sendTo(client.destination, payload) }
            #expect(try topology.run(until: { client.replies.count == payloads.count }, limit: 30), "\(rproc)")
            #expect(client.replies.payloads == payloads, "\(rproc): echoes lost, duplicated or reordered")
            // Every buffer comes home: all 256 receive buffers posted, all 256 transmit buffers free.
            #expect(try topology.run(until: { link.postedReceiveBuffers == 256 && link.freeTransmitBuffers == 256 }, limit: 5),
                    "\(rproc): posted \(link.postedReceiveBuffers), free TX \(link.freeTransmitBuffers)")
            let after = bus.counters
            #expect(after.txMessages - before.txMessages == 2000)
            #expect(after.rxMessages - before.rxMessages == 2000)
            #expect(after.droppedNoRecipient == 0 && after.invalidInbound == 0)
            #expect(link.counters.violations == 0 && link.counters.rejected == 0)
            #expect(link.failure == nil)
            // Drained and idle, the remote asks to be kicked for the next message on vring1: with EVENT_IDX
            // (ipu) avail_event equals avail.idx, without it (dsp) used.flags has NO_NOTIFY clear.
            let ring = try topology.vring1(of: rproc)
            let eventIndex = rproc == "ipu"
            #expect(try topology.run(until: {
                eventIndex ? ring.availEvent() == ring.availIndex() : ring.usedFlags() & 1 == 0
            }, limit: 5), "\(rproc): avail.idx \(ring.availIndex()), avail_event \(ring.availEvent()), used.flags \(ring.usedFlags())")
            #expect(ring.availIndex() == 2000)
        }
        #expect(topology.crashes.isEmpty)
        #expect(try topology.rproc("ipu").crashCount == 0 && topology.rproc("dsp").crashCount == 0)
    }

    @Test func killedRemoteIsRecoveredAndItsChannelComesBack() throws {
        let topology = try CEchoTopology(label: "kill")
        defer { topology.finish() }
        topology.host.bootAutomatically()
        #expect(try topology.run(until: { topology.announced(by: "dsp") == 1 }))
        let dsp = try topology.rproc("dsp")
        let firstPid = try #require(dsp.pid)
        kill(firstPid, SIGKILL)

        #expect(try topology.run(until: { topology.announced(by: "dsp") == 2 }))
        #expect(topology.crashes == ["dsp exit: killed by signal 9"])
        #expect(dsp.crashCount == 1)
        #expect(dsp.state == .running)
        #expect(dsp.pid != firstPid)
        #expect(topology.channelActions(of: "dsp") == ["create rpmsg-c-echo", "destroy rpmsg-c-echo", "create rpmsg-c-echo"])
        #expect(try topology.run(until: {
            topology.traces(of: "dsp").contains { $0.hasPrefix("c-echo: boot on dsp (generation 2), doorbell eventfd") }
        }, limit: 5))
        let client = try topology.client(of: "dsp")
        try client.endpoint.sendTo(client.destination, Array("back again".utf8))
        #expect(try topology.run(until: { client.replies.count == 1 }, limit: 10))
        #expect(client.replies.payloads == [Array("back again".utf8)])
        #expect(try topology.rproc("ipu").crashCount == 0)
    }

    @Test func ringIndexFromTheHostOutOfRangeIsReportedAsAFatalCrash() throws {
        let topology = try CEchoTopology(label: "violate")
        defer { topology.finish() }
        topology.host.bootAutomatically()
        #expect(try topology.run(until: { topology.announced(by: "ipu") == 1 }))
        let ipu = try topology.rproc("ipu")
        let client = try topology.client(of: "ipu")
        for index in 0..<3 { try client.endpoint.sendTo(client.destination, [UInt8(index)]) }
        #expect(try topology.run(until: { client.replies.count == 3 }, limit: 10))

        // Pretend to be a broken host: move vring1's avail.idx 1000 entries ahead and ring its notify id.
        let session = try #require(ipu.liveSession)
        let vring = try #require(session.allocation.vdevs.first?.vrings.dropFirst().first)
        let layout = try VringLayout(num: Int(vring.num), align: Int(vring.align))
        let indexOffset = vring.segmentOffset + layout.availIdxOffset
        let current = ByteReader(try session.segment.read(at: indexOffset, count: 2), order: .host)
        let availIndex = try current.u16(at: 0, field: "avail.idx")
        #expect(availIndex == 3)
        var corrupted = ByteWriter(count: 2, order: .host)
        corrupted.put(availIndex &+ 1000, at: 0)
        try session.segment.write(corrupted.bytes, at: indexOffset)
        try session.toRemote.ring(notifyID: vring.notifyid)

        #expect(try topology.run(until: { topology.announced(by: "ipu") == 2 }))
        #expect(topology.crashes == [
            "ipu fatal error: rpmsg: host protocol violation: vring1: avail.idx = 1003 jumps 1000 entries past 3, "
                + "at most 256 can be outstanding",
        ])
        #expect(ipu.crashCount == 1)
        #expect(ipu.state == .running)
        #expect(topology.traces(of: "ipu").contains {
            $0 == "crash (fatal error): rpmsg: host protocol violation: vring1: avail.idx = 1003 jumps 1000 entries past 3, "
                + "at most 256 can be outstanding"
        })
    }
}

/// Where this test process compiled the C remote (removed at exit).
nonisolated(unsafe) private var cEchoBuildDirectory: String?

/// Compiles firmware-samples/c-echo/echo.c once per test process with the toolchain's C compiler, in two
/// variants: offering EVENT_IDX (the default) and not.
struct CEchoBuild: Sendable {
    let withEventIndex: String
    let withoutEventIndex: String

    static let source = RpmsgTopology.packageRoot.appendingPathComponent("firmware-samples/c-echo/echo.c").path
    private static let cached = Mutex<Result<CEchoBuild, CEchoBuildError>?>(nil)

    /// The compiled binaries; a missing compiler or a failed compile is an error (never a skip).
    static func shared() throws -> CEchoBuild {
        try cached.withLock { cached in
            let result = cached ?? Result { () throws(CEchoBuildError) in try build() }
            cached = result
            return try result.get()
        }
    }

    private static func build() throws(CEchoBuildError) -> CEchoBuild {
        guard let compiler = findCompiler() else {
            throw CEchoBuildError(
                message: "no C compiler found: looked for clang (shipped with the Swift toolchain), cc and gcc in PATH "
                    + "and next to swift; the independent C remote cannot be tested")
        }
        // One directory per test process, removed when the process exits; directories of earlier test
        // processes that are gone (killed before their exit handler ran) are removed first.
        let temporary = FileManager.default.temporaryDirectory
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: temporary.path)) ?? []
        where entry.hasPrefix("ampsoc-c-echo-") {
            if let pid = Int32(entry.dropFirst("ampsoc-c-echo-".count)), !TestProcesses.isAlive(pid) {
                try? FileManager.default.removeItem(at: temporary.appendingPathComponent(entry))
            }
        }
        let directory = temporary.appendingPathComponent("ampsoc-c-echo-\(getpid())")
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw CEchoBuildError(message: "cannot create \(directory.path): \(error)")
        }
        cEchoBuildDirectory = directory.path
        atexit {
            if let path = cEchoBuildDirectory { try? FileManager.default.removeItem(atPath: path) }
        }
        let withEventIndex = directory.appendingPathComponent("ampsoc-fw-c-echo").path
        let withoutEventIndex = directory.appendingPathComponent("ampsoc-fw-c-echo-no-event-idx").path
        try compile(compiler, output: withEventIndex, extra: [])
        try compile(compiler, output: withoutEventIndex, extra: ["-DC_ECHO_OFFER_EVENT_IDX=0"])
        return CEchoBuild(withEventIndex: withEventIndex, withoutEventIndex: withoutEventIndex)
    }

    private static func compile(_ compiler: String, output: String, extra: [String]) throws(CEchoBuildError) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: compiler)
        process.arguments = ["-std=c11", "-O2", "-Wall", "-Werror"] + extra + ["-o", output, source]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = errors
        do {
            try process.run()
        } catch {
            throw CEchoBuildError(message: "cannot run \(compiler): \(error)")
        }
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CEchoBuildError(
                message: "\(compiler) \(process.arguments?.joined(separator: " ") ?? "") failed with status \(process.terminationStatus):\n\(text)")
        }
    }

    /// clang first (the Swift toolchain ships it), then cc and gcc; searched in PATH, then next to `swift`.
    private static func findCompiler() -> String? {
        var directories = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        directories += ["/opt/swift/usr/bin", "/usr/bin", "/usr/local/bin"]
        for name in ["clang", "cc", "gcc"] {
            for directory in directories where !directory.isEmpty {
                let path = directory + "/" + name
                if FileManager.default.isExecutableFile(atPath: path) { return path }
            }
        }
        return nil
    }
}

struct CEchoBuildError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// An omap4-like topology whose two remotes run the compiled C echo: "ipu" with the futex doorbell (and the
/// binary offering EVENT_IDX), "dsp" with the eventfd doorbell (the binary without EVENT_IDX); a 2000 ms
/// watchdog (500 ms heartbeat), recovery on, coredumps off, a 10 s stop timeout.
final class CEchoTopology {
    let host: SoCHost
    let events = RecordingEventSink()
    let instance: String
    let directory: URL

    init(label: String) throws {
        let build = try CEchoBuild.shared()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("ampsoc-cecho-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        func remote(_ name: String, firmware: String, doorbell: String, memory: [[String: String]]) -> [String: Any] {
            [
                "name": name, "coreType": name == "ipu" ? "cortex-m3" : "c64x", "firmware": firmware,
                "doorbell": doorbell, "recovery": true, "coredump": "disabled", "watchdogMs": 2000,
                "rpmsgBufferSize": 512, "memory": memory,
            ]
        }
        let object: [String: Any] = [
            "soc": "omap4cecho", "description": "omap4-like topology running the independent C remote",
            "host": ["coreType": "cortex-a9", "cores": 2],
            "remoteprocs": [
                remote("ipu", firmware: build.withEventIndex, doorbell: "futex", memory: RpmsgTopology.ipuMemory),
                remote("dsp", firmware: build.withoutEventIndex, doorbell: "eventfd", memory: RpmsgTopology.dspMemory),
            ],
        ]
        let path = directory.appendingPathComponent("omap4cecho.json")
        try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys]).write(to: path)
        let profile = try ProfileDecoder.load(path: path.path)
        instance = "c\(label.prefix(10))\(UInt32.random(in: 0...UInt32.max))"
        host = try SoCHost(
            profile: profile, instance: instance, sink: events, coredumpDirectory: directory.path,
            environment: ProcessInfo.processInfo.environment, stopTimeout: .seconds(10))
        host.tickInterval = .milliseconds(10)
    }

    /// Runs the host's main loop until `condition` holds or `limit` seconds pass.
    func run(until condition: () -> Bool, limit: Double = 30) throws -> Bool {
        try host.runSlices(until: condition, limit: limit)
    }

    func rproc(_ name: String) throws -> RemoteProcessor {
        try #require(host.remoteProcessor(named: name))
    }

    /// How many times `rproc` announced "rpmsg-c-echo" (channel create events).
    func announced(by rproc: String) -> Int {
        channelActions(of: rproc).filter { $0 == "create rpmsg-c-echo" }.count
    }

    /// "create NAME" / "destroy NAME" for each channel event of `rproc`, in order.
    func channelActions(of rproc: String) -> [String] {
        events.events.compactMap { event in
            if case .channel(let name, let action, let channel, _, _) = event, name == rproc { return "\(action) \(channel)" }
            return nil
        }
    }

    /// Trace lines of `rproc`, in order.
    func traces(of rproc: String) -> [String] {
        events.events.compactMap { event in
            if case .trace(let name, let text) = event, name == rproc { return text }
            return nil
        }
    }

    /// "rproc type: detail" for every crash event.
    var crashes: [String] {
        events.events.compactMap { event in
            if case .crash(let rproc, let type, let detail) = event { return "\(rproc) \(type): \(detail)" }
            return nil
        }
    }

    /// A fresh host endpoint on `rproc`'s current link, and the destination of its "rpmsg-c-echo" channel.
    func client(of rproc: String) throws -> (endpoint: RpmsgEndpoint, destination: UInt32, replies: CEchoReplies) {
        let bus = try #require(try self.rproc(rproc).rpmsgBuses.first)
        let channel = try #require(bus.channel(named: "rpmsg-c-echo"))
        let replies = CEchoReplies()
        let endpoint = try bus.createEndpoint { _, payload, source in replies.append(payload, from: source) }
        return (endpoint, channel.destination, replies)
    }

    /// Reads fields of `rproc`'s vring1 in its live segment.
    func vring1(of rproc: String) throws -> CEchoRingProbe {
        let session = try #require(try self.rproc(rproc).liveSession)
        let vring = try #require(session.allocation.vdevs.first?.vrings.dropFirst().first)
        let layout = try VringLayout(num: Int(vring.num), align: Int(vring.align))
        return CEchoRingProbe(segment: session.segment, base: vring.segmentOffset, layout: layout)
    }

    /// Tears down and checks that no firmware process and no segment is left.
    func finish() {
        let pids = host.remoteProcessors.compactMap(\.pid)
        host.tearDown()
        for pid in pids { #expect(!RpmsgTopology.processExists(pid), "process \(pid) survived teardown") }
        let segments = ((try? FileManager.default.contentsOfDirectory(atPath: "/dev/shm")) ?? [])
            .filter { $0.contains(".\(instance).") }
        #expect(segments.isEmpty, "segments left: \(segments)")
        try? FileManager.default.removeItem(at: directory)
    }
}

/// Replies collected by a host endpoint's callback (the rpmsg service thread) for the test thread.
final class CEchoReplies: Sendable {
    private let storage = Mutex<(payloads: [[UInt8]], sources: [UInt32])>(([], []))

    func append(_ payload: [UInt8], from source: UInt32) {
        storage.withLock {
            $0.payloads.append(payload)
            $0.sources.append(source)
        }
    }

    var count: Int { storage.withLock { $0.payloads.count } }
    var payloads: [[UInt8]] { storage.withLock { $0.payloads } }
    var sources: [UInt32] { storage.withLock { $0.sources } }
}

/// Reads the u16 fields of one vring in a live segment (host byte order); 0xFFFF if a read fails.
struct CEchoRingProbe {
    let segment: SharedMemorySegment
    let base: Int
    let layout: VringLayout

    func availIndex() -> UInt16 { read(layout.availIdxOffset) }
    func availEvent() -> UInt16 { read(layout.availEventOffset) }
    func usedFlags() -> UInt16 { read(layout.usedOffset) }

    private func read(_ offset: Int) -> UInt16 {
        guard let bytes = try? segment.read(at: base + offset, count: 2) else { return 0xFFFF }
        return (try? ByteReader(bytes, order: .host).u16(at: 0, field: "vring")) ?? 0xFFFF
    }
}

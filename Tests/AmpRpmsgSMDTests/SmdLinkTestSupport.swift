// A real shared-memory segment laid out like a remote's, with the host's SMD link and service thread in the
// test process and the remote side played by a thread running AmpSMD's SmdRemoteEdge, waiting on its own
// doorbell. The segment name is unlinked at once (the mapping stays), so a failing test leaves nothing behind.
//
//   0x0000  control page: to-remote mailbox 0x180, to-host mailbox 0x1C0, SMEM spinlock word 0x200
//   0x1000  SMEM region, 64 KiB

import AmpRpmsg
import AmpRpmsgSMD
import AmpSMD
import AmpSystem
import AmpTestSupport
import AmpWire
import Foundation
import Synchronization
import Testing

enum TestSegment {
    static let placement = SmdEdgePlacement(smemOffset: 0x1000, smemSize: 0x10000, spinlockOffset: 0x200)
    static let size = 0x11000
    static let remoteSpinlockToken: UInt32 = 2

    static func make() throws -> SharedMemorySegment {
        let name = "/ampsoc-test-smdlink-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let segment = try SharedMemorySegment.create(name: name, size: size)
        try segment.unlink()
        return segment
    }
}

/// The remote processor: its own thread, its own doorbell waits, its own SMD engines. Everything touching
/// the engines runs on that thread; tests hand it work with `perform`.
final class TestRemote: @unchecked Sendable {
    let edge: SmdRemoteEdge
    let heap: SmemHeap
    let toHost: Doorbell
    let toRemote: Doorbell
    /// While false, every packet is refused (it stays in the FIFO: back-pressure).
    let accepting = Atomic<Bool>(true)
    /// While true, the thread runs commands but no interrupt handling (a remote that stopped answering).
    let paused = Atomic<Bool>(false)
    private let stopping = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var commands: [() -> Void] = []
    private var receivedByChannel: [String: [[UInt8]]] = [:]
    private var failures: [SmdError] = []
    // Remote thread only:
    private var outbox: [(channel: SmdChannel, payload: [UInt8])] = []
    private var echoing: Set<String> = []

    init(segment: SharedMemorySegment, edgeID: UInt8) throws {
        heap = try TestSegment.placement.heap(in: segment, owner: TestSegment.remoteSpinlockToken)
        edge = SmdRemoteEdge(heap: heap, edgeID: edgeID)
        toHost = try Doorbell(segment: segment, mailboxOffset: ControlBlock.mailboxToHostOffset, kind: .futex)
        toRemote = try Doorbell(segment: segment, mailboxOffset: ControlBlock.mailboxToRemoteOffset, kind: .futex)
        let thread = Thread { [self] in run() }
        thread.name = "test smd remote"
        thread.start()
    }

    /// Payloads received on `channel`, in order.
    func received(_ channel: String) -> [[UInt8]] { locked { receivedByChannel[channel] ?? [] } }

    /// Errors the remote's engines threw (none expected unless the host misbehaves).
    var errors: [SmdError] { locked { failures } }

    /// Runs `body` on the remote thread and returns its result (waits at most 10 s).
    @discardableResult
    func perform<T>(_ body: @escaping (SmdRemoteEdge) throws -> T) throws -> T {
        let done = DispatchSemaphore(value: 0)
        var result: Result<T, any Error>?
        locked {
            commands.append {
                result = Result { try body(self.edge) }
                done.signal()
            }
        }
        try toRemote.wake()
        guard done.wait(timeout: .now() + 10) == .success, let result else {
            throw SmdError(.timedOut, "the remote thread did not run the command")
        }
        return try result.get()
    }

    /// Creates a channel and announces it (OPENING), then kicks the host.
    func announce(_ name: String, table: Int = 0, cid: Int? = nil, fifoSize: Int = 128, layout: SmdInfoLayout = .byte) throws {
        try perform { edge in
            let channel = try edge.createChannel(name: name, table: table, cid: cid, fifoSize: fifoSize, layout: layout)
            channel.remoteOpen()
            try self.toHost.ring(notifyID: 0)
        }
    }

    /// Queues packets to send on `channel` (sent as room allows, in order).
    func send(_ payloads: [[UInt8]], on channel: String) throws {
        try perform { edge in
            let engine = try #require(edge.channel(named: channel))
            for payload in payloads { self.outbox.append((engine, payload)) }
        }
    }

    /// Makes the remote answer every packet on `channel` with the same payload.
    func echo(_ channel: String) throws {
        try perform { _ in self.echoing.insert(channel) }
    }

    /// Writes `value` (little-endian) at `offset` of the SMEM region, as a hostile remote would, and kicks.
    func scribble(_ value: UInt32, at offset: Int) throws {
        try perform { edge in
            (edge.heap.region.base + offset).storeBytes(of: value.littleEndian, as: UInt32.self)
            try self.toHost.ring(notifyID: 0)
        }
    }

    /// Region offset of a channel's info field: `half` in apps naming, `field` offset inside the structure.
    func infoOffset(_ channel: String, half: SmdInfoHalf, field: @escaping (SmdInfoLayout) -> Int) throws -> Int {
        try perform { edge in
            let engine = try #require(edge.channel(named: channel))
            let item = try edge.heap.item(SmdConstants.allocTables[engine.table].infoItem(cid: engine.cid))
            return item.offset + engine.layout.offset(of: half) + field(engine.layout)
        }
    }

    /// Ends the thread without closing anything (a crash as the host sees it).
    func stop() {
        guard !stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
        try? toRemote.wake()
        _ = finished.wait(timeout: .now() + 10)
    }

    private func run() {
        while !stopping.load(ordering: .acquiring) {
            let pending = locked { () -> [() -> Void] in
                defer { commands.removeAll() }
                return commands
            }
            for command in pending { command() }
            if !paused.load(ordering: .acquiring) {
                do {
                    try service()
                } catch {
                    locked { failures.append(error) }
                }
            }
            _ = try? toRemote.wait(timeout: .milliseconds(5))
        }
        finished.signal()
    }

    /// One interrupt: state steps, packets in (echoed where asked), queued packets out, kicks.
    private func service() throws(SmdError) {
        try flushOutbox()
        let result = try edge.handleInterrupt { channel, payload in
            guard self.accepting.load(ordering: .acquiring) else { return false }
            let bytes = Array(payload)
            self.locked { self.receivedByChannel[channel.name, default: []].append(bytes) }
            if self.echoing.contains(channel.name) { self.outbox.append((channel, bytes)) }
            return true
        }
        if result.kickHost { try? toHost.ring(notifyID: 0) }
        try flushOutbox()
    }

    private func flushOutbox() throws(SmdError) {
        while let (channel, payload) = outbox.first {
            guard channel.state == .opened else {
                if channel.state == .closed, !channel.isServing { outbox.removeFirst() }
                return
            }
            guard try channel.send(payload) == .sent else { return }
            outbox.removeFirst()
            try? toHost.ring(notifyID: 0)
        }
    }

    private func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }
}

/// The host side: segment prepared as the boot loader, link attached, service thread running; and the
/// remote thread. `finish()` stops everything in the order a host uses.
final class SmdLinkFixture {
    let segment: SharedMemorySegment
    let link: SmdRpmsgEdgeLink
    let thread: SmdRpmsgServiceThread
    let registry: RpmsgDriverRegistry
    let events = RpmsgEventRecorder()
    let fatal = StringLog()
    let bus: RpmsgBus
    let remote: TestRemote

    init(drivers: [any RpmsgDriver] = [], sendTimeout: Duration = .seconds(10), edgeID: UInt8 = 3) throws {
        segment = try TestSegment.make()
        try TestSegment.placement.prepare(in: segment)
        let toRemote = try Doorbell(segment: segment, mailboxOffset: ControlBlock.mailboxToRemoteOffset, kind: .futex)
        let toHost = try Doorbell(segment: segment, mailboxOffset: ControlBlock.mailboxToHostOffset, kind: .futex)
        link = try SmdRpmsgEdgeLink(
            name: "test.smd", segment: segment, placement: TestSegment.placement, edgeID: edgeID,
            toRemote: toRemote, toHost: toHost)
        registry = RpmsgDriverRegistry(events: events)
        for driver in drivers { try registry.register(driver) }
        let fatal = self.fatal
        bus = link.attach(registry: registry, sendTimeout: sendTimeout) { detail in fatal.append(detail) }
        thread = SmdRpmsgServiceThread(name: "test smd", doorbell: toHost, links: [link])
        thread.start()
        remote = try TestRemote(segment: segment, edgeID: edgeID)
    }

    /// The status of channel `name`.
    func status(_ name: String) throws -> SmdRpmsgChannelStatus {
        try #require(link.channelStatus.first { $0.name == name })
    }

    /// The order a host uses: the remote is gone, close, join the service thread, take the link down.
    func finish() {
        remote.stop()
        link.close()
        #expect(thread.stop())
        link.shutDown()
    }
}

/// A host driver that records what happens to it and can answer every message from its callback.
final class RecordingDriver: RpmsgDriver {
    let name: String
    let idTable: [String]
    let answers: Bool
    private let state = Mutex(State())

    struct State {
        var probes: [String] = []
        var removes: [String] = []
        var messages: [(payload: [UInt8], source: UInt32)] = []
        var channel: RpmsgChannel?
        var answerErrors: [RpmsgError] = []
    }

    init(name: String = "recording", serving names: [String], answers: Bool = false) {
        self.name = name
        idTable = names
        self.answers = answers
    }

    var probes: [String] { state.withLock { $0.probes } }
    var removes: [String] { state.withLock { $0.removes } }
    var messages: [(payload: [UInt8], source: UInt32)] { state.withLock { $0.messages } }
    var payloads: [[UInt8]] { messages.map(\.payload) }
    var channel: RpmsgChannel? { state.withLock { $0.channel } }
    var answerErrors: [RpmsgError] { state.withLock { $0.answerErrors } }

    func probe(_ channel: RpmsgChannel) throws(RpmsgError) {
        state.withLock {
            $0.probes.append(channel.name)
            $0.channel = channel
        }
    }

    func remove(_ channel: RpmsgChannel) {
        state.withLock {
            $0.removes.append(channel.name)
            if $0.channel === channel { $0.channel = nil }
        }
    }

    func callback(_ channel: RpmsgChannel, payload: [UInt8], source: UInt32) {
        state.withLock { $0.messages.append((payload, source)) }
        guard answers else { return }
        do {
            try channel.send(Array(payload.reversed()))
        } catch {
            state.withLock { $0.answerErrors.append(error) }
        }
    }
}

/// Collects messages delivered to an endpoint.
final class Inbox: Sendable {
    private let messages = Mutex<[(source: UInt32, payload: [UInt8])]>([])
    var all: [(source: UInt32, payload: [UInt8])] { messages.withLock { $0 } }
    var payloads: [[UInt8]] { all.map(\.payload) }
    var count: Int { messages.withLock { $0.count } }
    var callback: RpmsgEndpointCallback {
        { _, payload, source in self.messages.withLock { $0.append((source, payload)) } }
    }
}

/// Lines appended from any thread.
final class StringLog: Sendable {
    private let lines = Mutex<[String]>([])
    func append(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }
}

/// `count` bytes counting up from `start`.
func pattern(_ count: Int, start: UInt8 = 0) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: Int(start) + $0) }
}

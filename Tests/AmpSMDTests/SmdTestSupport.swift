// A "shared memory" for SMD tests: one 64-byte aligned heap buffer holding the SMEM spinlock word and, after
// it, the SMEM region; a host-side and a remote-side heap over it (different lock owner tokens), as two
// processors mapping the same segment would have.

import AmpSMD
import Testing
import AmpWire

final class SharedMemory {
    static let lockAreaSize = 64

    let buffer: UnsafeMutableRawPointer
    let size: Int
    let region: SmemRegion
    let hostHeap: SmemHeap
    let remoteHeap: SmemHeap

    /// `size` bytes of SMEM region, zero-filled, initialized by the host as the boot loader unless told not to.
    init(size: Int = 64 * 1024, initialize: Bool = true) throws {
        self.size = size
        buffer = UnsafeMutableRawPointer.allocate(byteCount: size + Self.lockAreaSize, alignment: 64)
        buffer.initializeMemory(as: UInt8.self, repeating: 0, count: size + Self.lockAreaSize)
        region = try SmemRegion(base: buffer + Self.lockAreaSize, size: size)
        hostHeap = try SmemHeap(region: region, lock: SmemSpinlock(word: buffer, owner: 1))
        remoteHeap = try SmemHeap(region: region, lock: SmemSpinlock(word: buffer, owner: 2))
        if initialize { hostHeap.initialize() }
    }

    deinit { buffer.deallocate() }

    /// The spinlock word.
    var lockWord: UnsafeMutableRawPointer { buffer }

    func load32(_ offset: Int) -> UInt32 {
        UInt32(littleEndian: (region.base + offset).loadUnaligned(as: UInt32.self))
    }

    func store32(_ value: UInt32, at offset: Int) {
        (region.base + offset).storeBytes(of: value.littleEndian, as: UInt32.self)
    }

    func load8(_ offset: Int) -> UInt8 { region.base.load(fromByteOffset: offset, as: UInt8.self) }

    func store8(_ value: UInt8, at offset: Int) { region.base.storeBytes(of: value, toByteOffset: offset, as: UInt8.self) }

    func bytes(at offset: Int, count: Int) -> [UInt8] {
        Array(UnsafeRawBufferPointer(start: region.base + offset, count: count))
    }

    func store(_ bytes: [UInt8], at offset: Int) {
        bytes.withUnsafeBytes { (region.base + offset).copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
    }
}

/// A host edge and a remote edge on one shared memory, with helpers to run the handshake.
final class EdgePair {
    let memory: SharedMemory
    let host: SmdHostEdge
    let remote: SmdRemoteEdge
    /// Packets each side received, by channel name.
    var hostReceived: [String: [[UInt8]]] = [:]
    var remoteReceived: [String: [[UInt8]]] = [:]
    /// While false the side refuses every packet (back-pressure).
    var hostAccepts = true
    var remoteAccepts = true

    init(memorySize: Int = 256 * 1024, edgeID: UInt8 = 1) throws {
        memory = try SharedMemory(size: memorySize)
        host = SmdHostEdge(heap: memory.hostHeap, edgeID: edgeID)
        remote = SmdRemoteEdge(heap: memory.remoteHeap, edgeID: edgeID)
    }

    /// The remote's interrupt handler (after a host kick).
    @discardableResult
    func serviceRemote() throws -> SmdRemoteInterruptResult {
        try remote.handleInterrupt { channel, payload in
            guard self.remoteAccepts else { return false }
            self.remoteReceived[channel.name, default: []].append(Array(payload))
            return true
        }
    }

    /// The host's interrupt handler (after a remote kick).
    @discardableResult
    func serviceHost() throws -> SmdEdgeInterruptResult {
        try host.handleInterrupt { channel, payload in
            guard self.hostAccepts else { return false }
            self.hostReceived[channel.name, default: []].append(Array(payload))
            return true
        }
    }

    /// Creates and announces a remote channel, scans on the host and opens it with the full handshake.
    func openChannel(
        name: String, table: Int = 0, cid: Int? = nil, fifoSize: Int = 1024, layout: SmdInfoLayout = .byte
    ) throws -> (host: SmdChannel, remote: SmdChannel) {
        let remoteChannel = try remote.createChannel(name: name, table: table, cid: cid, fifoSize: fifoSize, layout: layout)
        remoteChannel.remoteOpen()
        let found = try host.scan()
        let hostChannel = try #require(found.first { $0.name == name })
        try serviceRemote()
        try handshake(hostChannel)
        return (hostChannel, remoteChannel)
    }

    /// Runs the host's open handshake, servicing the remote in between, until open.
    func handshake(_ channel: SmdChannel) throws {
        let now = ContinuousClock.now
        try channel.beginOpen(now: now)
        for _ in 0..<4 {
            try serviceRemote()
            if try channel.continueOpen(now: now).isOpen { return }
        }
        Issue.record("handshake did not complete")
    }
}

/// `count` bytes counting up from `start`.
func pattern(_ count: Int, start: UInt8 = 0) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: Int(start) + $0) }
}

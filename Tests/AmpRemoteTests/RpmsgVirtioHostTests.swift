// Not tests: the virtio rpmsg host that RpmsgRemoteTests play against the firmware (the file name follows the
// Rpmsg*Tests.swift pattern of this test target's rpmsg files).
//
// It does what Linux's virtio_rpmsg_bus does on probe and afterwards, over TestHost's segment: the driver side
// of vring0 (host RX: empty 512-byte device-writable buffers, posted from the first half of a buffer pool) and
// vring1 (host TX: readable buffers holding rpmsg_hdr + payload, from the second half), gfeatures and the vdev
// status written into the loaded resource table, kicks on the remote's doorbell with the vring notify ids.

import AmpSystem
import AmpVirtio
import AmpWire
import Glibc
import Synchronization
import Testing

/// The host side of one virtio rpmsg device, over a ``TestHost`` segment (vring0 at 0x9F040000, vring1 at
/// 0x9F044000, num 256, align 4096) with a pool of 512 buffers of 512 bytes at 0x9F090000.
final class RpmsgVirtioHost {
    static let poolAddress: UInt32 = 0x9F09_0000
    static let bufferSize = 512
    static let poolCount = 512
    /// The rpmsg address the host's endpoint uses in the tests.
    static let hostAddress: UInt32 = 0x401
    /// The address the firmware's first endpoint gets.
    static let firstRemoteAddress: UInt32 = 0x400

    let host: TestHost
    /// Host RX (remote -> host).
    let rx: VirtqueueDriver
    /// Host TX (host -> remote).
    let tx: VirtqueueDriver
    var remote: RemoteProcess?
    /// TX pool buffers (indices poolCount/2 ..< poolCount) not in flight.
    private var freeTxBuffers: [Int]
    /// The vdev payload's offset in the segment.
    let vdevPayloadOffset: Int

    /// With `eventIndex`, both rings use VIRTIO_RING_F_EVENT_IDX (pass the bit to ``setDriverOK(features:)`` too).
    init(host: TestHost, eventIndex: Bool = false) throws {
        self.host = host
        let vdevEntry = try #require(host.table.entries.first { $0.resource.type == ResourceType.vdev })
        vdevPayloadOffset = TestHost.tableSegmentOffset + vdevEntry.offset + ResourceTable.entryHeaderSize
        guard case .vdev(let vdev) = vdevEntry.resource else { throw SystemError(call: "no vdev", subject: "", code: .invalidArgument) }
        rx = try VirtqueueDriver(
            name: "vring0", ring: host.segment.base + Self.segmentOffset(vdev.vrings[0].da), num: 256, align: 4096, eventIndex: eventIndex)
        tx = try VirtqueueDriver(
            name: "vring1", ring: host.segment.base + Self.segmentOffset(vdev.vrings[1].da), num: 256, align: 4096, eventIndex: eventIndex)
        freeTxBuffers = Array((Self.poolCount / 2..<Self.poolCount).reversed())
    }

    static func segmentOffset(_ da: UInt32) -> Int {
        Int(TestHost.ipcRegion.segmentOffset) + Int(da - TestHost.ipcRegion.da)
    }

    static func bufferAddress(_ index: Int) -> UInt32 { poolAddress + UInt32(index * bufferSize) }

    /// Spawns `firmware` (arguments as given) and remembers the process.
    @discardableResult
    func spawn(_ firmware: String, arguments: [String] = [], doorbell: TestHost.DoorbellChoice = .futex) throws -> RemoteProcess {
        let process = try host.spawn(firmware, arguments: arguments, doorbell: doorbell)
        remote = process
        return process
    }

    private var process: RemoteProcess {
        get throws { try #require(remote, "spawn the firmware first") }
    }

    // MARK: Probe

    /// Posts `count` RX buffers (pool indices 0..<count) on vring0, as Linux does before DRIVER_OK.
    func postRxBuffers(_ count: Int = 256, kick: Bool = false) throws {
        for index in 0..<count {
            try rx.add(address: UInt64(Self.bufferAddress(index)), length: UInt32(Self.bufferSize), deviceWritable: true, token: index)
        }
        _ = rx.publish()
        if kick { try process.toRemote.ring(notifyID: 0) }
    }

    /// Writes gfeatures, then status ACKNOWLEDGE|DRIVER|DRIVER_OK (release order), and kicks vring0.
    func setDriverOK(features: UInt32 = 1) throws {
        var writer = ByteWriter(count: 4, order: .host)
        writer.put(features, at: 0)
        try host.segment.write(writer.bytes, at: vdevPayloadOffset + Resource.VdevOffset.gfeatures)
        setStatus(VirtioStatus.rpmsgReady.rawValue)
        try process.toRemote.ring(notifyID: 0)
    }

    /// Zeroes both rings and forgets every buffer, as a host does before probing the device again.
    func resetRings() {
        rx.reset()
        tx.reset()
        freeTxBuffers = Array((Self.poolCount / 2..<Self.poolCount).reversed())
    }

    /// Stores the vdev status byte with release order.
    func setStatus(_ status: UInt8) {
        (host.segment.base + vdevPayloadOffset + Resource.VdevOffset.status)
            .bindMemory(to: Atomic<UInt8>.self, capacity: 1).pointee.store(status, ordering: .releasing)
    }

    // MARK: Sending (vring1)

    /// Takes the used TX buffers back into the pool; returns their pool indices in used order.
    @discardableResult
    func reclaimTxBuffers() throws -> [Int] {
        var indices: [Int] = []
        while let (token, _) = try tx.takeUsed() {
            indices.append(token)
            freeTxBuffers.append(token)
        }
        return indices
    }

    /// Sends `payload` from `source` to `destination` in one readable descriptor of 16 + n bytes (or
    /// `descriptorLength` when given, for malformed messages; `headerLength` overrides the header's len).
    /// Returns the pool index of the buffer.
    @discardableResult
    func send(
        from source: UInt32 = hostAddress, to destination: UInt32, _ payload: [UInt8],
        headerLength: UInt16? = nil, descriptorLength: UInt32? = nil
    ) throws -> Int {
        try reclaimTxBuffers()
        let free = freeTxBuffers.popLast()
        let index = try #require(free, "no free TX buffer in the pool")
        var message = try RpmsgMessage(source: source, destination: destination, payload: payload).serialized(order: .host)
        if let headerLength {
            var writer = ByteWriter(count: 2, order: .host)
            writer.put(headerLength, at: 0)
            message.replaceSubrange(12..<14, with: writer.bytes)
        }
        try host.segment.write(message, at: Self.segmentOffset(Self.bufferAddress(index)))
        try tx.add(
            address: UInt64(Self.bufferAddress(index)), length: descriptorLength ?? UInt32(message.count), deviceWritable: false, token: index)
        _ = tx.publish()
        try process.toRemote.ring(notifyID: 1)
        return index
    }

    /// Posts one raw descriptor on vring1 (hostile tests) and kicks.
    func sendRawDescriptor(address: UInt64, length: UInt32) throws {
        try tx.add(address: address, length: length, deviceWritable: false, token: -1)
        _ = tx.publish()
        try process.toRemote.ring(notifyID: 1)
    }

    // MARK: Receiving (vring0)

    /// A message the remote put on vring0: the used length, the raw bytes written, and the parsed message.
    struct Received {
        var usedLength: UInt32
        var bytes: [UInt8]
        var message: RpmsgMessage
    }

    /// Waits up to `timeout` for the next message on vring0; re-posts its buffer (and kicks vring0).
    func receive(timeout: Duration = .seconds(5)) throws -> Received? {
        let end = MonotonicClock.nanoseconds() + MonotonicClock.nanoseconds(of: timeout)
        while true {
            if let (index, length) = try rx.takeUsed() {
                let buffer = try host.segment.read(at: Self.segmentOffset(Self.bufferAddress(index)), count: Self.bufferSize)
                let message = try RpmsgMessage.parse(buffer, order: .host, validLength: Int(length))
                try rx.add(address: UInt64(Self.bufferAddress(index)), length: UInt32(Self.bufferSize), deviceWritable: true, token: index)
                _ = rx.publish()
                try process.toRemote.ring(notifyID: 0)
                return Received(usedLength: length, bytes: Array(buffer.prefix(Int(length))), message: message)
            }
            // Ask for an interrupt on the next used buffer; drain again if one slipped in meanwhile.
            if rx.enableCallbacks() { continue }
            let now = MonotonicClock.nanoseconds()
            if now >= end { return nil }
            _ = try process.toHost.wait(timeout: .nanoseconds(Int64(min(end - now, 20_000_000))))
        }
    }

    /// Receives the next message, failing the test if none comes.
    func expectMessage(timeout: Duration = .seconds(5), sourceLocation: SourceLocation = #_sourceLocation) throws -> RpmsgMessage {
        try #require(try receive(timeout: timeout), "no message on vring0", sourceLocation: sourceLocation).message
    }

    /// The name-service message bytes a remote sends for `name` at `address`: rpmsg_hdr {address, 53, 0, 40, 0}
    /// and rpmsg_ns_msg {name, address, flags}, spelled out field by field.
    static func nameServiceBytes(_ name: String, address: UInt32, flags: UInt32) -> [UInt8] {
        var writer = ByteWriter(count: 56, order: .host)
        writer.put(address, at: 0)
        writer.put(UInt32(53), at: 4)
        writer.put(UInt32(0), at: 8)
        writer.put(UInt16(40), at: 12)
        writer.put(UInt16(0), at: 14)
        writer.put(bytes: Array(name.utf8), at: 16)
        writer.put(address, at: 48)
        writer.put(flags, at: 52)
        return writer.bytes
    }

    /// The orderly stop, then the exit status.
    func stop() throws -> ChildProcess.ExitStatus {
        let process = try process
        try host.requestStop(process)
        return try process.waitForExit()
    }
}

import AmpRpmsg
import AmpRpmsgVirtio
import AmpSystem
import AmpTestSupport
import AmpVirtio
import AmpWire
import Foundation
import Synchronization
import Testing

/// A small segment laid out like a remote's: mailboxes in the control page, vring0 and vring1, the buffer
/// pool, and a page standing for the loaded resource table with a vdev's gfeatures and status. The name is
/// unlinked at once (the mapping stays), so a failing test leaves nothing behind.
///
///   0x0000  control page (to-remote mailbox 0x180, to-host mailbox 0x1C0)
///   0x1000  vring0 (num 8, align 4096: 2 pages)        da 0x9F001000
///   0x3000  vring1                                      da 0x9F003000
///   0x5000  pool: 16 buffers of 512 bytes (8 RX, 8 TX)  da 0x9F005000
///   0x7000  "table": gfeatures at 0x700C, status at 0x7014
///
/// With a larger `num` (``wideNum``) the same order holds with bigger vrings and pool, the table last.
struct TestSegmentLayout {
    static let num = 8
    /// A vring size whose link lends several messages before posting their buffers again (64 receive
    /// buffers: batches of 8).
    static let wideNum = 64
    static let align = 4096
    static let daBase: UInt32 = 0x9F00_0000
    /// The default segment's size (0x8000).
    static let size = size(num: num)

    /// Bytes one vring of `num` entries takes, in whole pages.
    static func vringSpan(num: Int) -> Int {
        let total = (try? VringLayout(num: num, align: align).totalSize) ?? 0
        return (total + 4095) / 4096 * 4096
    }

    /// Offset of the "table" page for vrings of `num` entries (512-byte buffers).
    static func tableOffset(num: Int) -> Int { 0x1000 + 2 * vringSpan(num: num) + 2 * num * 512 }

    /// Segment size for vrings of `num` entries.
    static func size(num: Int) -> Int { tableOffset(num: num) + 0x1000 }

    static func layout(dfeatures: UInt32 = 1, bufferSize: Int = 512, num: Int = num) -> VirtioRpmsgLayout {
        let span = vringSpan(num: num)
        let transmit = 0x1000 + span
        let pool = transmit + span
        let table = tableOffset(num: num)
        return VirtioRpmsgLayout(
            receive: VirtioRpmsgVring(da: daBase + 0x1000, segmentOffset: 0x1000, num: num, align: align, notifyID: 0),
            transmit: VirtioRpmsgVring(
                da: daBase + UInt32(transmit), segmentOffset: transmit, num: num, align: align, notifyID: 1),
            pool: VirtioRpmsgBufferPool(
                da: daBase + UInt32(pool), segmentOffset: pool, count: RpmsgConstants.bufferCount(vringNum: num),
                bufferSize: bufferSize),
            deviceFeatures: dfeatures, statusOffset: table + 20, guestFeaturesOffset: table + 12)
    }

    static func makeSegment(size: Int = size) throws -> SharedMemorySegment {
        let name = "/ampsoc-test-virtio-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let segment = try SharedMemorySegment.create(name: name, size: size)
        try segment.unlink()
        return segment
    }
}

/// The remote side of a link, played on the test thread with AmpVirtio's device side: it sends on vring0
/// (into buffers the host posted) and receives on vring1, ringing the to-host doorbell like a firmware.
final class FakeRemote {
    let segment: SharedMemorySegment
    let layout: VirtioRpmsgLayout
    let sendQueue: VirtqueueDevice
    let receiveQueue: VirtqueueDevice
    /// The remote's end of the to-host doorbell (it rings it).
    let toHost: Doorbell
    /// The remote's end of the to-remote doorbell (kicks from the host land here).
    let toRemote: Doorbell

    init(segment: SharedMemorySegment, layout: VirtioRpmsgLayout, eventIndex: Bool) throws {
        self.segment = segment
        self.layout = layout
        let pool = layout.pool
        let base = segment.base
        let translate: VirtqueueDevice.AddressTranslation = { address, length in
            let start = UInt64(pool.da)
            let total = UInt64(pool.count * pool.bufferSize)
            guard address >= start, address - start <= total, UInt64(length) <= total - (address - start) else { return nil }
            return base + pool.segmentOffset + Int(address - start)
        }
        sendQueue = try VirtqueueDevice(
            name: "vring0", ring: base + layout.receive.segmentOffset, num: layout.receive.num,
            align: layout.receive.align, eventIndex: eventIndex, translate: translate)
        receiveQueue = try VirtqueueDevice(
            name: "vring1", ring: base + layout.transmit.segmentOffset, num: layout.transmit.num,
            align: layout.transmit.align, eventIndex: eventIndex, translate: translate)
        toHost = try Doorbell(segment: segment, mailboxOffset: ControlBlock.mailboxToHostOffset, kind: .futex)
        toRemote = try Doorbell(segment: segment, mailboxOffset: ControlBlock.mailboxToRemoteOffset, kind: .futex)
    }

    /// The vdev status byte the host wrote.
    var status: UInt8 { segment.base.load(fromByteOffset: layout.statusOffset, as: UInt8.self) }
    /// The gfeatures word the host wrote.
    var guestFeatures: UInt32 { segment.base.loadUnaligned(fromByteOffset: layout.guestFeaturesOffset, as: UInt32.self) }

    /// Sends one message in the next buffer the host posted; false when none is posted. `headerLength` and
    /// `usedLength` override the header's `len` and the used element's `len` (for hostile tests).
    @discardableResult
    func send(
        source: UInt32, destination: UInt32, payload: [UInt8], headerLength: UInt16? = nil, usedLength: UInt32? = nil
    ) throws -> Bool {
        guard let buffer = try sendQueue.takeAvailable() else { return false }
        var writer = ByteWriter(count: 16 + payload.count, order: .host)
        RpmsgHeader(source: source, destination: destination, length: headerLength ?? UInt16(payload.count))
            .write(to: &writer, at: 0)
        writer.put(bytes: payload, at: 16)
        let bytes = writer.bytes
        #expect(bytes.count <= Int(buffer.length))
        bytes.withUnsafeBytes { buffer.pointer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        try sendQueue.addUsed(head: buffer.head, length: usedLength ?? UInt32(bytes.count))
        if sendQueue.publishUsed() { try toHost.ring(notifyID: layout.receive.notifyID) }
        return true
    }

    /// Takes every message the host sent, returning the buffers; rings the host when the ring asks for it.
    func receive() throws -> [RpmsgMessage] {
        var messages = [RpmsgMessage]()
        while let buffer = try receiveQueue.takeAvailable() {
            #expect(!buffer.isDeviceWritable)
            let bytes = Array(UnsafeRawBufferPointer(start: buffer.pointer, count: Int(buffer.length)))
            messages.append(try RpmsgMessage.parse(bytes, order: .host))
            try receiveQueue.addUsed(head: buffer.head, length: 0)
        }
        if !messages.isEmpty, receiveQueue.publishUsed() { try toHost.ring(notifyID: layout.transmit.notifyID) }
        return messages
    }

    /// Takes and returns every buffer the host has posted on vring0 (to inspect them), without using them.
    func takeAllPosted() throws -> [AvailableBuffer] {
        var buffers = [AvailableBuffer]()
        while let buffer = try sendQueue.takeAvailable() { buffers.append(buffer) }
        return buffers
    }
}

/// A host link with its fake remote, service thread and bus, torn down by `finish()`.
final class LinkFixture {
    let segment: SharedMemorySegment
    let link: VirtioRpmsgLink
    let remote: FakeRemote
    let bus: RpmsgBus
    let thread: VirtioRpmsgInterruptThread
    let events = RpmsgEventRecorder()
    let registry: RpmsgDriverRegistry
    let failures = StringLog()

    init(
        dfeatures: UInt32 = 1, drivers: [any RpmsgDriver] = [], sendTimeout: Duration = .seconds(15),
        startThread: Bool = true, num: Int = TestSegmentLayout.num
    ) throws {
        segment = try TestSegmentLayout.makeSegment(size: TestSegmentLayout.size(num: num))
        let layout = TestSegmentLayout.layout(dfeatures: dfeatures, num: num)
        let toRemote = try Doorbell(segment: segment, mailboxOffset: ControlBlock.mailboxToRemoteOffset, kind: .futex)
        let toHost = try Doorbell(segment: segment, mailboxOffset: ControlBlock.mailboxToHostOffset, kind: .futex)
        link = try VirtioRpmsgLink(name: "test.vdev0", segment: segment, layout: layout, toRemote: toRemote, toHost: toHost)
        remote = try FakeRemote(
            segment: segment, layout: layout,
            eventIndex: VirtioFeatureBit.ringEventIndex.isSet(in: link.negotiatedFeatures))
        registry = RpmsgDriverRegistry(events: events)
        for driver in drivers { try registry.register(driver) }
        let failures = self.failures
        bus = link.attach(registry: registry, sendTimeout: sendTimeout) { detail in
            failures.append(detail)
        }
        thread = VirtioRpmsgInterruptThread(name: "test rpmsg", doorbell: toHost, links: [link])
        if startThread { thread.start() }
    }

    /// The order a host uses: close, join the service thread, take the link down.
    func finish() {
        link.close()
        #expect(thread.stop())
        link.shutDown()
    }
}

/// A 40-byte name-service message in host byte order.
func nameServiceMessage(_ name: String, address: UInt32, flags: UInt32 = 0) -> [UInt8] {
    var writer = ByteWriter(count: 40, order: .host)
    writer.put(bytes: Array(name.utf8), at: 0)
    writer.put(address, at: 32)
    writer.put(flags, at: 36)
    return writer.bytes
}

/// Collects messages delivered to an endpoint.
final class Inbox: Sendable {
    private let messages = Mutex<[(source: UInt32, payload: [UInt8])]>([])
    var all: [(source: UInt32, payload: [UInt8])] { messages.withLock { $0 } }
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

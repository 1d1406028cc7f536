// The ring state of one virtio rpmsg link: both virtqueues (driver side), the buffer pool's bookkeeping,
// and the inbox of messages already copied out of shared memory. Every method runs with the link's lock
// held (VirtioRpmsgLink owns the lock); nothing here blocks or calls out.
//
// Receive (vring0): every receive buffer (pool indices 0 ..< count/2) is posted once as one device-writable
// descriptor of bufferSize bytes, token = its pool index. `pullInbound` takes a used buffer, copies the
// `len` bytes the remote reports into private memory (the remote may keep writing the shared buffer), posts
// the SAME buffer again at once, and only then parses the copy, so no message, good or bad, ever costs a
// buffer (Linux leaks one on an oversize message). The copy is parsed with explicit offsets (AmpWire's
// RpmsgMessage): used.len >= 16 and rpmsg_hdr.len <= used.len - 16, or it is a violation.
//
// Transmit (vring1): pool indices count/2 ..< count. A buffer is fresh (never used) until all were handed
// out, then recycled from the used ring; one read-only descriptor of 16 + payload bytes per message.
// Callbacks (interrupts) on vring1 are off except while a sender waits for a buffer.
//
// Trust: VirtqueueDriver validates every index and length the remote writes in the used rings; tokens and
// buffer indices are the host's own and never read from shared memory.

import AmpRpmsg
import AmpVirtio
import AmpWire

/// A message the receive path took from vring0, in arrival order.
enum VirtioRpmsgInbound {
    /// A well-formed message for the bus.
    case message(RpmsgMessage)
    /// A message whose addresses cannot be delivered (src or dst ANY): reported and dropped, not fatal.
    case rejected(String)
}

/// What one ``VirtioRpmsgRings/pullInbound(limit:)`` did.
struct VirtioRpmsgPull {
    /// Buffers taken from the used ring (and posted again).
    var pulled = 0
    /// Whether vring0 must be kicked for the re-posted buffers.
    var kick = false
    /// A fatal protocol violation found on the way, naming queue, field and value.
    var violation: String?
}

/// Both virtqueues of one link and the pool's bookkeeping. Not thread-safe: guarded by the link's lock.
final class VirtioRpmsgRings {
    let receive: VirtqueueDriver
    let transmit: VirtqueueDriver
    let pool: VirtioRpmsgBufferPool
    /// Start of the segment mapping (buffers are at `base + pool.segmentOffset(ofBuffer:)`).
    private let base: UnsafeMutableRawPointer
    /// The next never-used transmit buffer (pool index).
    private var freshTransmit: Int
    /// Transmit buffers returned by the remote, ready for reuse (pool indices).
    private var recycledTransmit: [Int] = []
    /// Messages copied out of vring0 and not yet delivered (`inbox[inboxHead...]`).
    private var inbox: [VirtioRpmsgInbound] = []
    private var inboxHead = 0
    /// Most messages the inbox holds; a receive path that is full stops taking buffers (back-pressure).
    let inboxCapacity: Int

    /// Set once the link is stopping: senders fail, the receive path stops.
    var closed = false
    /// The first fatal violation; the rings are not touched again.
    var failure: String?
    /// Senders waiting for a transmit buffer (vring1 callbacks are on while this is non-zero).
    private(set) var waitingSenders = 0
    var counters = VirtioRpmsgLinkCounters()

    /// Creates both virtqueues over the segment (zeroing the rings, as remoteproc does when it sets up a
    /// virtqueue). `layout` must have been validated against the mapping at `base`.
    init(base: UnsafeMutableRawPointer, layout: VirtioRpmsgLayout, eventIndex: Bool) throws(VirtqueueError) {
        self.base = base
        pool = layout.pool
        receive = try VirtqueueDriver(
            name: "vring0", ring: base + layout.receive.segmentOffset, num: layout.receive.num,
            align: layout.receive.align, eventIndex: eventIndex)
        transmit = try VirtqueueDriver(
            name: "vring1", ring: base + layout.transmit.segmentOffset, num: layout.transmit.num,
            align: layout.transmit.align, eventIndex: eventIndex)
        freshTransmit = layout.pool.receiveCount
        inboxCapacity = max(64, 4 * layout.pool.receiveCount)
    }

    /// Whether the link can still move messages.
    var isUsable: Bool { !closed && failure == nil }

    // MARK: Receive

    /// Posts every receive buffer (Linux's probe) and publishes them. Returns whether vring0 needs a kick.
    func postReceiveBuffers() throws(VirtqueueError) -> Bool {
        for index in 0..<pool.receiveCount {
            try postReceive(index)
        }
        return receive.publish()
    }

    private func postReceive(_ index: Int) throws(VirtqueueError) {
        try receive.add(
            address: UInt64(pool.da(ofBuffer: index)), length: UInt32(pool.bufferSize), deviceWritable: true, token: index)
    }

    /// Receive buffers currently posted to the remote (all of them, unless the link broke mid-way).
    var postedReceiveBuffers: Int { receive.outstandingCount }

    /// Takes up to `limit` used buffers from vring0 into the inbox (while it has room), posting each buffer
    /// again before parsing its copy. Stops at the first violation, after re-posting that buffer too.
    func pullInbound(limit: Int) -> VirtioRpmsgPull {
        var result = VirtioRpmsgPull()
        guard isUsable else { return result }
        var reposted = false
        while result.pulled < limit, inboxCount < inboxCapacity {
            let used: (token: Int, length: UInt32)?
            do {
                used = try receive.takeUsed()
            } catch {
                result.violation = error.message
                break
            }
            guard let used else { break }
            let index = used.token
            let length = Int(used.length)
            let bytes = Array(UnsafeRawBufferPointer(start: base + pool.segmentOffset(ofBuffer: index), count: length))
            do {
                try postReceive(index)
                reposted = true
            } catch {
                result.violation = error.message
                break
            }
            result.pulled += 1
            counters.received += 1
            do {
                let message = try RpmsgMessage.parse(bytes, order: .host, validLength: length)
                if message.source == RpmsgConstants.addressAny || message.destination == RpmsgConstants.addressAny {
                    counters.rejected += 1
                    append(.rejected(
                        "vring0: buffer \(index): message \(hex(message.source)) -> \(hex(message.destination)) "
                            + "names address ANY; dropped"))
                } else {
                    append(.message(message))
                }
            } catch {
                result.violation =
                    "vring0: buffer \(index) (da \(hex(pool.da(ofBuffer: index)))), used.len \(length): \(error.description)"
                break
            }
        }
        if reposted { result.kick = receive.publish() }
        return result
    }

    /// Asks for an interrupt on the next used buffer of vring0 and says whether one is already pending.
    func rearmReceive() -> Bool {
        isUsable ? receive.enableCallbacks() : false
    }

    /// The oldest undelivered message, if any (nil once the link is closed).
    func popInbound() -> VirtioRpmsgInbound? {
        guard !closed, inboxHead < inbox.count else { return nil }
        let item = inbox[inboxHead]
        inboxHead += 1
        if inboxHead == inbox.count {
            inbox.removeAll(keepingCapacity: true)
            inboxHead = 0
        }
        return item
    }

    private var inboxCount: Int { inbox.count - inboxHead }

    private func append(_ item: VirtioRpmsgInbound) {
        if inboxHead > 64, inboxHead * 2 > inbox.count {
            inbox.removeFirst(inboxHead)
            inboxHead = 0
        }
        inbox.append(item)
    }

    // MARK: Transmit

    /// A transmit buffer (pool index) with a free descriptor to carry it, or nil when none is free now:
    /// fresh buffers first, as Linux hands them out, then buffers the remote returned.
    func acquireTransmitBuffer() throws(VirtqueueError) -> Int? {
        if transmit.freeCount == 0 || (freshTransmit == pool.count && recycledTransmit.isEmpty) {
            try reclaimTransmitted()
        }
        guard transmit.freeCount > 0 else { return nil }
        if freshTransmit < pool.count {
            defer { freshTransmit += 1 }
            return freshTransmit
        }
        return recycledTransmit.popLast()
    }

    /// Copies `frame` (header and payload) into transmit buffer `index`, adds it to vring1 and publishes it.
    /// Returns whether vring1 needs a kick. On failure the buffer stays the host's.
    func transmit(_ frame: [UInt8], inBuffer index: Int) throws(VirtqueueError) -> Bool {
        frame.withUnsafeBytes { bytes in
            guard let source = bytes.baseAddress else { return }
            (base + pool.segmentOffset(ofBuffer: index)).copyMemory(from: source, byteCount: bytes.count)
        }
        do {
            try transmit.add(
                address: UInt64(pool.da(ofBuffer: index)), length: UInt32(frame.count), deviceWritable: false, token: index)
        } catch {
            recycledTransmit.append(index)
            throw error
        }
        counters.transmitted += 1
        return transmit.publish()
    }

    /// Takes every buffer the remote returned on vring1 back into the recycled list; returns how many.
    @discardableResult
    func reclaimTransmitted() throws(VirtqueueError) -> Int {
        var count = 0
        while let used = try transmit.takeUsed() {
            recycledTransmit.append(used.token)
            count += 1
        }
        return count
    }

    /// Transmit buffers the host holds right now (fresh and recycled; not counting used ones not yet taken).
    var freeTransmitBuffers: Int { recycledTransmit.count + (pool.count - freshTransmit) }

    /// A sender starts waiting for a transmit buffer (vring1 callbacks stay on until the last one stops).
    func beginWaiting() {
        waitingSenders += 1
        counters.blockedSends += 1
    }

    /// Asks for an interrupt on the next buffer the remote returns on vring1 (again before every sleep: with
    /// EVENT_IDX the request names the next used index, which moves as buffers are reclaimed). Returns true
    /// when used buffers are already pending: reclaim them instead of sleeping.
    func rearmTransmit() -> Bool {
        isUsable ? transmit.enableCallbacks() : false
    }

    /// A sender stops waiting: the last one turns vring1 callbacks off again.
    func endWaiting() {
        waitingSenders -= 1
        if waitingSenders == 0, isUsable { transmit.disableCallbacks() }
    }
}

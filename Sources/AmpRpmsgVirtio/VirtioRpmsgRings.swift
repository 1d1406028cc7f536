// The ring state of one virtio rpmsg link: both virtqueues (driver side), the buffer pool's bookkeeping,
// and the inbox of messages already copied out of shared memory. Every method runs with the link's lock
// held (VirtioRpmsgLink owns the lock); nothing here blocks or calls out.
//
// Receive (vring0): every receive buffer (pool indices 0 ..< count/2) is posted once as one device-writable
// descriptor of bufferSize bytes, token = its pool index. `pullInbound` takes a used buffer, copies its
// 16-byte header into a local (the remote may keep writing the shared buffer: the header is read once),
// checks used.len >= 16 and rpmsg_hdr.len <= used.len - 16, and then either
//   - lends the message in place (the service thread's passes): the payload stays in the buffer, which the
//     host holds until the callbacks have run and then posts again, in batches of `repostBatch` (or all of
//     them once a pass finds nothing new), so the remote's view of vring0's avail.idx changes once per
//     batch instead of once per message; at most 2 * repostBatch - 1 buffers are held, and a link with a
//     handful of buffers reposts after every pass;
//   - or copies the payload (rpmsg_hdr.len bytes) into the message's own array and posts the SAME buffer
//     again at once (a sender on the service thread pulling while it waits, whose messages are delivered
//     only after the callback it runs in returns).
// A malformed message's buffer is posted again at once, so no message, good or bad, costs a buffer (Linux
// leaks one on an oversize message). Fields are decoded at explicit offsets in the link's byte order
// (RawWireAccess); a header that fails the checks is handed to AmpWire's RpmsgMessage.parse for the error,
// which names the field and offset.
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
import CAmpShim

/// A message the receive path took from vring0, in arrival order.
enum VirtioRpmsgInbound {
    /// A well-formed message for the bus, copied out of its buffer.
    case message(source: UInt32, destination: UInt32, payload: [UInt8])
    /// A well-formed message for the bus, lent where it lies: its buffer is held until it is posted again
    /// (``VirtioRpmsgRings/repostHeld(violation:)``, after the message's delivery).
    case inPlace(source: UInt32, destination: UInt32, payload: UnsafeRawBufferPointer)
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
    // Per-message state is @exclusivity(unchecked): it is only touched with the link's lock held, and the
    // runtime's dynamic exclusivity checks would cost a thread-local lookup on every access.
    /// The next never-used transmit buffer (pool index).
    @exclusivity(unchecked) private var freshTransmit: Int
    /// Transmit buffers returned by the remote, ready for reuse (pool indices).
    /// First in, first out, so buffers cycle in the order the remote returned them and keep meeting the same
    /// descriptors (whose stores the virtqueue then skips).
    @exclusivity(unchecked) private var recycledTransmit = FirstInFirstOut<Int>(vacated: 0)
    /// Messages taken from vring0 and not yet delivered, oldest first.
    @exclusivity(unchecked) private var inbox: [VirtioRpmsgInbound] = []
    /// Receive buffers whose messages were lent in place, not yet posted again (pool indices).
    @exclusivity(unchecked) private var heldReceive: [Int] = []
    /// Lent receive buffers go back to the remote this many at a time (see the file comment).
    let repostBatch: Int
    /// Most messages the inbox holds; a receive path that is full stops taking buffers (back-pressure).
    let inboxCapacity: Int

    /// Set once the link is stopping: senders fail, the receive path stops.
    @exclusivity(unchecked) var closed = false
    /// The first fatal violation; the rings are not touched again.
    @exclusivity(unchecked) var failure: String?
    /// Senders waiting for a transmit buffer (vring1 callbacks are on while this is non-zero).
    @exclusivity(unchecked) private(set) var waitingSenders = 0
    @exclusivity(unchecked) var counters = VirtioRpmsgLinkCounters()

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
        inbox.reserveCapacity(inboxCapacity)
        repostBatch = max(1, min(Self.largestRepostBatch, layout.pool.receiveCount / 8))
        heldReceive.reserveCapacity(2 * repostBatch)
        order = ByteOrder.host
        headerSize = RpmsgHeader.size
        addressAny = RpmsgConstants.addressAny
    }

    // Read once here: reading another module's globals costs an accessor call on every message.
    private let order: ByteOrder
    private let headerSize: Int
    private let addressAny: UInt32

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

    /// Receive buffers currently posted to the remote (all of them, unless the link broke mid-way or holds
    /// some between an in-place delivery and their repost).
    var postedReceiveBuffers: Int { receive.outstandingCount }

    /// Receive buffers the host holds between an in-place delivery and their repost.
    var heldReceiveBuffers: Int { heldReceive.count }

    /// The largest ``repostBatch``.
    static let largestRepostBatch = 16

    /// Posts every held receive buffer again and publishes them; returns whether vring0 needs a kick. Call
    /// only once the messages lent from them were delivered. Nothing once the link is closed or broken; a
    /// ring that refuses a buffer leaves its message in `violation` (unless one is there already).
    func repostHeld(violation: inout String?) -> Bool {
        guard isUsable, !heldReceive.isEmpty else { return false }
        defer { heldReceive.removeAll(keepingCapacity: true) }
        do {
            for index in heldReceive {
                try postReceive(index)
            }
        } catch {
            violation = violation ?? error.message
            return false
        }
        return receive.publish()
    }

    /// Starts loading what the next ``pullInbound(limit:inPlace:)`` reads first: the next used element of vring0
    /// and the header of the buffer it most likely names (the remote returns buffers in the order they were
    /// posted). Both lines then arrive together instead of one after the other. A hint: nothing is trusted.
    /// Only the service thread calls it (vring0's state is its alone while it runs).
    func prefetchInbound() {
        guard let token = receive.prefetchLikelyNextUsed(), token >= 0, token < pool.receiveCount else { return }
        amp_prefetch(base + pool.segmentOffset(ofBuffer: token))
    }

    /// Whether messages wait in the inbox (pulled by a sender on the service thread).
    var hasInbox: Bool { !inbox.isEmpty }

    /// Takes up to `limit` used buffers from vring0 into the inbox (while it has room). In place: messages
    /// are lent where they lie and their buffers held (``repostHeld(violation:)`` posts them again); otherwise each is
    /// copied out and its buffer posted again at once. Stops at the first violation, after posting that
    /// buffer again.
    func pullInbound(limit: Int, inPlace: Bool) -> VirtioRpmsgPull {
        var result = VirtioRpmsgPull()
        guard isUsable else { return result }
        var reposted = false
        while result.pulled < limit, inbox.count < inboxCapacity {
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
            let buffer = base + pool.segmentOffset(ofBuffer: index)
            let header = WireHeaderCopy(buffer, count: length)
            let payloadLength = Int(header.u16(at: 12, order: order))
            let wellFormed = length >= headerSize && payloadLength <= length - headerSize
            var payload: [UInt8] = []
            if wellFormed, inPlace {
                heldReceive.append(index)
            } else {
                if wellFormed, payloadLength > 0 {
                    payload = [UInt8](unsafeUninitializedCapacity: payloadLength) { storage, initialized in
                        if let destination = storage.baseAddress {
                            UnsafeMutableRawPointer(destination).copyMemory(from: buffer + headerSize, byteCount: payloadLength)
                        }
                        initialized = payloadLength
                    }
                }
                do {
                    try postReceive(index)
                    reposted = true
                } catch {
                    result.violation = error.message
                    break
                }
            }
            result.pulled += 1
            counters.received += 1
            guard wellFormed else {
                result.violation =
                    "vring0: buffer \(index) (da \(hex(pool.da(ofBuffer: index)))), used.len \(length): \(malformation(header, length: length))"
                break
            }
            let source = header.u32(at: 0, order: order)
            let destination = header.u32(at: 4, order: order)
            if source == addressAny || destination == addressAny {
                counters.rejected += 1
                inbox.append(.rejected(
                    "vring0: buffer \(index): message \(hex(source)) -> \(hex(destination)) names address ANY; dropped"))
            } else if inPlace {
                inbox.append(.inPlace(
                    source: source, destination: destination,
                    payload: UnsafeRawBufferPointer(start: buffer + headerSize, count: payloadLength)))
            } else {
                inbox.append(.message(source: source, destination: destination, payload: payload))
            }
        }
        if reposted { result.kick = receive.publish() }
        return result
    }

    /// Why a header failed the checks, in the words of AmpWire's parser (field and offset), from the local
    /// copy: the header bytes as read, the rest zero (only the header and `length` matter to the checks).
    private func malformation(_ header: WireHeaderCopy, length: Int) -> String {
        var bytes = header.bytes
        bytes.append(contentsOf: repeatElement(0, count: max(0, length - bytes.count)))
        do {
            _ = try RpmsgMessage.parse(bytes, order: order, validLength: length)
            return "malformed rpmsg header"
        } catch {
            return error.description
        }
    }

    /// Asks for an interrupt on the next used buffer of vring0 and says whether one is already pending.
    func rearmReceive() -> Bool {
        isUsable ? receive.enableCallbacks() : false
    }

    /// Moves every undelivered message, oldest first, into `batch` (which must be empty; the two arrays swap
    /// storage, so neither allocates once both have grown). Nothing once the link is closed.
    func takeInbox(into batch: inout [VirtioRpmsgInbound]) {
        guard !closed, !inbox.isEmpty else { return }
        swap(&inbox, &batch)
    }

    // MARK: Transmit

    /// A transmit buffer (pool index) with a free descriptor to carry it, or nil when none is free now:
    /// fresh buffers first, as Linux hands them out, then buffers the remote returned.
    func acquireTransmitBuffer() throws(VirtqueueError) -> Int? {
        if transmit.freeCount == 0 || (freshTransmit == pool.count && recycledTransmit.isEmpty) {
            // A few at a time: taking back all 256 at once would make every 256th send several microseconds
            // slower than the others.
            try reclaimTransmitted(limit: Self.reclaimChunk)
        }
        guard transmit.freeCount > 0 else { return nil }
        if freshTransmit < pool.count {
            defer { freshTransmit += 1 }
            return freshTransmit
        }
        return recycledTransmit.removeFirst()
    }

    /// Writes rpmsg_hdr {source, destination, reserved 0, len, flags 0} and the payload into transmit buffer
    /// `index` (one bulk copy), adds it to vring1 and publishes it. Returns whether vring1 needs a kick. The
    /// caller checked that the payload fits the buffer and its length fits the u16 `len`. On failure the
    /// buffer stays the host's.
    func transmit(
        source: UInt32, destination: UInt32, payload: UnsafeRawBufferPointer, inBuffer index: Int
    ) throws(VirtqueueError) -> Bool {
        let buffer = base + pool.segmentOffset(ofBuffer: index)
        RawWireAccess.put(source, buffer, at: 0, order: order)
        RawWireAccess.put(destination, buffer, at: 4, order: order)
        RawWireAccess.put(UInt32(0), buffer, at: 8, order: order)
        RawWireAccess.put(UInt16(truncatingIfNeeded: payload.count), buffer, at: 12, order: order)
        RawWireAccess.put(UInt16(0), buffer, at: 14, order: order)
        if let bytes = payload.baseAddress, payload.count > 0 {
            (buffer + headerSize).copyMemory(from: bytes, byteCount: payload.count)
        }
        do {
            try transmit.add(
                address: UInt64(pool.da(ofBuffer: index)), length: UInt32(headerSize + payload.count),
                deviceWritable: false, token: index)
        } catch {
            recycledTransmit.append(index)
            throw error
        }
        counters.transmitted += 1
        return transmit.publish()
    }

    /// Buffers a sender that ran out takes back from vring1 at most at once.
    static let reclaimChunk = 32

    /// Takes the buffers the remote returned on vring1 (all of them, or at most `limit`) back into the
    /// recycled list; returns how many.
    @discardableResult
    func reclaimTransmitted(limit: Int = .max) throws(VirtqueueError) -> Int {
        var count = 0
        while count < limit, let used = try transmit.takeUsed() {
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

// Driver side of a legacy split virtqueue: the host's end, as Linux's virtio_ring is for virtio_rpmsg_bus.
//
// Protocol (virtio split ring, legacy layout; fields in VringMemory.swift):
//   1. add: take a free descriptor, write desc[head] = {addr, len, WRITE if the device fills it, next 0}
//      and avail.ring[avail_idx % num] = head. Nothing is visible to the device yet.
//   2. publish: release-store avail.idx (the device acquire-loads it, so the descriptor and ring entry are
//      visible first), full fence, then read the device's suppression state: avail_event with EVENT_IDX
//      (notify when the move old -> new crossed it), else used.flags & NO_NOTIFY.
//   3. takeUsed: acquire-load used.idx; each element below it names a head the device is done with and the
//      bytes it wrote; the descriptor returns to the free list.
//   4. callbacks: NO_INTERRUPT in avail.flags, or used_event = the next used index we want an interrupt for.
//
// Trust: the device may be buggy or hostile and may write any byte of the ring at any time. The driver
// therefore keeps its own shadow of every descriptor it posted (address, length, direction, caller token,
// state) and never reads the descriptor table or the available ring back. Everything it does read (used.idx,
// used elements, used.flags, avail_event) is read once and validated; a violation breaks the queue for good
// (until `reset()`), and the caller then treats the remote as crashed.
//
// Cache traffic: a descriptor or avail entry is stored only when it differs from what the driver itself
// wrote there last (rpmsg re-posts a buffer on the head it came back on), so the device's cached copy of
// the line survives. A device that scribbles on those fields only misleads itself.

import AmpWire
import CAmpShim

/// The driver (host) side of one split virtqueue over shared memory.
///
/// Not thread-safe: one thread (or one serial context) drives a queue. The hot paths (`add`, `publish`,
/// `takeUsed`) neither allocate nor call closures; messages are built only when an error is thrown.
public final class VirtqueueDriver {
    /// Queue name used in every error message (e.g. "vring0").
    public let name: String
    /// Offsets of the ring's fields.
    public let layout: VringLayout
    /// Whether VIRTIO_RING_F_EVENT_IDX was negotiated (used_event / avail_event instead of the flags).
    public let eventIndex: Bool
    /// Number of descriptors.
    public var num: Int { layout.num }

    private let memory: VringMemory
    /// The driver's own record of every descriptor, indexed by head.
    private let shadow: UnsafeMutableBufferPointer<PostedDescriptor>
    /// What the driver last wrote to each avail.ring slot (a private copy of avail.ring); the slots from
    /// `publishedAvail` to `nextAvail` are the heads added since the last publish.
    private let availShadow: UnsafeMutableBufferPointer<UInt16>
    /// Queue of free heads (a ring of num entries): `freeCount` heads from `freeHeads[freeFirst]` on,
    /// wrapping. First in, first out, so heads are reused in the order the device returned them: buffers
    /// that cycle in a fixed order (rpmsg's transmit buffers) keep meeting the same heads and avail slots,
    /// and the stores `add` skips for unchanged entries stay skipped.
    private let freeHeads: UnsafeMutableBufferPointer<UInt16>
    private var freeFirst = 0
    private var freeTotal = 0
    /// The avail index the next `add` writes (ahead of `publishedAvail` by the unpublished count).
    private var nextAvail: UInt16 = 0
    /// avail.idx as of the last `publish()` ("old" in need_event).
    private var publishedAvail: UInt16 = 0
    /// The next used index to consume.
    private var lastUsed: UInt16 = 0
    /// used.idx as last observed and validated (`lastUsed ..< observedUsed` are ready to consume).
    private var observedUsed: UInt16 = 0
    /// Descriptors published and not yet returned: the most the device may return.
    private var inFlight = 0
    /// The violation that broke the queue, thrown again by every later call.
    private var failure: VirtqueueError?
    /// What the driver last stored in its callback-suppression field (avail.flags, or used_event with
    /// EVENT_IDX); the field is written only when the value changes, so the device's cached copy survives.
    private var suppressionShadow: UInt16 = 0

    /// Running totals.
    public var counters: VirtqueueDriverCounters { tallies }
    // Stored privately: updating a public stored property of a class costs a runtime exclusivity check.
    private var tallies = VirtqueueDriverCounters()

    /// Creates the driver of the ring at `ring` and zeroes the ring (as remoteproc does when it sets up a
    /// virtqueue).
    ///
    /// - Parameters:
    ///   - name: queue name for messages, e.g. "vring0".
    ///   - ring: start of the ring memory (16-byte aligned), at least `VringLayout(num:align:).totalSize` bytes.
    ///   - num: number of descriptors (power of two, at most 32768).
    ///   - align: used-ring alignment (power of two; the used ring must land on a 4-byte boundary).
    ///   - eventIndex: whether VIRTIO_RING_F_EVENT_IDX was negotiated.
    /// - Throws: `VirtqueueError.Code.invalidArgument` naming the queue and the rejected parameter.
    public init(name: String, ring: UnsafeMutableRawPointer, num: Int, align: Int, eventIndex: Bool) throws(VirtqueueError) {
        let memory = try VringMemory(name: name, ring: ring, num: num, align: align)
        self.name = name
        self.memory = memory
        self.layout = memory.layout
        self.eventIndex = eventIndex
        shadow = .allocate(capacity: num)
        shadow.initialize(repeating: PostedDescriptor())
        availShadow = .allocate(capacity: num)
        availShadow.initialize(repeating: 0)
        freeHeads = .allocate(capacity: num)
        freeHeads.initialize(repeating: 0)
        reset()
    }

    deinit {
        shadow.deallocate()
        availShadow.deallocate()
        freeHeads.deallocate()
    }

    /// Zeroes the ring and forgets every posted buffer, the indices and a previous violation (counters are
    /// kept). Call it only while the device is not using the ring (stopped or crashed); collect the tokens of
    /// buffers still posted with `outstandingTokens()` first if they must be recycled.
    public func reset() {
        memory.zero()
        for head in 0..<num {
            shadow[head] = PostedDescriptor()
            // In order: the first `add` takes head 0, the next head 1, and so on.
            freeHeads[head] = UInt16(truncatingIfNeeded: head)
        }
        freeFirst = 0
        freeTotal = num
        nextAvail = 0
        publishedAvail = 0
        lastUsed = 0
        observedUsed = 0
        inFlight = 0
        failure = nil
        suppressionShadow = 0
    }

    /// Test hook (internal): moves an idle queue's free-running indices to `index`, as if `index` buffers had
    /// already made the round trip, and writes avail.idx. Lets tests reach the 16-bit wrap without 65535
    /// round trips; pair it with the device's hook. Does nothing unless every descriptor is free.
    func startIndices(at index: UInt16) {
        guard freeTotal == num, failure == nil else { return }
        nextAvail = index
        publishedAvail = index
        lastUsed = index
        observedUsed = index
        memory.publishAvailIndex(index)
    }

    // MARK: State

    /// Descriptors free for `add`.
    public var freeCount: Int { freeTotal }
    /// Descriptors added and not yet returned by `takeUsed()` (published or not).
    public var outstandingCount: Int { num - freeTotal }
    /// Whether a protocol violation broke the queue; every later call throws (or reports) that violation.
    public var isBroken: Bool { failure != nil }
    /// The violation that broke the queue, if any.
    public var brokenError: VirtqueueError? { failure }

    /// The caller tokens of every buffer added and not yet returned, in head order. For recovery after the
    /// device stopped or broke the queue (Linux's `virtqueue_detach_unused_buf`); allocates.
    public func outstandingTokens() -> [Int] {
        (0..<num).compactMap { shadow[$0].state == .free ? nil : shadow[$0].token }
    }

    // MARK: Posting

    /// Posts one buffer as a single descriptor and adds it to the available ring. The device does not see it
    /// until `publish()`.
    ///
    /// - Parameters:
    ///   - address: device address of the buffer.
    ///   - length: buffer size in bytes (not 0).
    ///   - deviceWritable: true when the device fills the buffer (VRING_DESC_F_WRITE), false when it reads it.
    ///   - token: caller value returned by `takeUsed()` with this buffer.
    /// - Throws: the violation that broke the queue; `noSpace` when every descriptor is outstanding;
    ///   `invalidArgument` for a zero length.
    public func add(address: UInt64, length: UInt32, deviceWritable: Bool, token: Int) throws(VirtqueueError) {
        if let failure { throw failure }
        guard length != 0 else {
            throw VirtqueueError(.invalidArgument, "\(name): add: buffer length 0 (address 0x\(String(address, radix: 16)))")
        }
        guard freeTotal > 0 else {
            throw VirtqueueError(.noSpace, "\(name): add: all \(num) descriptors are outstanding")
        }
        let head = freeHeads[freeFirst]
        freeFirst = (freeFirst + 1) & (num - 1)
        freeTotal -= 1
        let slot = layout.slot(of: nextAvail)
        let previous = shadow[Int(head)]
        shadow[Int(head)] = PostedDescriptor(
            address: address, length: length, token: token, state: .added, isDeviceWritable: deviceWritable)
        // Stores are skipped when the table already holds the value we wrote there last time (a buffer
        // re-posted on the head it came back on, the usual rpmsg pattern): the device's cached copy of the
        // line then stays valid, saving a cache-line transfer each way. Only we write these fields; if the
        // device scribbled on them, it reads back its own scribble, which the driver never trusts anyway.
        if previous.address != address || previous.length != length || previous.isDeviceWritable != deviceWritable {
            let flags = deviceWritable ? memory.writeFlag : 0
            memory.storeDescriptor(Int(head), address: address, length: length, flags: flags, next: 0)
        }
        if availShadow[slot] != head {
            availShadow[slot] = head
            memory.storeAvailEntry(slot: slot, head: head)
        }
        nextAvail &+= 1
        tallies.added &+= 1
    }

    /// Makes every buffer added since the last publish visible to the device and says whether the device
    /// must be notified (kicked).
    ///
    /// With EVENT_IDX the answer is need_event(avail_event, new avail.idx, avail.idx at the previous publish);
    /// without, it is `used.flags & NO_NOTIFY == 0`. Returns false when nothing was added since the last
    /// publish or the queue is broken. Spurious notifications are harmless, missing ones are not: a true
    /// answer must be followed by a kick.
    public func publish() -> Bool {
        guard failure == nil else { return false }
        let old = publishedAvail
        let new = nextAvail
        guard new != old else { return false }
        // Release store: orders the descriptor and avail.ring writes of `add` before the new avail.idx, so a
        // device that acquire-loads the index sees complete entries.
        memory.publishAvailIndex(new)
        // Full fence: orders the avail.idx store before the loads of avail_event / used.flags below. Without
        // it the loads could be satisfied before the store is visible; the device could meanwhile re-enable
        // notifications, re-check avail.idx (still old) and sleep while we skip the kick.
        amp_fence_seq_cst()
        var index = old
        while index != new {
            shadow[Int(availShadow[layout.slot(of: index)])].state = .inFlight
            index &+= 1
        }
        inFlight += Int(new &- old)
        publishedAvail = new
        let notify: Bool
        if eventIndex {
            notify = VringIndex.needEvent(event: memory.availEvent(), new: new, old: old)
        } else {
            notify = memory.usedFlags() & memory.noNotifyFlag == 0
        }
        if notify { tallies.notifications &+= 1 } else { tallies.suppressedNotifications &+= 1 }
        return notify
    }

    // MARK: Completion

    /// Takes the next buffer the device returned, or nil when none is pending.
    ///
    /// Validates what the device wrote: used.idx may not run ahead by more than the buffers in flight, each
    /// element's id must be a head that is published and not yet returned, and for a device-writable buffer
    /// the length may not exceed the posted length (for a read-only buffer the device's length is ignored and
    /// 0 returned).
    ///
    /// - Returns: the token given to `add` and the number of bytes the device wrote.
    /// - Throws: `protocolViolation` naming the queue, field and value; the queue is then broken and every
    ///   later call throws the same error.
    public func takeUsed() throws(VirtqueueError) -> (token: Int, length: UInt32)? {
        if let failure { throw failure }
        if lastUsed == observedUsed {
            // Acquire load: pairs with the device's release store of used.idx, so the used elements below the
            // new index are read after they were written.
            let current = memory.observeUsedIndex()
            let fresh = Int(current &- lastUsed)
            if fresh == 0 { return nil }
            guard fresh <= inFlight else {
                throw violation(
                    "used.idx = \(current): jumps \(fresh) entries past the last consumed index \(lastUsed), "
                        + "but only \(inFlight) buffers are in flight")
            }
            observedUsed = current
        }
        let slot = layout.slot(of: lastUsed)
        let id = memory.usedElementID(slot: slot)
        let written = memory.usedElementLength(slot: slot)
        guard id < UInt32(num) else {
            throw violation("used.ring[\(slot)].id = \(id): not below num \(num)")
        }
        let head = Int(id)
        let posted = shadow[head]
        guard posted.state == .inFlight else {
            let what = posted.state == .free ? "not outstanding (never posted or already returned)" : "added but not yet published"
            throw violation("used.ring[\(slot)].id = \(id): descriptor \(id) is \(what)")
        }
        var length: UInt32 = 0
        if posted.isDeviceWritable {
            guard written <= posted.length else {
                throw violation(
                    "used.ring[\(slot)].len = \(written): exceeds the \(posted.length) bytes posted in descriptor \(id)")
            }
            length = written
        }
        shadow[head].state = .free
        freeHeads[(freeFirst + freeTotal) & (num - 1)] = UInt16(truncatingIfNeeded: head)
        freeTotal += 1
        inFlight -= 1
        lastUsed &+= 1
        tallies.used &+= 1
        return (posted.token, length)
    }

    /// The token of the buffer the device will most likely return next, and starts loading the used element
    /// that will say so: a device that completes buffers in the order it took them (as rpmsg remotes do)
    /// returns the one published longest ago. Only a hint for prefetching, never trusted (``takeUsed()``
    /// checks what the device wrote); nil when nothing is in flight.
    public func prefetchLikelyNextUsed() -> Int? {
        guard failure == nil, inFlight > 0 else { return nil }
        let slot = layout.slot(of: lastUsed)
        memory.prefetchUsedElement(slot: slot)
        let head = Int(availShadow[slot])
        guard head < num, shadow[head].state == .inFlight else { return nil }
        return shadow[head].token
    }

    /// Asks the device not to interrupt when it returns buffers (a hint: interrupts may still arrive).
    /// Without EVENT_IDX sets NO_INTERRUPT in avail.flags; with it, moves used_event behind the consumed
    /// index, where the device's used.idx cannot cross it before the driver has consumed another 32768
    /// entries. (Like `enableCallbacks`, it stores only when the field does not already hold a suitable value.)
    public func disableCallbacks() {
        if eventIndex {
            // A used_event already 1...32768 entries behind the consumed index stays: the device, at most num
            // (<= 32768) entries ahead of it, cannot reach it, and leaving it unwritten keeps the device's
            // cached copy of the line. It is moved again only after the driver consumed 32768 more entries.
            guard !VringIndex.isSuppressedBehind(event: suppressionShadow, index: lastUsed) else { return }
            storeSuppression(lastUsed &- 1)
        } else {
            storeSuppression(memory.noInterruptFlag)
        }
    }

    /// Whether the device returned buffers that `takeUsed()` has not handed out yet (true on a broken queue,
    /// so the caller calls `takeUsed()` and gets the error). One acquire load: cheap enough to poll.
    public var hasPendingUsed: Bool {
        guard failure == nil else { return true }
        return lastUsed != observedUsed || memory.observeUsedIndex() != lastUsed
    }

    /// Looks for newly returned buffers up to `looks` times, with the CPU's pause hint between looks, and says
    /// whether some arrived (or the queue is broken). For a driver that just drained the used ring and expects
    /// more at once: finding it here saves a trip through its wait. Same thread rules as ``hasPendingUsed``.
    public func awaitUsed(looks: Int) -> Bool {
        VirtqueuePolling.linger(looks: looks) { hasPendingUsed }
    }

    /// The next used index `takeUsed()` will consume; pair it with ``usedIndexDiffers(from:)``.
    public var consumedUsedIndex: UInt16 { lastUsed }

    /// Whether used.idx in the ring differs from `index` (one acquire load of the shared field, nothing
    /// else: unlike the rest of this class it may be called from a thread that does not drive the queue,
    /// e.g. a sender that waits for buffers without holding the lock that guards the queue; the answer is
    /// only a hint to call `takeUsed()`, which validates).
    public func usedIndexDiffers(from index: UInt16) -> Bool {
        memory.observeUsedIndex() != index
    }

    /// Spins (with the CPU's pause hint) until ``usedIndexDiffers(from:)`` `mark` or `expired` (asked every
    /// 32 iterations) returns true. Safe from any thread, as ``usedIndexDiffers(from:)``.
    public func spin(untilUsedIndexLeaves mark: UInt16, expired: () -> Bool) {
        var iterations: UInt32 = 0
        while !usedIndexDiffers(from: mark) {
            amp_cpu_relax()
            iterations &+= 1
            if iterations & 31 == 0, expired() { return }
        }
    }

    /// Stores avail.flags (or used_event with EVENT_IDX) unless it already holds `value` from our last store.
    @inline(__always)
    private func storeSuppression(_ value: UInt16) {
        guard value != suppressionShadow else { return }
        suppressionShadow = value
        if eventIndex {
            memory.storeUsedEvent(value)
        } else {
            memory.storeAvailFlags(value)
        }
    }

    /// Asks the device to interrupt when it returns the next buffer, and says whether used entries are
    /// already pending. When it returns true the caller must drain `takeUsed()` again rather than wait: the
    /// device may have returned buffers before it could see the request (and so sent no interrupt).
    ///
    /// Without EVENT_IDX clears NO_INTERRUPT; with it, sets used_event to the next index to consume. Returns
    /// true on a broken queue, so the caller calls `takeUsed()` and gets the error.
    public func enableCallbacks() -> Bool {
        guard failure == nil else { return true }
        storeSuppression(eventIndex ? lastUsed : 0)
        // Full fence: orders the used_event / flags store before the used.idx load below (the device does the
        // mirror image in publishUsed), so either the device sees the request and interrupts, or we see its
        // new used.idx here.
        amp_fence_seq_cst()
        return memory.observeUsedIndex() != lastUsed
    }

    // MARK: Failure

    /// Breaks the queue with a protocol violation naming the queue and returns the error to throw.
    private func violation(_ detail: String) -> VirtqueueError {
        let error = VirtqueueError(.protocolViolation, "\(name): \(detail)")
        failure = error
        tallies.violations &+= 1
        return error
    }
}

/// The driver's private record of one descriptor.
private struct PostedDescriptor {
    enum State: UInt8 {
        /// On the free list.
        case free
        /// Added to the available ring but not yet published: the device cannot know it.
        case added
        /// Published and not yet returned: the device may return it exactly once.
        case inFlight
    }

    var address: UInt64 = 0
    var length: UInt32 = 0
    var token: Int = 0
    var state: State = .free
    var isDeviceWritable = false
}

// Device side of a legacy split virtqueue: a remote core's end, as OpenAMP's remote role is.
//
// Protocol (virtio split ring, legacy layout; fields in VringMemory.swift):
//   1. takeAvailable: acquire-load avail.idx; the entry avail.ring[last_avail % num] names a head
//      descriptor; read the chain from the descriptor table and translate its address.
//   2. addUsed: write used.ring[used_idx % num] = {head, bytes written}. Not yet visible to the driver.
//   3. publishUsed: release-store used.idx, full fence, then read the driver's suppression state:
//      used_event with EVENT_IDX (interrupt when the move old -> new crossed it), else
//      avail.flags & NO_INTERRUPT.
//   4. notifications: NO_NOTIFY in used.flags, or avail_event = the next avail index we want a kick for.
//
// Trust: the device must not trap whatever the driver wrote. Every index read from the ring is checked
// against num before use, chains are followed at most num steps, INDIRECT is refused (not negotiated), an
// address the translation rejects is refused, and avail.idx may not run ahead by more than num buffers.
// Every field is read once into a local before it is checked. A violation breaks the queue (sticky until
// `reset()`); the caller reports it and stops using the ring.
//
// Cache traffic: a used element is stored only when it differs from what the device itself wrote in that
// slot since `init`/`reset` (the same head returned with the same length a lap later), so the driver's
// cached copy of the line survives.

import AmpWire
import CAmpShim

/// The device (remote-core) side of one split virtqueue over shared memory.
///
/// Not thread-safe: one thread serves a queue. The hot paths (`takeAvailable`, `addUsed`, `publishUsed`)
/// do not allocate; `takeAvailable` calls the stored address translation once per buffer.
public final class VirtqueueDevice {
    /// Translates a device address and length into a pointer in this process, or nil when the range is not
    /// entirely inside memory the device may touch.
    public typealias AddressTranslation = (_ address: UInt64, _ length: UInt32) -> UnsafeMutableRawPointer?

    /// Queue name used in every error message (e.g. "vring1").
    public let name: String
    /// Offsets of the ring's fields.
    public let layout: VringLayout
    /// Whether VIRTIO_RING_F_EVENT_IDX was negotiated.
    public let eventIndex: Bool
    /// Number of descriptors.
    public var num: Int { layout.num }

    private let memory: VringMemory
    private let translate: AddressTranslation
    /// Per head: whether the device holds it (taken, not yet returned with addUsed).
    private let isHeld: UnsafeMutableBufferPointer<Bool>
    /// Per held head: the most bytes `addUsed` may report.
    private let usedLimit: UnsafeMutableBufferPointer<UInt32>
    /// Per used slot: the element this side last wrote there (id in the high half, len in the low half), or
    /// `unknownElement` when this side has not written the slot since `init`/`reset`.
    private let usedMirror: UnsafeMutableBufferPointer<UInt64>
    /// Never a real element: ids are below num <= 32768.
    private static let unknownElement = UInt64.max
    /// Per head: the last address and length translated for it and the result, so that a descriptor the
    /// driver re-posts unchanged (the usual rpmsg pattern) costs no call of the translation closure.
    private let translations: UnsafeMutableBufferPointer<CachedTranslation>
    private var heldCount = 0
    /// The next avail index to consume.
    private var lastAvail: UInt16 = 0
    /// avail.idx as last observed and validated (`lastAvail ..< observedAvail` are ready to take).
    private var observedAvail: UInt16 = 0
    /// The used index the next `addUsed` writes.
    private var nextUsed: UInt16 = 0
    /// used.idx as of the last `publishUsed()` ("old" in need_event).
    private var publishedUsed: UInt16 = 0
    /// The violation that broke the queue, thrown again by every later call.
    private var failure: VirtqueueError?
    /// What the device last stored in its notification-suppression field (used.flags, or avail_event with
    /// EVENT_IDX), or `unknownSuppression` before its first store; the field is written only when the value
    /// changes, so the driver's cached copy of the line survives.
    private var suppressionShadow = VirtqueueDevice.unknownSuppression
    private static let unknownSuppression: UInt32 = 0x1_0000

    /// Running totals.
    public var counters: VirtqueueDeviceCounters { tallies }
    // Stored privately: updating a public stored property of a class costs a runtime exclusivity check.
    private var tallies = VirtqueueDeviceCounters()

    /// Creates the device side of the ring at `ring`. The ring is not modified (the driver zeroes it).
    ///
    /// - Parameters:
    ///   - name: queue name for messages, e.g. "vring1".
    ///   - ring: start of the ring memory (16-byte aligned), at least `VringLayout(num:align:).totalSize` bytes.
    ///   - num: number of descriptors (power of two, at most 32768).
    ///   - align: used-ring alignment (power of two; the used ring must land on a 4-byte boundary).
    ///   - eventIndex: whether VIRTIO_RING_F_EVENT_IDX was negotiated.
    ///   - translate: maps a descriptor's address and length to a pointer, nil when out of bounds.
    /// - Throws: `VirtqueueError.Code.invalidArgument` naming the queue and the rejected parameter.
    public init(
        name: String, ring: UnsafeMutableRawPointer, num: Int, align: Int, eventIndex: Bool,
        translate: @escaping AddressTranslation
    ) throws(VirtqueueError) {
        let memory = try VringMemory(name: name, ring: ring, num: num, align: align)
        self.name = name
        self.memory = memory
        self.layout = memory.layout
        self.eventIndex = eventIndex
        self.translate = translate
        isHeld = .allocate(capacity: num)
        isHeld.initialize(repeating: false)
        usedLimit = .allocate(capacity: num)
        usedLimit.initialize(repeating: 0)
        usedMirror = .allocate(capacity: num)
        usedMirror.initialize(repeating: Self.unknownElement)
        translations = .allocate(capacity: num)
        translations.initialize(repeating: CachedTranslation())
    }

    deinit {
        isHeld.deallocate()
        usedLimit.deallocate()
        usedMirror.deallocate()
        translations.deallocate()
    }

    /// Forgets held buffers, the indices and a previous violation (counters are kept); the ring itself is not
    /// touched. For a device restarting on a ring the driver has just zeroed.
    public func reset() {
        isHeld.update(repeating: false)
        usedLimit.update(repeating: 0)
        usedMirror.update(repeating: Self.unknownElement)
        translations.update(repeating: CachedTranslation())
        heldCount = 0
        lastAvail = 0
        observedAvail = 0
        nextUsed = 0
        publishedUsed = 0
        failure = nil
        suppressionShadow = Self.unknownSuppression
    }

    /// Test hook (internal): moves an idle queue's free-running indices to `index` and writes used.idx; the
    /// counterpart of `VirtqueueDriver.startIndices(at:)`. Does nothing while buffers are held.
    func startIndices(at index: UInt16) {
        guard heldCount == 0, failure == nil else { return }
        lastAvail = index
        observedAvail = index
        nextUsed = index
        publishedUsed = index
        memory.publishUsedIndex(index)
    }

    // MARK: State

    /// Buffers taken and not yet returned with `addUsed`.
    public var heldBufferCount: Int { heldCount }
    /// Whether a protocol violation broke the queue.
    public var isBroken: Bool { failure != nil }
    /// The violation that broke the queue, if any.
    public var brokenError: VirtqueueError? { failure }

    // MARK: Taking buffers

    /// Takes the next buffer the driver made available, or nil when none is pending.
    ///
    /// - Throws: `protocolViolation` naming the queue, field and value when avail.idx runs ahead by more than
    ///   num buffers (or backwards), an avail entry or `next` link is not below num, a head is offered while the
    ///   device still holds it, a chain loops (longer than num), a descriptor sets INDIRECT, or the head's
    ///   address does not translate. The queue is then broken and every later call throws the same error.
    public func takeAvailable() throws(VirtqueueError) -> AvailableBuffer? {
        if let failure { throw failure }
        if lastAvail == observedAvail {
            // Acquire load: pairs with the driver's release store of avail.idx, so the ring entries and
            // descriptors below the new index are read after they were written.
            let current = memory.observeAvailIndex()
            let fresh = Int(current &- lastAvail)
            if fresh == 0 { return nil }
            // The driver cannot have more than num buffers outstanding; from the device's view, the ones
            // taken but not yet published as used still count.
            let unreturned = Int(lastAvail &- publishedUsed)
            guard fresh <= num - unreturned else {
                throw violation(
                    "avail.idx = \(current): jumps \(fresh) entries past the last consumed index \(lastAvail), "
                        + "but at most \(num - unreturned) can be outstanding (num \(num), \(unreturned) not yet returned)")
            }
            observedAvail = current
        }
        let slot = layout.slot(of: lastAvail)
        let headValue = memory.availEntry(slot: slot)
        guard Int(headValue) < num else {
            throw violation("avail.ring[\(slot)] = \(headValue): head not below num \(num)")
        }
        let head = Int(headValue)
        guard !isHeld[head] else {
            throw violation("avail.ring[\(slot)] = \(headValue): descriptor \(head) is already held by the device")
        }
        let address = memory.descriptorAddress(head)
        let length = memory.descriptorLength(head)
        let flags = memory.descriptorFlags(head)
        let chain: (count: Int, writable: UInt32, usedLimit: UInt32)
        if flags & (memory.nextFlag | memory.indirectFlag) == 0 {
            // One descriptor, the rpmsg case: no chain to follow.
            let writable = flags & memory.writeFlag != 0 ? length : 0
            chain = (1, writable, length)
        } else {
            chain = try walkChain(head: head, length: length, flags: flags)
        }
        let pointer: UnsafeMutableRawPointer
        let cached = translations[head]
        if let known = cached.pointer, cached.address == address, cached.length == length {
            pointer = known
        } else {
            guard let translated = translate(address, length) else {
                throw violation(
                    "desc[\(head)].addr = 0x\(String(address, radix: 16)): \(length) bytes there are outside device memory")
            }
            translations[head] = CachedTranslation(address: address, length: length, pointer: translated)
            pointer = translated
        }
        isHeld[head] = true
        usedLimit[head] = chain.usedLimit
        heldCount += 1
        lastAvail &+= 1
        tallies.taken &+= 1
        return AvailableBuffer(
            head: headValue, address: address, length: length,
            isDeviceWritable: flags & memory.writeFlag != 0, pointer: pointer,
            descriptorCount: chain.count, writableLength: chain.writable)
    }

    /// Follows the chain starting at `head` (whose length and flags were already read), at most num
    /// descriptors, refusing INDIRECT and links not below num.
    ///
    /// - Returns: the number of descriptors, the writable bytes (saturated), and the most `addUsed` may report:
    ///   the writable bytes, or for a chain without writable descriptors its total size (some remotes return
    ///   a read buffer's size; the driver ignores it).
    private func walkChain(head: Int, length: UInt32, flags: UInt16) throws(VirtqueueError)
        -> (count: Int, writable: UInt32, usedLimit: UInt32)
    {
        let nextFlag = VringDescriptor.Flags.next.rawValue
        let writeFlag = memory.writeFlag
        let indirectFlag = VringDescriptor.Flags.indirect.rawValue
        var count = 1
        var index = head
        var currentFlags = flags
        var writable: UInt64 = 0
        var total: UInt64 = 0
        var currentLength = length
        while true {
            guard currentFlags & indirectFlag == 0 else {
                throw violation(
                    "desc[\(index)].flags = 0x\(String(currentFlags, radix: 16)): INDIRECT is not supported (not negotiated)")
            }
            total += UInt64(currentLength)
            if currentFlags & writeFlag != 0 { writable += UInt64(currentLength) }
            if currentFlags & nextFlag == 0 { break }
            let next = memory.descriptorNext(index)
            guard Int(next) < num else {
                throw violation("desc[\(index)].next = \(next): not below num \(num) (chain from head \(head))")
            }
            count += 1
            guard count <= num else {
                throw violation(
                    "desc[\(index)].next = \(next): the chain from head \(head) is longer than num \(num) (a loop)")
            }
            index = Int(next)
            currentFlags = memory.descriptorFlags(index)
            currentLength = memory.descriptorLength(index)
        }
        let writableLength = UInt32(clamping: writable)
        return (count, writableLength, writable != 0 ? writableLength : UInt32(clamping: total))
    }

    // MARK: Returning buffers

    /// Returns a buffer taken with `takeAvailable()`: writes the used element {head, length}. The driver sees
    /// it after `publishUsed()`.
    ///
    /// - Parameters:
    ///   - head: `AvailableBuffer.head` of a buffer the device holds.
    ///   - length: bytes written into the buffer; at most its `writableLength` (or, for a read-only chain,
    ///     its size).
    /// - Throws: the violation that broke the queue; `invalidArgument` when `head` is not held or `length` is
    ///   too large (a caller error, the queue stays usable).
    public func addUsed(head: UInt16, length: UInt32) throws(VirtqueueError) {
        if let failure { throw failure }
        let index = Int(head)
        guard index < num, isHeld[index] else {
            throw VirtqueueError(.invalidArgument, "\(name): addUsed: head \(head) is not held by the device")
        }
        guard length <= usedLimit[index] else {
            throw VirtqueueError(
                .invalidArgument, "\(name): addUsed: length \(length) exceeds the \(usedLimit[index]) bytes of head \(head)")
        }
        // The store is skipped when the slot already holds exactly this element from our own earlier write
        // (a buffer returned on the same head with the same length a lap ago, the usual rpmsg pattern): the
        // driver's cached copy of the line then stays valid. Only the device writes the used ring.
        let slot = layout.slot(of: nextUsed)
        let element = UInt64(head) << 32 | UInt64(length)
        if usedMirror[slot] != element {
            usedMirror[slot] = element
            memory.storeUsedElement(slot: slot, id: UInt32(head), length: length)
        }
        isHeld[index] = false
        heldCount -= 1
        nextUsed &+= 1
        tallies.used &+= 1
    }

    /// Makes every used element added since the last publish visible to the driver and says whether the
    /// driver must be interrupted.
    ///
    /// With EVENT_IDX the answer is need_event(used_event, new used.idx, used.idx at the previous publish);
    /// without, it is `avail.flags & NO_INTERRUPT == 0`. Returns false when nothing was added since the last
    /// publish or the queue is broken.
    public func publishUsed() -> Bool {
        guard failure == nil else { return false }
        let old = publishedUsed
        let new = nextUsed
        guard new != old else { return false }
        // Release store: orders the used elements written by addUsed (id and len) before the new used.idx.
        memory.publishUsedIndex(new)
        // Full fence: orders the used.idx store before the loads of used_event / avail.flags, the mirror of the
        // driver's enableCallbacks, so a driver re-enabling interrupts either sees the new index or is
        // interrupted.
        amp_fence_seq_cst()
        publishedUsed = new
        let interrupt: Bool
        if eventIndex {
            interrupt = VringIndex.needEvent(event: memory.usedEvent(), new: new, old: old)
        } else {
            interrupt = memory.availFlags() & memory.noInterruptFlag == 0
        }
        if interrupt { tallies.interrupts &+= 1 } else { tallies.suppressedInterrupts &+= 1 }
        return interrupt
    }

    // MARK: Notifications

    /// Asks the driver not to kick when it adds buffers (a hint). Without EVENT_IDX sets NO_NOTIFY in
    /// used.flags; with it, moves avail_event behind the consumed index, where avail.idx cannot cross it
    /// before the device has taken another 32768 entries. (Like `enableNotifications`, it stores only when
    /// the field does not already hold a suitable value.)
    public func disableNotifications() {
        if eventIndex {
            // Left alone while it is 1...32768 entries behind: the driver, at most num (<= 32768) entries
            // ahead of the consumed index, cannot reach it (see VirtqueueDriver.disableCallbacks).
            if suppressionShadow != Self.unknownSuppression,
                VringIndex.isSuppressedBehind(event: UInt16(truncatingIfNeeded: suppressionShadow), index: lastAvail)
            {
                return
            }
            storeSuppression(lastAvail &- 1)
        } else {
            storeSuppression(memory.noNotifyFlag)
        }
    }

    /// Whether the driver made buffers available that `takeAvailable()` has not taken yet (true on a broken
    /// queue, so the caller calls `takeAvailable()` and gets the error). One acquire load: cheap enough to
    /// poll while the device spins instead of waiting for a kick.
    ///
    /// A hint, not a check: an avail.idx that `takeAvailable()` would refuse (a jump past what can be
    /// outstanding) reads as "nothing yet", so polling never reports more than a kick would. Looking at the
    /// ring because of a kick (or a valid advance) still finds the violation.
    public var hasPendingAvailable: Bool {
        guard failure == nil else { return true }
        if lastAvail != observedAvail { return true }
        let fresh = Int(memory.observeAvailIndex() &- lastAvail)
        return fresh != 0 && fresh <= num - Int(lastAvail &- publishedUsed)
    }

    /// Looks for newly available buffers up to `looks` times, with the CPU's pause hint between looks, and
    /// says whether some arrived (or the queue is broken). For a device that just drained the ring and expects
    /// more at once (the rest of a stream, the next request of a round trip): finding it here saves a trip
    /// through its event loop. A hint, like ``hasPendingAvailable``.
    public func awaitAvailable(looks: Int) -> Bool {
        VirtqueuePolling.linger(looks: looks) { hasPendingAvailable }
    }

    /// Stores used.flags (or avail_event with EVENT_IDX) unless it already holds `value` from our last store.
    @inline(__always)
    private func storeSuppression(_ value: UInt16) {
        guard UInt32(value) != suppressionShadow else { return }
        suppressionShadow = UInt32(value)
        if eventIndex {
            memory.storeAvailEvent(value)
        } else {
            memory.storeUsedFlags(value)
        }
    }

    /// Asks the driver to kick when it adds the next buffer, and says whether buffers are already pending
    /// (then the caller must take them rather than wait for a kick). Returns true on a broken queue so the
    /// caller calls `takeAvailable()` and gets the error.
    public func enableNotifications() -> Bool {
        guard failure == nil else { return true }
        storeSuppression(eventIndex ? lastAvail : 0)
        // Full fence: orders the avail_event / flags store before the avail.idx load below, the mirror of the
        // driver's publish, so either the driver sees the request and kicks, or we see its new avail.idx.
        amp_fence_seq_cst()
        return memory.observeAvailIndex() != lastAvail
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

/// A translation the device made for one head: the descriptor's address and length and where they landed.
private struct CachedTranslation {
    var address: UInt64 = 0
    var length: UInt32 = 0
    var pointer: UnsafeMutableRawPointer?
}

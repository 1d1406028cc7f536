// The host's virtio rpmsg transport for one vdev of one remote processor: what Linux's virtio_rpmsg_bus
// does as the virtio driver of an rpmsg device (wire-facts.md sections 2-3), written anew.
//
// Probe (init, then attach):
//   status = 0 (reset), then ACKNOWLEDGE | DRIVER; gfeatures = dfeatures & {F_NS, EVENT_IDX}
//   vring0 (host RX) and vring1 (host TX) zeroed; every receive buffer posted as one device-writable
//   descriptor of bufferSize bytes; vring1 callbacks disabled
//   attach: the rpmsg core (RpmsgBus) is created, with the name service at 53 when F_NS was accepted;
//   status = ACKNOWLEDGE | DRIVER | DRIVER_OK (7, release order); kick vring0.
//   The remote is already running and waits for DRIVER_OK before it touches the rings.
//
// Send (any thread): header + payload into a transmit buffer, one read-only descriptor of 16 + len bytes,
// publish, kick vring1 when the ring asks for it. No buffer: try* variants fail with .noBuffer; blocking
// sends turn vring1 callbacks on and wait up to their timeout (the remote's used-ring update and kick wake
// the service thread, which reclaims the buffer and wakes them), then fail with .timedOut.
//
// Receive (the service thread, VirtioRpmsgInterruptThread, after each to-host doorbell ring, or when its
// polling finds used buffers): take used buffers from vring0 and validate them under the lock, then lend
// each message in place to the bus (RpmsgInboundDelivery) with no lock held, in order; the buffers go
// back to the remote in batches after their callbacks ran (all of them before the thread leaves its
// passes), so answering a message is not delayed by re-posting its buffer. Reclaim vring1 when senders wait
// or the pass found no message (else senders reclaim when they run out of buffers). Once vring0 is drained
// its interrupts are turned off (NO_INTERRUPT / used_event): the service thread polls used.idx while it spins
// on the doorbell and turns them on again, re-checking the ring, before it sleeps. A busy host thus costs the
// remote no doorbell rings.
// A sender that blocks on the service thread itself (a driver answering from its callback) keeps pulling
// vring0 into a bounded inbox while it waits, so a remote blocked on its own sends can make progress
// instead of both sides deadlocking (a known pain point of Linux's virtio rpmsg).
//
// Trust: the remote is never trusted. A violation (an index, length or id in the used rings, or a header
// whose length does not fit) is counted, reported to the bus (`invalidInbound`), recorded as the link's
// `failure` and handed to the owner (onFailure), which treats it as a fatal error of the remote. From then
// on the rings are not touched and every send fails with .noDevice. The buffer of a bad message is posted
// again first, so the link never loses one.
//
// Stop: close() (senders fail, the service thread stops touching the rings), join the service thread,
// then shutDown(): bus.linkDown() (channels destroyed, drivers' remove runs) and status = 0 (reset).

import AmpRpmsg
import AmpSystem
import AmpVirtio
import AmpWire
import Foundation
import Glibc
import Synchronization

/// One virtio rpmsg device driven by the host: an ``RpmsgTransport`` over two vrings and a buffer pool in
/// a remote's shared-memory segment.
///
/// Thread-safe: ring state lives behind one lock (an `NSCondition`, which blocked senders wait on);
/// messages are delivered and failures reported with no lock held.
public final class VirtioRpmsgLink: RpmsgTransport, @unchecked Sendable {
    /// Link name, e.g. "ipu.vdev0" (prefix of every channel's device name).
    public let name: String
    /// Largest payload: buffer size minus 16 (496 with 512-byte buffers).
    public let mtu: Int
    /// Where the device lives in the segment.
    public let layout: VirtioRpmsgLayout
    /// Features written to `gfeatures`.
    public let negotiatedFeatures: UInt32

    let segment: SharedMemorySegment
    let toRemote: Doorbell
    /// The to-host doorbell the service thread sleeps on (a sender on that thread sleeps on it too).
    let toHost: Doorbell
    private let config: VirtioDeviceConfig
    /// Guards `rings`; blocked senders wait on it.
    let condition = NSCondition()
    /// Ring state; only touched with `condition` locked.
    let rings: VirtioRpmsgRings
    private let attachment = Mutex<Attachment?>(nil)
    private let kickCount = Atomic<UInt64>(0)
    /// pthread id of the service thread (0: none yet).
    private let serviceThread = Atomic<UInt>(0)
    /// Doorbell waits made by senders on the service thread (the service loop then rescans every link).
    let serviceThreadDoorbellWaits = Atomic<UInt64>(0)
    /// False once the link is closed or broken: the service thread stops polling vring0.
    private let receiving = Atomic<Bool>(true)

    private struct Attachment {
        var bus: RpmsgBus
        /// The service thread's way into the bus (only that thread uses it).
        var delivery: RpmsgInboundDelivery
        var onFailure: (@Sendable (String) -> Void)?
    }

    /// How long a blocked sender sleeps at most before re-checking by itself (in case no kick arrives).
    static let waitSlice: Duration = .milliseconds(20)
    /// How long a blocked sender spins for a returned buffer before it sleeps: the doorbell's budget (0 on a
    /// single usable CPU, where spinning would keep the remote off the CPU).
    private var spinBudget: UInt64 { toHost.spinBudgetNanoseconds }

    /// First half of the probe: validates `layout`, resets the device, negotiates features, sets up both
    /// virtqueues (zeroing the rings) and posts every receive buffer. The remote cannot use any of it before
    /// ``attach(registry:sendTimeout:onFailure:)`` sets DRIVER_OK.
    ///
    /// - Parameters:
    ///   - name: link name, e.g. "ipu.vdev0".
    ///   - segment: the remote's segment (kept alive by the link: buffers and rings are inside it).
    ///   - layout: vrings, buffer pool, and table offsets of status and gfeatures.
    ///   - toRemote: the host-to-remote doorbell; a kick rings the vring's notify id.
    ///   - toHost: the remote-to-host doorbell the service thread waits on.
    /// - Throws: ``VirtioRpmsgSetupError`` when the layout does not fit the segment or a ring is unusable.
    public init(
        name: String, segment: SharedMemorySegment, layout: VirtioRpmsgLayout, toRemote: Doorbell, toHost: Doorbell
    ) throws(VirtioRpmsgSetupError) {
        try layout.validate(segmentSize: segment.size)
        self.name = name
        self.segment = segment
        self.layout = layout
        self.toRemote = toRemote
        self.toHost = toHost
        mtu = layout.mtu
        config = VirtioDeviceConfig(
            segment: segment, statusOffset: layout.statusOffset, guestFeaturesOffset: layout.guestFeaturesOffset)
        config.setStatus([])
        config.setStatus([.acknowledge, .driver])
        negotiatedFeatures = VirtioDeviceConfig.acceptedFeatures(of: layout.deviceFeatures)
        config.setGuestFeatures(negotiatedFeatures)
        do {
            rings = try VirtioRpmsgRings(
                base: segment.base, layout: layout,
                eventIndex: VirtioFeatureBit.ringEventIndex.isSet(in: negotiatedFeatures))
            _ = try rings.postReceiveBuffers()
        } catch {
            throw VirtioRpmsgSetupError(field: "vrings", reason: error.message)
        }
        rings.transmit.disableCallbacks()
    }

    /// Second half of the probe: creates the rpmsg core for this link, sets DRIVER_OK and kicks vring0.
    /// Start the service thread right after (messages wait in vring0 until it runs).
    ///
    /// - Parameters:
    ///   - registry: drivers and event sink shared with the other links.
    ///   - sendTimeout: how long blocking sends wait for a buffer (Linux: 15 s).
    ///   - onFailure: called once, on the thread that found it, with the first fatal violation.
    /// - Returns: the link's bus.
    @discardableResult
    public func attach(
        registry: RpmsgDriverRegistry, sendTimeout: Duration = .seconds(15),
        onFailure: (@Sendable (String) -> Void)? = nil
    ) -> RpmsgBus {
        let bus = RpmsgBus(transport: self, registry: registry, sendTimeout: sendTimeout)
        let delivery = bus.makeInboundDelivery()
        attachment.withLock { $0 = Attachment(bus: bus, delivery: delivery, onFailure: onFailure) }
        config.setStatus([.acknowledge, .driver, .driverOK])
        kick(layout.receive)
        return bus
    }

    /// The link's rpmsg core, from ``attach(registry:sendTimeout:onFailure:)`` until ``shutDown()``.
    public var bus: RpmsgBus? { attachment.withLock { $0?.bus } }

    // MARK: RpmsgTransport

    public var supportsNameService: Bool { VirtioFeatureBit.rpmsgNameService.isSet(in: negotiatedFeatures) }

    /// Legacy virtio: the native byte order of the machine (host and remote share it).
    public var byteOrder: ByteOrder { .host }

    public func send(source: UInt32, destination: UInt32, payload: [UInt8], wait: Duration?) throws(RpmsgError) {
        guard payload.count <= mtu, payload.count <= Int(UInt16.max) else {
            throw RpmsgError(.messageTooLarge, "\(name): payload of \(payload.count) bytes exceeds the MTU of \(mtu)")
        }
        condition.lock()
        let outcome = payload.withUnsafeBytes { bytes in
            sendLocked(source: source, destination: destination, payload: bytes, wait: wait)
        }
        condition.unlock()
        switch outcome {
        case .sent(let needsKick):
            if needsKick { kick(layout.transmit) }
        case .failed(let error):
            throw error
        case .violated(let detail):
            fail(detail)
            throw RpmsgError(.noDevice, "\(name): the link broke: \(detail)")
        }
    }

    private enum SendOutcome {
        case sent(kick: Bool)
        case failed(RpmsgError)
        case violated(String)
    }

    /// The send path with the lock held (it is released only while waiting).
    private func sendLocked(
        source: UInt32, destination: UInt32, payload: UnsafeRawBufferPointer, wait: Duration?
    ) -> SendOutcome {
        // The clock is read and the thread identified only when the send has to wait (not per message).
        var deadline = LazyDeadline()
        var onServiceThread = false
        var spun = false
        var waiting = false
        defer { if waiting { rings.endWaiting() } }
        while true {
            if let error = unavailableError() { return .failed(error) }
            do {
                if let index = try rings.acquireTransmitBuffer() {
                    return .sent(kick: try rings.transmit(
                        source: source, destination: destination, payload: payload, inBuffer: index))
                }
            } catch where error.code == .protocolViolation {
                return .violated(error.message)
            } catch {
                // Not the remote's doing (the ring refused a buffer it should have taken): fail this send only.
                return .failed(RpmsgError(.noBuffer, "\(name): \(error.message)"))
            }
            guard let wait else {
                rings.counters.noBuffer += 1
                return .failed(RpmsgError(.noBuffer, "\(name): no free TX buffer (all \(layout.pool.transmitCount) in flight)"))
            }
            if !deadline.isStarted { onServiceThread = isServiceThread }
            guard let left = deadline.nanosecondsLeft(after: wait) else {
                rings.counters.sendTimeouts += 1
                return .failed(RpmsgError(.timedOut, "\(name): no TX buffer became free in time"))
            }
            if !spun, spinBudget > 0 {
                // First spin (unlocked) until the remote returns a buffer on vring1, as the doorbell spins
                // before it sleeps: on a busy link that is sooner than a wake-up through the condition.
                spun = true
                let mark = rings.transmit.consumedUsedIndex
                condition.unlock()
                spin(untilUsedIndexLeaves: mark, for: min(spinBudget, left))
                condition.lock()
                continue
            }
            if !waiting {
                waiting = true
                rings.beginWaiting()
            }
            if rings.rearmTransmit() { continue }
            let slice = min(left, MonotonicClock.nanoseconds(of: Self.waitSlice))
            if onServiceThread {
                // Nobody else would wake us: wait on the doorbell ourselves, and keep the receive side moving
                // (with vring0 interrupts on, which the service thread turns off while it polls).
                let inboundPending = rings.rearmReceive()
                condition.unlock()
                serviceThreadDoorbellWaits.wrappingAdd(1, ordering: .relaxed)
                if !inboundPending { _ = try? toHost.wait(timeout: .nanoseconds(Int64(slice))) }
                condition.lock()
                let pull = rings.pullInbound(limit: layout.pool.receiveCount, inPlace: false)
                if pull.kick { kick(layout.receive) }
                if let violation = pull.violation { return .violated(violation) }
            } else {
                _ = condition.wait(until: Date(timeIntervalSinceNow: Double(slice) / 1e9))
            }
        }
    }

    /// Spins (without the lock) until vring1's used.idx leaves `mark` or `nanoseconds` pass.
    private func spin(untilUsedIndexLeaves mark: UInt16, for nanoseconds: UInt64) {
        let end = MonotonicClock.nanoseconds() &+ nanoseconds
        rings.transmit.spin(untilUsedIndexLeaves: mark) { MonotonicClock.nanoseconds() >= end }
    }

    /// Why the link cannot send now, if it cannot (caller holds the lock).
    private func unavailableError() -> RpmsgError? {
        if rings.closed { return RpmsgError(.noDevice, "\(name): the link is down") }
        if let failure = rings.failure { return RpmsgError(.noDevice, "\(name): the link broke: \(failure)") }
        return nil
    }

    // MARK: Receive (service thread)

    /// Marks the calling thread as this link's service thread (the one that waits on the to-host doorbell).
    func adoptServiceThread() {
        serviceThread.store(UInt(pthread_self()), ordering: .releasing)
    }

    private var isServiceThread: Bool {
        let id = serviceThread.load(ordering: .acquiring)
        return id != 0 && id == UInt(pthread_self())
    }

    /// Drains the link: delivers every message the remote put on vring0, reclaims vring1 and wakes blocked
    /// senders, until nothing is pending and vring0 callbacks are re-armed; every receive buffer lent on the
    /// way is posted again before it returns. Called by the service thread after every doorbell ring (and
    /// at start); spurious calls are harmless.
    func service() {
        // Only the service thread gets here: the delivery object (and its endpoint cache) is its alone.
        guard let delivery = attachment.withLock({ $0?.delivery }) else { return }
        while true {
            rings.prefetchInbound()
            condition.lock()
            guard rings.isUsable else {
                condition.unlock()
                return
            }
            var kick = false
            var violation: String?
            // Messages a sender on this thread pulled while it waited go first; else take new ones, lent in
            // place. Lent buffers go back once their callbacks have run: in a batch after the delivery that
            // fills one, or all of them on a pass that finds nothing new (the link may be going quiet).
            var pulled = 0
            if !rings.hasInbox {
                let pull = rings.pullInbound(limit: rings.repostBatch, inPlace: true)
                pulled = pull.pulled
                kick = pull.kick
                violation = pull.violation
            }
            if pulled == 0, violation == nil, rings.repostHeld(violation: &violation) { kick = true }
            let repostAfterDelivery = violation != nil || rings.heldReceiveBuffers >= rings.repostBatch
            // vring1 is reclaimed here only for senders waiting for a buffer, or on a pass that found no
            // message (a vring1 kick, a wake, the idle rescan, the end of a burst), where a remote's bad used
            // entry is found promptly. Otherwise senders reclaim when they run out (as Linux's get_a_tx_buf
            // does), so a busy link does not pull vring1's used index, which the remote rewrites after every
            // message, into this cache on every pass.
            if pulled == 0 || rings.waitingSenders > 0 {
                do {
                    if try rings.reclaimTransmitted() > 0, rings.waitingSenders > 0 { condition.broadcast() }
                } catch {
                    violation = violation ?? error.message
                }
            }
            // Not drained (limit reached, or the inbox is full): another pass. Drained: interrupts for vring0
            // are turned off, because the service thread polls vring0 while it spins on the doorbell and
            // turns them on again (re-checking the ring) before it sleeps (inboundPoller, armReceive).
            let pending = violation == nil && rings.receive.hasPendingUsed
            if !pending { rings.receive.disableCallbacks() }
            rings.takeInbox(into: &batch)
            condition.unlock()
            if kick { self.kick(layout.receive) }
            let delivered = batch.count
            deliver(&batch, to: delivery)
            if repostAfterDelivery {
                // After a violation too: the messages before it were delivered, and their buffers go back
                // before the link is declared broken (a ring too garbled to take them keeps them; the link
                // is dead then anyway).
                condition.lock()
                let kickAfter = rings.repostHeld(violation: &violation)
                condition.unlock()
                if kickAfter { self.kick(layout.receive) }
            }
            if let violation {
                fail(violation)
                return
            }
            if pending { continue }
            // Drained. A pass that delivered nothing has posted every held buffer again: done. Otherwise
            // linger a moment for more (about a microsecond, with more than one CPU) before the last pass:
            // the answer to what a callback just sent usually lands within it, and is then taken at once
            // instead of after the way back out through the doorbell wait and in again.
            if delivered == 0 { return }
            if spinBudget > 0, receiving.load(ordering: .relaxed) {
                _ = rings.receive.awaitUsed(looks: VirtqueuePolling.lingerLooks)
            }
        }
    }

    /// The service thread's look at vring0 while it spins, through unretained references (it runs on every
    /// spin iteration, where a retain and release of the link's rings cost more than the look itself).
    /// Valid while the link exists: the service thread holds it.
    struct InboundPoller {
        fileprivate let link: Unmanaged<VirtioRpmsgLink>
        fileprivate let queue: Unmanaged<VirtqueueDriver>

        /// Whether vring0 holds messages not taken yet (service thread only: it alone consumes vring0). One
        /// load of used.idx; false once the link is closed or broken.
        var hasInboundPending: Bool {
            link._withUnsafeGuaranteedRef { $0.receiving.load(ordering: .relaxed) }
                && queue._withUnsafeGuaranteedRef { $0.hasPendingUsed }
        }
    }

    /// The service thread's poller of this link (see ``InboundPoller``).
    var inboundPoller: InboundPoller {
        InboundPoller(link: .passUnretained(self), queue: .passUnretained(rings.receive))
    }

    /// Turns vring0 interrupts on before the service thread sleeps; returns whether messages arrived
    /// meanwhile (then it must service the link instead of sleeping).
    func armReceive() -> Bool {
        condition.lock()
        defer { condition.unlock() }
        return rings.rearmReceive()
    }

    /// The messages being delivered (only the service thread touches it; its storage is reused).
    @exclusivity(unchecked) private var batch: [VirtioRpmsgInbound] = []

    /// Delivers `messages`, oldest first, with no lock held (callbacks may send), and empties it.
    private func deliver(_ messages: inout [VirtioRpmsgInbound], to delivery: RpmsgInboundDelivery) {
        guard !messages.isEmpty else { return }
        for item in messages {
            switch item {
            case .inPlace(let source, let destination, let payload):
                delivery.deliver(source: source, destination: destination, payload: payload)
            case .message(let source, let destination, let payload):
                payload.withUnsafeBytes { delivery.deliver(source: source, destination: destination, payload: $0) }
            case .rejected(let reason):
                delivery.bus.reportInvalidInbound(reason)
            }
        }
        messages.removeAll(keepingCapacity: true)
    }

    // MARK: Failure

    /// Records the first fatal violation: counted, senders woken (they fail), reported to the bus, and
    /// handed to the owner. Later ones are ignored (the rings are no longer read).
    func fail(_ detail: String) {
        condition.lock()
        let first = rings.failure == nil && !rings.closed
        if first {
            rings.failure = detail
            receiving.store(false, ordering: .relaxed)
            rings.counters.violations += 1
            condition.broadcast()
        }
        condition.unlock()
        guard first else { return }
        let current = attachment.withLock { $0 }
        current?.bus.reportInvalidInbound(detail)
        current?.onFailure?(detail)
    }

    /// The first fatal violation, naming queue, field and value (nil while the link is healthy).
    public var failure: String? { locked { rings.failure } }

    // MARK: Stopping

    /// Stops traffic: blocked and later senders fail with .noDevice, the service path stops touching the
    /// rings, and a sender waiting on the service thread wakes. Idempotent.
    public func close() {
        condition.lock()
        rings.closed = true
        receiving.store(false, ordering: .relaxed)
        condition.broadcast()
        condition.unlock()
        try? toHost.wake()
    }

    /// Takes the link down after ``close()`` and after the service thread ended: the bus goes down
    /// (every channel destroyed, drivers' remove runs, later sends fail with .noDevice), the device is reset
    /// (status 0) and the bus is released. Idempotent.
    public func shutDown() {
        close()
        guard let current = attachment.take() else { return }
        current.bus.linkDown()
        config.setStatus([])
    }

    // MARK: Diagnostics

    /// Running totals.
    public var counters: VirtioRpmsgLinkCounters {
        var totals = locked { rings.counters }
        totals.kicks = kickCount.load(ordering: .relaxed)
        return totals
    }

    /// Receive buffers posted to the remote (the pool's first half, unless the link broke while taking one,
    /// or holds some between lending their messages and posting them again).
    public var postedReceiveBuffers: Int { locked { rings.postedReceiveBuffers } }

    /// Receive buffers posted to the remote and those the host holds between lending their messages to the
    /// bus and posting them again (at most 31; none once the service thread is idle), read together: on a
    /// healthy link they add up to the pool's first half.
    public var receiveBuffers: (posted: Int, held: Int) {
        locked { (rings.postedReceiveBuffers, rings.heldReceiveBuffers) }
    }

    /// Transmit buffers the host holds now, after taking back those the remote returned (not counting those
    /// in flight). A bad used entry found on the way breaks the link, as it would on a send.
    public var freeTransmitBuffers: Int {
        condition.lock()
        var violation: String?
        if rings.isUsable {
            do {
                try rings.reclaimTransmitted()
            } catch {
                violation = error.message
            }
        }
        let free = rings.freeTransmitBuffers
        condition.unlock()
        if let violation { fail(violation) }
        return free
    }

    /// The vdev status byte as it is in the loaded table.
    public var deviceStatus: UInt8 { config.status }

    /// The virtqueues' own totals: vring0 (receive) and vring1 (transmit).
    public var virtqueueCounters: (receive: VirtqueueDriverCounters, transmit: VirtqueueDriverCounters) {
        locked { (rings.receive.counters, rings.transmit.counters) }
    }

    // MARK: Helpers

    private func kick(_ vring: VirtioRpmsgVring) {
        kickCount.wrappingAdd(1, ordering: .relaxed)
        try? toRemote.ring(notifyID: vring.notifyID)
    }

    private func locked<T>(_ body: () -> T) -> T {
        condition.lock()
        defer { condition.unlock() }
        return body()
    }
}

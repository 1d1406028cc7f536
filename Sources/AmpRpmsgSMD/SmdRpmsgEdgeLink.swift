// The host's SMD rpmsg transport for one remote processor's SMD edge: what Linux's qcom_smd.c does as the
// rpmsg transport of an edge, written anew over AmpSMD's engines (smd-facts.md, docs/smd.md).
//
// One link per edge, one RpmsgBus per link. The SMEM region lives in the remote's segment and was prepared by
// the host as the boot loader (`SmdEdgePlacement.prepare(in:)`); the remote creates its channels there.
//
// Service (SmdRpmsgServiceThread, after every to-host doorbell ring and on a periodic tick; see
// SmdRpmsgEdgeLink+Service.swift): scan the allocation tables when SMEM free space changed, run every
// channel's interrupt handler (packets into a bounded inbox, delivered to the bus with no lock held), and the
// state work: a host-CLOSED channel whose remote is OPENING/OPENED is opened with the host handshake
// (non-blocking steps, 1 s per stage); once open it appears on the bus (`createChannel`, drivers probe with
// an open channel, as Linux's create_ept opens before probe returns); a remote that leaves an open channel
// makes it disappear (driver remove) and the host closes and resets its half. A failed handshake closes
// the channel, is reported (counter, `probeFailed` event) and retried later (SmdLinkChannel.swift).
//
// Addressing: SMD channels are point-to-point. Each has a pseudo remote address (SmdRpmsgAddress.swift):
// the rpmsg channel's destination and the source of its inbound messages. A send is routed by destination;
// inbound goes to the host endpoint that last sent on the channel while it exists, else to the channel's own
// endpoint (bound driver), else it is dropped and counted by the bus (no recipient).
//
// Send (any thread, SmdRpmsgEdgeLink+Send.swift): FIFO full -> try* variants fail with .noBuffer; blocking
// sends clear fBLOCKREADINTR so the remote kicks after reading, and wait (20 ms slices) up to their timeout
// (.timedOut). A sender on the service thread itself (a driver answering from its callback) waits on the
// doorbell and keeps pulling the receive FIFOs into the inbox, so two sides blocked on full FIFOs cannot
// deadlock.
//
// Trust: the remote is never trusted. Any SmdError met while servicing (a protocol violation: garbage
// indices, lengths, states, allocation entries) is counted, reported to the bus (invalidInbound) and to the
// owner (onFatal, a fatal crash of that remote); from then on the link does not touch the memory and every
// send fails with .noDevice.
//
// Stop: close() (senders fail, the service pass stops), join the service thread, then shutDown(): the
// host's half of every channel is closed (unless the link broke) and bus.linkDown() destroys the channels.

import AmpRpmsg
import AmpSMD
import AmpSystem
import AmpWire
import Foundation
import Glibc
import Synchronization

/// The host's rpmsg transport over one SMD edge in a remote's shared-memory segment.
///
/// Thread-safe: the AmpSMD engines live behind one lock (an `NSCondition`, which blocked senders wait on);
/// messages are delivered, channels created and destroyed, and failures reported with no lock held.
public final class SmdRpmsgEdgeLink: RpmsgTransport, @unchecked Sendable {
    /// Link name, e.g. "modem.smd" (prefix of every channel's device name).
    public let name: String
    /// Edge id (bits 0-7 of the allocation entries' flags) of this remote.
    public let edgeID: UInt8
    /// Where SMEM and the spinlock word lie in the segment.
    public let placement: SmdEdgePlacement
    /// Notify id rung on the to-remote doorbell (the edge's single IPC bit).
    public let notifyID: UInt32

    let segment: SharedMemorySegment
    let toRemote: Doorbell
    /// The to-host doorbell the service thread sleeps on (a sender on that thread sleeps on it too).
    let toHost: Doorbell
    /// Guards everything below marked "lock"; blocked senders wait on it.
    let condition = NSCondition()
    /// lock: the AmpSMD host edge (scan, channel engines).
    let edge: SmdHostEdge
    /// lock: the channels found, in discovery order, and by pseudo address.
    var records: [SmdLinkChannel] = []
    var recordsByAddress: [UInt32: SmdLinkChannel] = [:]
    /// lock: running totals (kicks apart).
    var totals = SmdRpmsgLinkCounters()
    /// lock: set by close(); the service pass and senders stop.
    var closed = false
    /// lock: the first fatal violation.
    var failureDetail: String?
    /// lock: whether the first scan ran.
    var scannedOnce = false
    /// lock: packets taken out of the FIFOs, not yet delivered (bounded by `inboxLimit`).
    var inbox: [SmdInboundPacket] = []

    /// Most packets held in the inbox; further ones stay in their FIFO (back-pressure) until it drains.
    static let inboxLimit = 256
    /// How long a blocked sender sleeps at most before looking again by itself.
    static let waitSlice: Duration = .milliseconds(20)

    private let attachment = Mutex<Attachment?>(nil)
    private let largestPayload = Atomic<Int>(0)
    private let kickCount = Atomic<UInt64>(0)
    /// pthread id of the service thread (0: none yet).
    private let serviceThread = Atomic<UInt>(0)
    /// Doorbell waits made by senders on the service thread (the service loop then runs another pass).
    let serviceThreadDoorbellWaits = Atomic<UInt64>(0)

    struct Attachment {
        var bus: RpmsgBus
        var registry: RpmsgDriverRegistry
        var onFatal: (@Sendable (String) -> Void)?
    }

    /// A link over the SMD edge at `placement` in `segment`, prepared beforehand with
    /// ``SmdEdgePlacement/prepare(in:)``. Nothing is read or written until the service thread runs after
    /// ``attach(registry:sendTimeout:onFatal:)``.
    ///
    /// - Parameters:
    ///   - name: link name, e.g. "modem.smd".
    ///   - segment: the remote's segment (kept alive by the link).
    ///   - placement: SMEM region and spinlock word in the segment.
    ///   - edgeID: this remote's edge id in the allocation entries.
    ///   - toRemote: the host-to-remote doorbell, rung with `notifyID` whenever the remote must look.
    ///   - toHost: the remote-to-host doorbell the service thread waits on.
    /// - Throws: `SmdError.invalidArgument` when the placement does not fit the segment,
    ///   `SmdError.protocolViolation` when the SMEM header is not a prepared global heap.
    public init(
        name: String, segment: SharedMemorySegment, placement: SmdEdgePlacement, edgeID: UInt8,
        toRemote: Doorbell, toHost: Doorbell, notifyID: UInt32 = 0
    ) throws(SmdError) {
        let heap = try placement.hostHeap(in: segment)
        try heap.validateHeader()
        self.name = name
        self.segment = segment
        self.placement = placement
        self.edgeID = edgeID
        self.toRemote = toRemote
        self.toHost = toHost
        self.notifyID = notifyID
        edge = SmdHostEdge(heap: heap, edgeID: edgeID)
    }

    /// Creates the rpmsg core for this link and kicks the remote. Start the service thread right after.
    ///
    /// - Parameters:
    ///   - registry: drivers and event sink shared with the other links.
    ///   - sendTimeout: how long blocking sends wait for FIFO room (Linux: 15 s).
    ///   - onFatal: called once, on the thread that found it, with the first protocol violation; the owner
    ///     treats it as a fatal crash of the remote.
    /// - Returns: the link's bus.
    @discardableResult
    public func attach(
        registry: RpmsgDriverRegistry, sendTimeout: Duration = .seconds(15),
        onFatal: (@Sendable (String) -> Void)? = nil
    ) -> RpmsgBus {
        let bus = RpmsgBus(transport: self, registry: registry, sendTimeout: sendTimeout)
        attachment.withLock { $0 = Attachment(bus: bus, registry: registry, onFatal: onFatal) }
        kick()
        return bus
    }

    /// The link's rpmsg core, from ``attach(registry:sendTimeout:onFatal:)`` until ``shutDown()``.
    public var bus: RpmsgBus? { attachment.withLock { $0?.bus } }

    var currentAttachment: Attachment? { attachment.withLock { $0 } }

    // MARK: RpmsgTransport

    /// The largest payload any channel found so far can carry (0 before the first one). Each channel's own
    /// limit (``SmdRpmsgChannelStatus/maximumPayload``) is checked on send.
    public var mtu: Int { largestPayload.load(ordering: .relaxed) }

    /// SMD announces channels through its allocation tables, not through name-service messages.
    public var supportsNameService: Bool { false }

    /// Why the link cannot carry traffic now, if it cannot (lock held).
    func unavailableError() -> RpmsgError? {
        if closed { return RpmsgError(.noDevice, "\(name): the link is down") }
        if let failureDetail { return RpmsgError(.noDevice, "\(name): the link broke: \(failureDetail)") }
        return nil
    }

    /// Refreshes ``mtu`` after channels were found (lock held).
    func updateLargestPayload() {
        largestPayload.store(records.map(\.engine.maximumPayload).max() ?? 0, ordering: .relaxed)
    }

    // MARK: Service thread identity

    /// Marks the calling thread as this link's service thread (the one that waits on the to-host doorbell).
    func adoptServiceThread() {
        serviceThread.store(UInt(pthread_self()), ordering: .releasing)
    }

    var isServiceThread: Bool {
        let id = serviceThread.load(ordering: .acquiring)
        return id != 0 && id == UInt(pthread_self())
    }

    // MARK: Failure

    /// Records the first fatal violation: counted, senders woken (they fail), reported to the bus and handed
    /// to the owner. Later ones are ignored (the memory is no longer read). Call with no lock held.
    func fail(_ detail: String) {
        condition.lock()
        let first = failureDetail == nil && !closed
        if first {
            failureDetail = detail
            totals.violations += 1
            inbox.removeAll()
            condition.broadcast()
        }
        condition.unlock()
        guard first else { return }
        let current = currentAttachment
        current?.bus.reportInvalidInbound("\(name): \(detail)")
        current?.onFatal?(detail)
    }

    /// The first fatal violation, naming channel and field (nil while the link is healthy).
    public var failure: String? { locked { failureDetail } }

    // MARK: Stopping

    /// Stops traffic: blocked and later senders fail with .noDevice, the service pass stops touching shared
    /// memory, and a sender waiting on the service thread wakes. Idempotent.
    public func close() {
        condition.lock()
        closed = true
        inbox.removeAll()
        condition.broadcast()
        condition.unlock()
        try? toHost.wake()
    }

    /// Takes the link down after ``close()`` and after the service thread ended: unless the link broke, the
    /// host's half of every channel is closed and reset (and the remote kicked); then the bus goes down (every
    /// channel destroyed, drivers' remove runs, later sends fail with .noDevice) and is released. Idempotent.
    public func shutDown() {
        close()
        guard let current = attachment.take() else { return }
        condition.lock()
        var kickRemote = false
        if failureDetail == nil {
            kickRemote = edge.remoteStopped().kickRemote
        }
        for record in records {
            record.phase = .closed
            record.rpmsgChannel = nil
            record.lastSender = nil
        }
        condition.unlock()
        if kickRemote { kick() }
        current.bus.linkDown()
    }

    // MARK: Diagnostics

    /// Running totals.
    public var counters: SmdRpmsgLinkCounters {
        var snapshot = locked { totals }
        snapshot.kicks = kickCount.load(ordering: .relaxed)
        return snapshot
    }

    /// Every channel found so far, in discovery order. Indices and the remote's state are read from shared
    /// memory while the link is healthy.
    public var channelStatus: [SmdRpmsgChannelStatus] {
        locked {
            records.map { record in
                let engine = record.engine
                var status = SmdRpmsgChannelStatus(
                    name: record.name, table: engine.table, cid: engine.cid, address: record.address,
                    layout: engine.layout, fifoSize: engine.geometry.size, maximumPayload: engine.maximumPayload,
                    phase: record.phase, localState: engine.state, remoteState: nil, txHead: nil, txTail: nil,
                    rxHead: nil, rxTail: nil, rpmsgDevice: record.rpmsgChannel?.deviceName)
                if failureDetail == nil {
                    let info = engine.infoSnapshot()
                    status.remoteState = SmdChannelState(rawValue: info.rx.state)
                    status.txHead = info.tx.head
                    status.txTail = info.tx.tail
                    status.rxHead = info.rx.head
                    status.rxTail = info.rx.tail
                }
                return status
            }
        }
    }

    // MARK: Helpers

    /// Rings the to-remote doorbell (the edge's IPC bit).
    func kick() {
        kickCount.wrappingAdd(1, ordering: .relaxed)
        try? toRemote.ring(notifyID: notifyID)
    }

    func locked<T>(_ body: () -> T) -> T {
        condition.lock()
        defer { condition.unlock() }
        return body()
    }
}

/// Formats an address as Linux's "0x%x" does.
func hexAddress(_ address: UInt32) -> String {
    "0x" + String(address, radix: 16)
}

// The remote side of the virtio rpmsg bus (Linux's virtio_rpmsg_bus on the host, OpenAMP's rpmsg_virtio in
// its device role here). The remote core is the virtio DEVICE; the host is the driver.
//
//   vdev (virtio id 7) in the loaded resource table, two vrings:
//     vring0  remote -> host. The host posts empty device-writable buffers (bufferSize bytes each); the remote
//             takes one, writes rpmsg_hdr + payload into it and returns it in the used ring with len 16 + n.
//     vring1  host -> remote. The host posts readable buffers holding rpmsg_hdr + payload (len 16 + n); the
//             remote takes them, dispatches them to endpoints and returns them used (len 0: nothing written).
//   rpmsg_hdr (16 B): src u32 @0, dst u32 @4, reserved u32 @8, len u16 @12, flags u16 @14; payload @16.
//   Name service (if the host accepted VIRTIO_RPMSG_F_NS, gfeatures bit 0): an endpoint created with a name
//     is announced with a 40-byte rpmsg_ns_msg {name[32], addr u32, flags u32 (0 CREATE, 1 DESTROY)} sent
//     from the endpoint's address to address 53.
//
// Start-up: the runtime starts before the host's driver probes the device. The device waits until the vdev
// status shows DRIVER_OK (bit 2, value 4) before it touches a ring: it polls the status, looks again on every
// doorbell ring, traces a "still waiting" diagnostic periodically, and the heartbeat keeps running. Then it
// reads gfeatures and the vrings' da/num/align/notifyid the host wrote back, and announces the named endpoints.
// If the host later clears DRIVER_OK (a reset), the rings are dropped and the device waits again; endpoints
// are announced again on the next DRIVER_OK.
//
// Trust: descriptor addresses are device addresses, translated through the memory regions; a ring or a
// descriptor outside them, or any other ring protocol violation, is traced and reported as a fatal error
// (the runtime never traps on a hostile host). A malformed message (buffer shorter than the header, header
// length past the buffer) or one without a recipient is counted, traced, and its buffer returned.
//
// Notifications: the device rings the host's doorbell with a vring's notifyid when the virtqueue says the
// host wants an interrupt; the host rings the remote's doorbell with notifyids (bit 31: look at everything).

import AmpSystem
import AmpVirtio
import AmpWire

/// The remote core's virtio rpmsg device: endpoints, name-service announcements, sending and receiving over
/// the two vrings of the rpmsg vdev. Get it with ``RemoteCore/rpmsg`` or ``RemoteCore/startRpmsg(_:)``.
///
/// Everything runs on the message loop's thread (setup code and callbacks); nothing here is thread-safe.
public final class RpmsgRemoteDevice {
    /// Where a vring is, as the host published it when it set DRIVER_OK.
    public struct VringInfo: Sendable, Equatable {
        /// 0 (to the host) or 1 (from the host).
        public var index: Int
        public var da: UInt32
        public var num: UInt32
        public var align: UInt32
        public var notifyID: UInt32
    }

    /// A name-service message the host sent to address 53.
    public struct Announcement: Sendable, Equatable {
        public var name: String
        /// The host endpoint's address.
        public var address: UInt32
        /// DESTROY rather than CREATE.
        public var isDestroy: Bool
    }

    /// A queued name-service announcement (sent once the host is ready and a buffer is free).
    struct PendingAnnouncement {
        var name: RpmsgName
        var address: UInt32
        var action: NameServiceMessage.Action
    }

    unowned let core: RemoteCore
    /// The settings this device was started with.
    public let configuration: RpmsgRemoteConfiguration
    /// The firmware's rpmsg vdev (nil over SMD, which leaves the vdevs alone).
    let vdev: VirtioVdevView?
    /// Bytes per rpmsg buffer (the control block's `bufferSize`, 512 when it is 0).
    public let bufferSize: Int
    /// The largest payload a message can carry: `bufferSize - 16` (over SMD: a channel's FIFO size - 21).
    public let mtu: Int
    /// The SMD edge when the control block says `rpmsgTransport = 1` (RpmsgRemoteDevice+Smd.swift), else nil.
    let smd: SmdRemoteTransport?

    // Hot state is marked @exclusivity(unchecked): every message reads and writes it, and the runtime's
    // dynamic exclusivity checks (swift_beginAccess, a thread-local lookup each) cost more than the rest of the
    // receive path. Only the message loop's thread touches it, never re-entrantly with a mutation in progress.

    /// Whether the host's driver has set DRIVER_OK and the rings are in use.
    @exclusivity(unchecked) public internal(set) var isReady = false
    /// The features the host accepted (`gfeatures`), valid once ready.
    @exclusivity(unchecked) public private(set) var features: UInt32 = 0
    /// The vrings, once ready.
    public private(set) var vrings: [VringInfo] = []
    /// Running totals.
    public var counters: RpmsgRemoteCounters { tallies }
    /// Whether name-service announcements are sent (the host accepted VIRTIO_RPMSG_F_NS).
    public var hasNameService: Bool { isReady && VirtioFeatureBit.rpmsgNameService.isSet(in: features) }

    @exclusivity(unchecked) var tallies = RpmsgRemoteCounters()
    /// Incremented whenever the rings are set up or dropped: held and zero-copy buffers of another session
    /// are stale.
    @exclusivity(unchecked) var session: UInt32 = 0
    /// vring0 (to the host) and vring1 (from the host), while ready.
    /// Per message, both are used through their unretained copies (``HotReference``).
    @exclusivity(unchecked) var toHostQueue = HotReference<VirtqueueDevice>()
    @exclusivity(unchecked) var fromHostQueue = HotReference<VirtqueueDevice>()
    var toHost: VirtqueueDevice? {
        get { toHostQueue.object }
        set { toHostQueue.set(newValue) }
    }
    var fromHost: VirtqueueDevice? {
        get { fromHostQueue.object }
        set { fromHostQueue.set(newValue) }
    }
    @exclusivity(unchecked) var toHostNotifyID: UInt32 = 0
    @exclusivity(unchecked) var fromHostNotifyID: UInt32 = 0
    /// Buffers taken from vring0 and given back unused (released zero-copy buffers); used first.
    @exclusivity(unchecked) var spareTxBuffers: [AvailableBuffer] = []
    /// Used entries added to vring1 since its last publish.
    @exclusivity(unchecked) var rxReturnsUnpublished = false
    @exclusivity(unchecked) var endpoints: [UInt32: RpmsgRemoteEndpoint] = [:]
    @exclusivity(unchecked) var pendingAnnouncements: [PendingAnnouncement] = []
    var notedAnnouncementWait = false
    var readyHandlers: [() -> Void] = []
    var announcementHandlers: [(Announcement) -> Void] = []
    @exclusivity(unchecked) var isServicingRx = false
    @exclusivity(unchecked) var rxContinuationPosted = false
    /// How many looks a drained receive pass makes for more before returning to the loop (0 on one CPU).
    let rxLingerLooks: Int
    /// The zero-copy buffer object handed out last, reused by the next ``txBuffer(timeout:)`` when nobody else
    /// holds it and it was sent or released.
    @exclusivity(unchecked) var lastTxBuffer: RpmsgTxBuffer?
    /// A delivered message object nobody kept, reused for the next message.
    @exclusivity(unchecked) var spareMessage: RpmsgReceivedMessage?
    /// The batch serviceRx is delivering: buffers taken from vring1 and their header copies (a fixed block of
    /// ``rxBatchSize`` entries; serviceRx does not nest, and both element types are plain values).
    let rxBatch = UnsafeMutablePointer<(AvailableBuffer, WireHeaderCopy)>.allocate(capacity: RpmsgRemoteDevice.rxBatchSize)
    /// The endpoint the last message went to (cleared when an endpoint is destroyed); the receive path uses
    /// its unretained copy.
    @exclusivity(unchecked) var lastEndpoint = HotReference<RpmsgRemoteEndpoint>()
    /// Cleared when the device goes away (its endpoints reach it unretained).
    let lifetime = DeviceLifetime()
    // Read once: another module's globals cost an accessor call each time they are read on the hot path.
    let byteOrder = ByteOrder.host
    let headerSize = RpmsgHeader.size
    let addressAny = RpmsgConstants.addressAny
    let nameServiceAddress = RpmsgConstants.nameServiceAddress
    private var statusPollTimer: MessageLoop.TimerHandle?
    private var waitTraceTimer: MessageLoop.TimerHandle?
    private var waitingSince: UInt64 = 0

    deinit {
        lifetime.isAlive = false
        rxBatch.deallocate()
    }

    init(core: RemoteCore, configuration: RpmsgRemoteConfiguration) throws(RpmsgRemoteError) {
        self.core = core
        self.configuration = configuration
        rxLingerLooks = core.loop.spins ? VirtqueuePolling.lingerLooks : 0
        let edge = try SmdRemoteTransport.kind(of: core) == .smd ? SmdRemoteTransport.attach(core: core) : nil
        smd = edge
        vdev = edge == nil ? try VirtioVdevView(core: core) : nil
        bufferSize = core.layout.bufferSize == 0 ? RpmsgConstants.defaultBufferSize : Int(core.layout.bufferSize)
        mtu = edge?.maximumPayload ?? RpmsgConstants.mtu(bufferSize: bufferSize)
        if let edge {
            startSmd(edge)
            return
        }
        // Unretained: this runs for every message, and an `unowned` capture costs reference counting each time.
        // The core keeps its device for its whole life (`RemoteCore.rpmsgDevice`, set right after this init,
        // which cannot fail from here on), and the loop belongs to the core.
        let device = Unmanaged.passUnretained(self)
        core.loop.onAnyNotify { bits in device._withUnsafeGuaranteedRef { $0.handleNotification(bits) } }
        core.loop.onStop { [unowned self] in
            let totals = tallies
            core.trace("rpmsg: stopping: received \(totals.received), sent \(totals.sent), dropped \(totals.dropped), "
                + "malformed \(totals.malformed), held \(totals.held)")
        }
        startWaiting()
        checkStatus()
    }

    // MARK: Handlers

    /// Runs `handler` (from the loop) each time the host's driver sets DRIVER_OK, after the queued
    /// announcements were sent; at the next pass if the device is ready already.
    public func onReady(_ handler: @escaping () -> Void) {
        readyHandlers.append(handler)
        if isReady { core.loop.post(handler) }
    }

    /// Runs `handler` for every name-service message the host sends to address 53 (when the host accepted
    /// the name-service feature), like OpenAMP's name-service bind callback.
    public func onAnnouncement(_ handler: @escaping (Announcement) -> Void) {
        announcementHandlers.append(handler)
    }

    // MARK: Endpoints

    /// Creates an endpoint at `address` (``RpmsgRemoteEndpoint/addressAny``: the lowest free address from
    /// 1024 up) whose `callback` receives every message sent to that address. With a `name` the endpoint is
    /// announced to the host (name-service CREATE from the endpoint's address to 53) as soon as the host is
    /// ready and a buffer is free; the host then creates a channel of that name.
    ///
    /// - Throws: `invalidName` (empty, longer than 31 bytes or containing NUL), `addressInUse` (the address
    ///   has an endpoint, or is the name service's 53).
    @discardableResult
    public func createEndpoint(
        name: String?, address: UInt32 = RpmsgRemoteEndpoint.addressAny,
        callback: @escaping (RpmsgReceivedMessage) -> Void
    ) throws(RpmsgRemoteError) -> RpmsgRemoteEndpoint {
        var rpmsgName: RpmsgName?
        if let name {
            guard !name.isEmpty else { throw RpmsgRemoteError(.invalidName, "rpmsg: an endpoint name cannot be empty") }
            do {
                rpmsgName = try RpmsgName(name)
            } catch {
                throw RpmsgRemoteError(.invalidName, "rpmsg: endpoint name \"\(name)\": \(error.reason)")
            }
        }
        let chosen: UInt32
        if address == RpmsgConstants.addressAny {
            var candidate = RpmsgConstants.reservedAddressLimit
            while endpoints[candidate] != nil { candidate += 1 }
            chosen = candidate
        } else {
            guard address != RpmsgConstants.nameServiceAddress else {
                throw RpmsgRemoteError(.addressInUse, "rpmsg: address 53 belongs to the name service")
            }
            guard endpoints[address] == nil else {
                throw RpmsgRemoteError(.addressInUse, "rpmsg: address \(rpmsgHex(address)) already has an endpoint")
            }
            chosen = address
        }
        let endpoint = RpmsgRemoteEndpoint(device: self, name: rpmsgName, address: chosen, callback: callback)
        if let smd {
            if let name { try bindSmdChannel(endpoint, name: name, smd: smd) }
            endpoints[chosen] = endpoint
            return endpoint
        }
        endpoints[chosen] = endpoint
        if let rpmsgName { announce(PendingAnnouncement(name: rpmsgName, address: chosen, action: .create)) }
        return endpoint
    }

    /// Removes `endpoint`; a named one is announced as destroyed (or its creation is never sent, if it was
    /// still queued).
    func destroy(_ endpoint: RpmsgRemoteEndpoint) {
        guard endpoints[endpoint.address] === endpoint else { return }
        endpoints[endpoint.address] = nil
        lastEndpoint.set(nil)
        if let smd { return unbindSmdChannel(endpoint, smd: smd) }
        guard let name = endpoint.rpmsgName else { return }
        if let queued = pendingAnnouncements.firstIndex(where: { $0.address == endpoint.address && $0.action == .create }) {
            pendingAnnouncements.remove(at: queued)
        } else {
            announce(PendingAnnouncement(name: name, address: endpoint.address, action: .destroy))
        }
    }

    /// The endpoint at `address`, if any.
    public func endpoint(at address: UInt32) -> RpmsgRemoteEndpoint? { endpoints[address] }

    // MARK: Waiting for the host's driver

    /// Looks at the vdev status: DRIVER_OK (without FAILED) makes the device ready; losing it while ready
    /// drops the rings.
    func checkStatus() {
        guard let vdev else { return }
        let status = vdev.status()
        let usable = status.contains(.driverOK) && !status.contains(.failed)
        if usable && !isReady {
            becomeReady()
        } else if !usable && isReady {
            hostReset(status)
        }
    }

    /// Polls the status until DRIVER_OK, and traces a "still waiting" diagnostic after `driverWaitTraceInterval`,
    /// then at doubling intervals up to ``maximumWaitTraceInterval`` (so a long wait does not flood the trace).
    private func startWaiting() {
        waitingSince = MonotonicClock.nanoseconds()
        statusPollTimer = core.loop.every(configuration.statusPollInterval) { [unowned self] in checkStatus() }
        scheduleWaitTrace(after: configuration.driverWaitTraceInterval)
    }

    /// The longest interval between two "still waiting" traces (unless `driverWaitTraceInterval` is longer).
    static let maximumWaitTraceInterval: Duration = .seconds(30)

    private func scheduleWaitTrace(after delay: Duration) {
        waitTraceTimer = core.loop.after(delay) { [unowned self] in
            guard !isReady, let vdev else { return }
            core.trace("rpmsg: still waiting for the host's virtio driver after \(elapsedText(since: waitingSince)): "
                + "\(vdev.label) status \(statusText(vdev.status())) (DRIVER_OK not set), rings untouched, heartbeat running")
            scheduleWaitTrace(after: min(delay * 2, max(Self.maximumWaitTraceInterval, configuration.driverWaitTraceInterval)))
        }
    }

    private func becomeReady() {
        guard let vdev else { return }
        let snapshot: VirtioVdevView.Snapshot
        do { snapshot = try vdev.snapshot() } catch { core.fatal(error.message) }
        let eventIndex = VirtioFeatureBit.ringEventIndex.isSet(in: snapshot.gfeatures)
        let ring0 = snapshot.vrings[0]
        let ring1 = snapshot.vrings[1]
        toHost = makeQueue(index: 0, ring0, eventIndex: eventIndex)
        fromHost = makeQueue(index: 1, ring1, eventIndex: eventIndex)
        toHostNotifyID = ring0.notifyid
        fromHostNotifyID = ring1.notifyid
        vrings = [ring0, ring1].enumerated().map { index, ring in
            VringInfo(index: index, da: ring.da, num: ring.num, align: ring.align, notifyID: ring.notifyid)
        }
        features = snapshot.gfeatures
        session &+= 1
        isReady = true
        // Kicks for vring0 only while a sender waits for a buffer (takeTxBuffer asks for them then).
        toHost?.disableNotifications()
        installIdlePoller()
        statusPollTimer?.cancel()
        waitTraceTimer?.cancel()
        statusPollTimer = nil
        waitTraceTimer = nil
        let unoffered = features & ~vdev.dfeatures
        core.trace("rpmsg: host driver ready after \(elapsedText(since: waitingSince)): status \(statusText(snapshot.status)), "
            + "features \(hex(features))\(unoffered != 0 ? " (not offered: \(hex(unoffered)))" : ""), "
            + vrings.map { "vring\($0.index) da \(hex($0.da)) num \($0.num) notifyid \($0.notifyID)" }.joined(separator: ", ")
            + ", mtu \(mtu)")
        core.loop.post { [unowned self] in
            flushAnnouncements()
            serviceRx()
            for handler in readyHandlers { handler() }
        }
    }

    private func makeQueue(index: Int, _ vring: Resource.VdevVring, eventIndex: Bool) -> VirtqueueDevice {
        let name = "vring\(index)"
        let layout: VringLayout
        do {
            layout = try VringLayout(num: Int(vring.num), align: Int(vring.align))
        } catch {
            protocolViolation("\(name): \(error.field) \(error.reason)")
        }
        guard let ring = core.translate(da: vring.da, count: layout.totalSize) else {
            protocolViolation("\(name): da \(hex(vring.da)): the \(layout.totalSize)-byte ring is outside every memory region")
        }
        let map = core.addressMap
        do {
            return try VirtqueueDevice(
                name: name, ring: ring, num: layout.num, align: layout.align, eventIndex: eventIndex,
                translate: { address, length in
                    guard let da = UInt32(exactly: address) else { return nil }
                    return map.translate(da: da, count: Int(length))
                })
        } catch {
            protocolViolation(error.message)
        }
    }

    /// The host cleared DRIVER_OK: forget the rings and every buffer taken from them, queue the named
    /// endpoints' announcements again, and wait for the next DRIVER_OK.
    private func hostReset(_ status: VirtioStatus) {
        core.trace("rpmsg: the host reset the virtio device (status \(statusText(status))): rings released, "
            + "\(tallies.held) held buffer(s) forgotten, waiting for DRIVER_OK again")
        isReady = false
        core.loop.removeIdlePoller()
        toHost = nil
        fromHost = nil
        spareTxBuffers = []
        rxReturnsUnpublished = false
        tallies.held = 0
        session &+= 1
        pendingAnnouncements = endpoints.values.sorted { $0.address < $1.address }.compactMap { endpoint in
            endpoint.rpmsgName.map { PendingAnnouncement(name: $0, address: endpoint.address, action: .create) }
        }
        startWaiting()
    }

    // MARK: Notifications

    /// Lets the message loop poll vring1 for host messages while it spins on its doorbell (the receive path
    /// asks the host not to kick meanwhile), and re-enable the host's kicks before it sleeps. The closures
    /// hold this session's vring1 itself (polling is one load, with no access to the device); a host reset
    /// removes them, and the next DRIVER_OK installs new ones.
    private func installIdlePoller() {
        guard let queue = fromHost else { return }
        core.loop.setIdlePoller(
            bits: MailboxLayout.bit(forNotifyID: fromHostNotifyID),
            poll: { queue.hasPendingAvailable },
            arm: {
                // Kicks on again, then a last look (after enableNotifications' fence), as plausible as polling.
                _ = queue.enableNotifications()
                return queue.hasPendingAvailable
            })
    }

    /// The host rang the doorbell: look at the status, then at vring0 (buffers for queued announcements)
    /// and vring1 (messages) when their notify ids (or bit 31) are in `bits`.
    func handleNotification(_ bits: UInt32) {
        checkStatus()
        guard isReady else { return }
        let everything = bits & MailboxLayout.overflowBit != 0
        if everything || bits & MailboxLayout.bit(forNotifyID: toHostNotifyID) != 0 { flushAnnouncements() }
        if everything || bits & MailboxLayout.bit(forNotifyID: fromHostNotifyID) != 0 { serviceRx() }
    }

    // MARK: Failures

    /// Counts and reports a ring protocol violation by the host as a fatal error (traced by the crash report).
    func protocolViolation(_ detail: String) -> Never {
        tallies.violations &+= 1
        core.fatal("rpmsg: host protocol violation: \(detail)")
    }

    private func elapsedText(since start: UInt64) -> String {
        let milliseconds = (MonotonicClock.nanoseconds() &- start) / 1_000_000
        return "\(milliseconds / 1000).\(milliseconds % 1000 / 100) s"
    }

    private func statusText(_ status: VirtioStatus) -> String {
        let digits = String(status.rawValue, radix: 16)
        return "0x" + (digits.count < 2 ? "0" : "") + digits
    }
}

/// `0x` and lowercase hex digits without padding, as Linux prints rpmsg addresses.
func rpmsgHex(_ value: UInt32) -> String { "0x" + String(value, radix: 16) }

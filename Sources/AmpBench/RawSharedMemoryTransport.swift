import AmpSystem
import CAmpShim
import Glibc
import Synchronization

/// Numbers segment names, so transports started at the same time in one process never collide.
private let segmentCounter = Atomic<Int>(0)

/// The "raw" column: the cheapest thing two processes can do with shared memory and the project's
/// ``Doorbell`` (futex kind, default spin budget), with no protocol layers in between. Round trips use the
/// ping/pong slots; streams use the single-producer single-consumer ring, ringing the doorbell only when the
/// other side sleeps. The layout and protocol are in ``RawSharedMemoryLayout``; the peer side is
/// ``RawSharedMemoryResponder`` in `ampsoc-bench-peer raw-shm`.
///
/// The segment is named like every ampsoc segment ("/ampsoc.bench.<pid>-<start>.raw<n>") and unlinked as soon
/// as the peer has mapped it, so nothing is left in /dev/shm even if the benchmark is killed.
public final class RawSharedMemoryTransport: BenchTransport {
    public let name = "raw shared memory"
    public var maximumPayloadSize: Int { RawSharedMemoryLayout.maximumPayload }
    public var idleProcessIDs: [pid_t] { [] }
    /// The peer's process id (e.g. to measure its CPU use while it waits).
    public var peerProcessID: pid_t { peer.child.pid }
    /// The segment's name (already unlinked once the transport is started).
    public let segmentName: String

    /// How long one doorbell wait lasts before the host checks that the peer is still alive.
    static let waitSlice: Duration = .milliseconds(250)
    /// How many silent wait slices in a row mean the peer is stuck.
    static let maximumSilentSlices = 40

    private let region: RawSharedMemoryRegion
    private let peer: BenchPeerProcess
    private let sendBuffer: UnsafeMutableRawPointer
    private let receiveBuffer: UnsafeMutableRawPointer
    private var pingCount: UInt32 = 0
    private var head: UInt32 = 0
    private var isShutDown = false

    private init(region: RawSharedMemoryRegion, peer: BenchPeerProcess, segmentName: String) {
        self.region = region
        self.peer = peer
        self.segmentName = segmentName
        sendBuffer = UnsafeMutableRawPointer.allocate(byteCount: RawSharedMemoryLayout.slotSize, alignment: 64)
        receiveBuffer = UnsafeMutableRawPointer.allocate(byteCount: RawSharedMemoryLayout.slotSize, alignment: 64)
        for index in 0..<RawSharedMemoryLayout.slotSize {
            sendBuffer.storeBytes(of: UInt8(truncatingIfNeeded: index &* 7 &+ 1), toByteOffset: index, as: UInt8.self)
        }
        receiveBuffer.initializeMemory(as: UInt8.self, repeating: 0, count: RawSharedMemoryLayout.slotSize)
    }

    deinit {
        if !isShutDown { try? shutDown() }
        sendBuffer.deallocate()
        receiveBuffer.deallocate()
    }

    /// Creates the segment, starts `ampsoc-bench-peer raw-shm` on it, waits until it is ready, and unlinks the
    /// segment's name.
    public static func start() throws(BenchError) -> RawSharedMemoryTransport {
        let number = segmentCounter.wrappingAdd(1, ordering: .relaxed).newValue
        let (segment, region) = try withSystemErrors { () throws(SystemError) -> (SharedMemorySegment, RawSharedMemoryRegion) in
            let name = try SegmentNames.make(instance: "bench", rproc: "raw\(number)").path
            let segment = try SharedMemorySegment.create(name: name, size: RawSharedMemoryLayout.segmentSize)
            return (segment, try RawSharedMemoryRegion(segment: segment))
        }
        let peer = try BenchPeerProcess.start(
            transport: "raw shared memory", mode: BenchPeerMain.Mode.rawSharedMemory.rawValue,
            arguments: ["--segment", segment.name])
        try withSystemErrors { () throws(SystemError) in try segment.unlink() }
        return RawSharedMemoryTransport(region: region, peer: peer, segmentName: segment.name)
    }

    // MARK: Round trips

    public func roundTrip(size: Int) throws(BenchError) {
        try checkPayloadSize(size)
        region.writeMessage(slotOffset: RawSharedMemoryLayout.pingSlot, from: sendBuffer, count: size)
        pingCount &+= 1
        region.pingSequence.storeReleasing(pingCount)
        try withSystemErrors { () throws(SystemError) in
            try region.hostToPeer.ring(notifyID: RawSharedMemoryLayout.messageNotifyID)
        }
        var silentSlices = 0
        while region.pongSequence.loadAcquiring() != pingCount {
            try waitForPeer(&silentSlices)
        }
        let length = region.readMessage(slotOffset: RawSharedMemoryLayout.pongSlot, into: receiveBuffer)
        guard length == size else {
            throw .protocolViolation(transport: name, detail: "pong of \(length.map(String.init) ?? "invalid") bytes for a \(size)-byte ping")
        }
    }

    // MARK: Streams

    public func stream(size: Int, count: Int) throws(BenchError) {
        try checkPayloadSize(size)
        let slots = UInt32(RawSharedMemoryLayout.ringSlotCount)
        for _ in 0..<count {
            if head &- region.ringTail.loadAcquiring() >= slots {
                let target = head
                try waitForTail { target &- $0 < slots }
            }
            region.writeMessage(slotOffset: RawSharedMemoryLayout.ringSlot(head), from: sendBuffer, count: size)
            head &+= 1
            region.ringHead.storeReleasing(head)
            // A fenced look at the consumer's flag every 16 messages keeps a sleeping consumer's wait short;
            // the look before every wait below is what makes sleeping safe.
            if head & 15 == 0 { try wakeConsumerIfWaiting() }
        }
        let target = head
        try waitForTail { $0 == target }
    }

    /// Rings "ring data" if the consumer has said it is about to sleep (after a fence: see the layout's
    /// protocol note).
    private func wakeConsumerIfWaiting() throws(BenchError) {
        amp_fence_seq_cst()
        if region.consumerWaiting.loadRelaxed() != 0 {
            try withSystemErrors { () throws(SystemError) in
                try region.hostToPeer.ring(notifyID: RawSharedMemoryLayout.ringNotifyID)
            }
        }
    }

    /// Waits until `condition(tail)` holds, sleeping on the peer->host doorbell with `producerWaiting` set.
    private func waitForTail(_ condition: (UInt32) -> Bool) throws(BenchError) {
        var silentSlices = 0
        while !condition(region.ringTail.loadAcquiring()) {
            try wakeConsumerIfWaiting()
            region.producerWaiting.storeRelaxed(1)
            amp_fence_seq_cst()
            if condition(region.ringTail.loadAcquiring()) {
                region.producerWaiting.storeRelaxed(0)
                return
            }
            do {
                try waitForPeer(&silentSlices)
            } catch {
                region.producerWaiting.storeRelaxed(0)
                throw error
            }
            region.producerWaiting.storeRelaxed(0)
        }
    }

    /// One doorbell wait of at most ``waitSlice``; after a silent slice, checks that the peer still runs, and
    /// gives up after ``maximumSilentSlices`` silent slices in a row.
    private func waitForPeer(_ silentSlices: inout Int) throws(BenchError) {
        let mask = try withSystemErrors { () throws(SystemError) -> UInt32 in
            try region.peerToHost.wait(timeout: Self.waitSlice)
        }
        if mask != 0 {
            silentSlices = 0
            return
        }
        try peer.checkRunning()
        silentSlices += 1
        if silentSlices >= Self.maximumSilentSlices {
            throw .peerFailed(transport: name, detail: "no answer for \(Self.maximumSilentSlices / 4) s")
        }
    }

    // MARK: Shutting down

    public func shutDown() throws(BenchError) {
        guard !isShutDown else { return }
        isShutDown = true
        region.stop.storeReleasing(1)
        try withSystemErrors { () throws(SystemError) in try region.hostToPeer.wake() }
        try peer.finish()
    }
}

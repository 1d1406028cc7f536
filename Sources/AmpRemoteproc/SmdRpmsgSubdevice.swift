import AmpProfiles
import AmpRpmsg
import AmpRpmsgSMD
import AmpSMD
import AmpSystem
import AmpWire

/// The SMD edge of one boot of a remote processor whose profile says `"rpmsgTransport": "smd"` (Linux's
/// qcom_smd edge, tied to the remote's lifetime as qcom_common's smd subdevice): one ``SmdRpmsgEdgeLink`` over
/// the processor's smem region, its bus attached to the host's shared driver registry, and its service thread.
///
/// The SMEM heap is prepared before the firmware process is spawned (``prepare(segment:memoryMap:rproc:)``, the
/// boot loader's part); the link starts after the spawn and goes down before the process is stopped, as the
/// virtio subdevice does. A crash therefore resets every SMD channel; the next boot starts from an empty heap.
final class SmdRpmsgSubdevice: RpmsgSubdevice {
    /// The mailbox notify id of the SMD edge (both directions).
    static let notifyID: UInt32 = 0

    let link: SmdRpmsgEdgeLink
    let warnings: [String]
    private let thread: SmdRpmsgServiceThread
    private let failures: FailureRecord
    private var stopped = false

    private init(link: SmdRpmsgEdgeLink, warnings: [String], thread: SmdRpmsgServiceThread, failures: FailureRecord) {
        self.link = link
        self.warnings = warnings
        self.thread = thread
        self.failures = failures
    }

    /// Where the edge lives: the processor's smem region, and the control block's `smemLock` word as the
    /// SMEM spinlock.
    static func placement(memoryMap: RemoteMemoryMap, rproc: String) throws(RemoteprocError) -> SmdEdgePlacement {
        guard let region = memoryMap.regions(of: .smem).first else {
            throw RemoteprocError(rproc: rproc, code: .invalidArgument, message: "an SMD remote needs a memory region of kind smem")
        }
        return SmdEdgePlacement(
            smemOffset: region.segmentOffset, smemSize: Int(region.size), spinlockOffset: ControlBlock.smemLockOffset)
    }

    /// Writes an empty SMEM heap into the smem region, as the boot loader does before the remote runs.
    static func prepare(segment: SharedMemorySegment, memoryMap: RemoteMemoryMap, rproc: String) throws(RemoteprocError) {
        let placement = try placement(memoryMap: memoryMap, rproc: rproc)
        do throws(SmdError) {
            try placement.prepare(in: segment)
        } catch {
            throw RemoteprocError(rproc: rproc, code: .invalidArgument, message: "smem region: \(error)")
        }
    }

    /// Starts the edge: the link (attached to the registry) and its service thread on `toHost`.
    /// - Parameter vdevCount: rpmsg vdevs in the firmware's table, left alone (reported as warnings).
    static func start(
        profile: RemoteProcessorProfile, memoryMap: RemoteMemoryMap, segment: SharedMemorySegment, toRemote: Doorbell,
        toHost: Doorbell, context: HostContext, vdevCount: Int
    ) throws(RemoteprocError) -> SmdRpmsgSubdevice {
        let rproc = profile.name
        let placement = try placement(memoryMap: memoryMap, rproc: rproc)
        let link: SmdRpmsgEdgeLink
        do throws(SmdError) {
            link = try SmdRpmsgEdgeLink(
                name: "\(rproc).smd", segment: segment, placement: placement, edgeID: UInt8(truncatingIfNeeded: profile.smdEdge ?? 0),
                toRemote: toRemote, toHost: toHost, notifyID: notifyID)
        } catch {
            throw RemoteprocError(rproc: rproc, code: .invalidArgument, message: "SMD edge: \(error)")
        }
        let failures = FailureRecord()
        let wake = context.wakeMainLoop
        let name = link.name
        context.rpmsgEvents.register(link: name, rproc: rproc)
        link.attach(registry: context.rpmsgRegistry, sendTimeout: context.rpmsgSendTimeout) { detail in
            failures.record("\(name): \(detail)")
            wake()
        }
        let thread = SmdRpmsgServiceThread(name: "ampsoc \(rproc) smd", doorbell: toHost, links: [link])
        thread.start()
        let warnings = (0..<vdevCount).map { "vdev \($0): left alone: \(rproc) talks rpmsg over SMD (rpmsgTransport smd)" }
        return SmdRpmsgSubdevice(link: link, warnings: warnings, thread: thread, failures: failures)
    }

    var buses: [RpmsgBus] { link.bus.map { [$0] } ?? [] }

    func takeFailure() -> String? { failures.take() }

    func stop() {
        guard !stopped else { return }
        stopped = true
        link.close()
        _ = thread.stop()
        link.shutDown()
    }
}

import AmpRpmsg
import AmpRpmsgVirtio
import AmpSystem
import AmpWire
import Synchronization

/// The virtio rpmsg devices of one boot of a remote processor (Linux's rproc vdev subdevice with the
/// virtio_rpmsg_bus driver bound): one ``VirtioRpmsgLink`` per rpmsg vdev of the resource table, their
/// buses attached to the host's shared driver registry, and the thread that services them.
///
/// Lifetime (see ``RemoteSession``): started after the firmware process was spawned (the remote waits for
/// DRIVER_OK), stopped before the process is stopped or killed and before the segment goes away:
/// links closed -> service thread joined -> buses down (channels destroyed, drivers' remove runs) ->
/// devices reset. A protocol violation on any link is kept for the main loop (``takeFailure()``), which
/// treats it as a fatal error of the remote.
final class VirtioRpmsgSubdevice: RpmsgSubdevice {
    let rproc: String
    /// One per rpmsg vdev, in table order.
    let links: [VirtioRpmsgLink]
    /// Notes about vdevs that got no link.
    let warnings: [String]
    private let thread: VirtioRpmsgInterruptThread
    private let failures: FailureRecord
    private var stopped = false

    private init(
        rproc: String, links: [VirtioRpmsgLink], warnings: [String], thread: VirtioRpmsgInterruptThread,
        failures: FailureRecord
    ) {
        self.rproc = rproc
        self.links = links
        self.warnings = warnings
        self.thread = thread
        self.failures = failures
    }

    /// Probes every rpmsg vdev of `allocation` (rings set up, receive buffers posted, DRIVER_OK, vring0
    /// kicked) and starts the service thread on `toHost`.
    ///
    /// - Throws: a ``RemoteprocError`` naming the vdev when its rings or buffer pool do not fit the segment.
    static func start(
        rproc: String, allocation: ResourceAllocation, segment: SharedMemorySegment, toRemote: Doorbell,
        toHost: Doorbell, context: HostContext
    ) throws(RemoteprocError) -> VirtioRpmsgSubdevice {
        var links = [VirtioRpmsgLink]()
        var warnings = [String]()
        for vdev in allocation.vdevs {
            guard vdev.id == VirtioDeviceID.rpmsg else {
                warnings.append("vdev \(vdev.index): virtio device id \(vdev.id) has no host driver; left alone")
                continue
            }
            guard let layout = layout(of: vdev, in: allocation) else {
                warnings.append(
                    "vdev \(vdev.index): rpmsg device without two vrings, a buffer pool and a loaded table; left alone")
                continue
            }
            do {
                links.append(
                    try VirtioRpmsgLink(
                        name: "\(rproc).vdev\(vdev.index)", segment: segment, layout: layout, toRemote: toRemote,
                        toHost: toHost))
            } catch {
                throw RemoteprocError(rproc: rproc, code: .invalidArgument, message: "vdev \(vdev.index): \(error)")
            }
        }
        let failures = FailureRecord()
        let wake = context.wakeMainLoop
        for link in links {
            context.rpmsgEvents.register(link: link.name, rproc: rproc)
            let name = link.name
            link.attach(registry: context.rpmsgRegistry, sendTimeout: context.rpmsgSendTimeout) { detail in
                failures.record("\(name): \(detail)")
                wake()
            }
        }
        let thread = VirtioRpmsgInterruptThread(name: "ampsoc \(rproc) rpmsg", doorbell: toHost, links: links)
        if !links.isEmpty { thread.start() }
        return VirtioRpmsgSubdevice(rproc: rproc, links: links, warnings: warnings, thread: thread, failures: failures)
    }

    /// The link layout of an rpmsg vdev: vring0 receives, vring1 sends; nil unless it has both rings, a
    /// buffer pool and a loaded table.
    static func layout(of vdev: VdevRecord, in allocation: ResourceAllocation) -> VirtioRpmsgLayout? {
        guard vdev.vrings.count == 2, let pool = vdev.bufferPool,
            let statusOffset = allocation.segmentOffset(ofTableOffset: vdev.statusOffset),
            let featuresOffset = allocation.segmentOffset(ofTableOffset: vdev.gfeaturesOffset)
        else { return nil }
        func ring(_ record: VringRecord) -> VirtioRpmsgVring {
            VirtioRpmsgVring(
                da: record.da, segmentOffset: record.segmentOffset, num: Int(record.num), align: Int(record.align),
                notifyID: record.notifyid)
        }
        return VirtioRpmsgLayout(
            receive: ring(vdev.vrings[0]), transmit: ring(vdev.vrings[1]),
            pool: VirtioRpmsgBufferPool(
                da: pool.da, segmentOffset: pool.segmentOffset, count: pool.count, bufferSize: pool.bufferSize),
            deviceFeatures: vdev.dfeatures, statusOffset: statusOffset, guestFeaturesOffset: featuresOffset)
    }

    /// The links' buses (until ``stop()``).
    var buses: [RpmsgBus] { links.compactMap(\.bus) }

    /// The first fatal violation of any link ("<link>: <detail>"), returned once.
    func takeFailure() -> String? { failures.take() }

    /// Takes every link down (idempotent): traffic stops, the service thread is joined, the buses go down
    /// (channels destroyed, drivers' remove runs on the calling thread), the devices are reset.
    func stop() {
        guard !stopped else { return }
        stopped = true
        for link in links { link.close() }
        thread.stop()
        for link in links { link.shutDown() }
    }
}

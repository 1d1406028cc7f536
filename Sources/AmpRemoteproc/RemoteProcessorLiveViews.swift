import AmpRpmsgVirtio
import AmpWire
import Synchronization

/// The state of one vring of a running remote's virtio rpmsg device, as `ampsoc vring` shows it.
public struct VringStatus: Sendable, Equatable {
    /// The link the ring belongs to ("ipu.vdev0").
    public var link: String
    /// 0 for vring0 (remote -> host, the host's receive ring), 1 for vring1 (host -> remote).
    public var index: Int
    /// Device address of the ring.
    public var da: UInt32
    /// Number of descriptors.
    public var num: Int
    /// The mailbox notify id.
    public var notifyID: UInt32
    /// `avail.idx` as it is in shared memory now (written by the host, the driver side).
    public var availIndex: UInt16
    /// `used.idx` as it is in shared memory now (written by the remote, the device side).
    public var usedIndex: UInt16
    /// `avail.flags` and `used.flags` now.
    public var availFlags: UInt16
    public var usedFlags: UInt16
    /// Buffers the host has on this ring right now: posted receive buffers for vring0, free transmit buffers
    /// for vring1.
    public var hostBuffers: Int

    public init(
        link: String, index: Int, da: UInt32, num: Int, notifyID: UInt32, availIndex: UInt16, usedIndex: UInt16,
        availFlags: UInt16, usedFlags: UInt16, hostBuffers: Int
    ) {
        self.link = link
        self.index = index
        self.da = da
        self.num = num
        self.notifyID = notifyID
        self.availIndex = availIndex
        self.usedIndex = usedIndex
        self.availFlags = availFlags
        self.usedFlags = usedFlags
        self.hostBuffers = hostBuffers
    }
}

// Live views of a running remote's shared memory, for the CLI and the Swift API (main loop thread only).
extension RemoteProcessor {
    /// The text of each trace buffer now (oldest first), in resource-table order; empty when offline.
    public func traceBufferTexts() -> [String] {
        liveSession?.traceBufferTexts() ?? []
    }

    /// The resource table as loaded into the remote's memory now (the remote may have written to it, e.g.
    /// vdev status and vring addresses).
    ///
    /// - Throws: `ENODEV` when the processor has no loaded image, or the read-back errors naming the field.
    public func loadedResourceTable() throws(RemoteprocError) -> ResourceTable {
        guard let session = liveSession else {
            throw RemoteprocError(rproc: name, code: .noDevice, message: "no loaded resource table: processor is \(state)")
        }
        return try SegmentImage.readLoadedTable(segment: session.segment, rproc: name)
    }

    /// The vrings of every virtio rpmsg link of the current boot, with their live indices.
    public func vringStatuses() -> [VringStatus] {
        guard let session = liveSession else { return [] }
        var result = [VringStatus]()
        for link in (session.rpmsg as? VirtioRpmsgSubdevice)?.links ?? [] {
            let rings = [(0, link.layout.receive, link.postedReceiveBuffers), (1, link.layout.transmit, link.freeTransmitBuffers)]
            for (index, ring, buffers) in rings {
                guard let layout = try? VringLayout(num: ring.num, align: ring.align),
                    ring.segmentOffset >= 0, ring.segmentOffset + layout.totalSize <= session.segment.size
                else { continue }
                let base = session.segment.base + ring.segmentOffset
                func load(_ offset: Int) -> UInt16 {
                    (base + offset).bindMemory(to: Atomic<UInt16>.self, capacity: 1).pointee.load(ordering: .acquiring)
                }
                result.append(
                    VringStatus(
                        link: link.name, index: index, da: ring.da, num: ring.num, notifyID: ring.notifyID,
                        availIndex: load(layout.availIdxOffset), usedIndex: load(layout.usedIdxOffset),
                        availFlags: load(layout.availOffset), usedFlags: load(layout.usedOffset), hostBuffers: buffers))
            }
        }
        return result
    }
}

// The remote's live view of its rpmsg vdev entry in the loaded resource table.
//
// The host (the virtio driver) writes into the loaded table while the remote runs, as Linux's
// remoteproc_virtio does: `status` (u8 at payload offset 20) as it probes the device (ACKNOWLEDGE 1,
// DRIVER 2, DRIVER_OK 4; 0 on reset), `gfeatures` (u32 at 12) before DRIVER_OK, and each vring's `da` and
// `notifyid` (fw_rsc_vdev_vring at 24 + 20*j: da@0, align@4, num@8, notifyid@12, pa@16). The device must not
// touch the rings before it sees DRIVER_OK.
//
// The status byte is read with an acquiring atomic load, so everything the host wrote before setting
// DRIVER_OK (gfeatures, vring addresses, the zeroed rings, the posted buffers) is visible afterwards. The rest
// of the entry is copied out of shared memory once and parsed with explicit offsets in the host's byte order.

import AmpSystem
import AmpWire
import Synchronization

/// Where the rpmsg vdev entry is, and the reads the device needs from it.
struct VirtioVdevView {
    /// What the device learns from the entry once the host set DRIVER_OK.
    struct Snapshot: Equatable {
        var status: VirtioStatus
        var gfeatures: UInt32
        var vrings: [Resource.VdevVring]
    }

    /// Index of the entry in the loaded table (for messages: "vdev@<offset>").
    let label: String
    /// Segment offset of the fw_rsc_vdev payload (after the 4-byte type word).
    let payloadOffset: Int
    /// `num_of_vrings` as parsed at attach.
    let vringCount: Int
    /// `dfeatures` as the firmware offered them.
    let dfeatures: UInt32
    private let segment: SharedMemorySegment

    /// Finds the first rpmsg vdev (virtio id 7) with at least two vrings in `core`'s loaded table.
    init(core: RemoteCore) throws(RpmsgRemoteError) {
        guard let loaded = core.layout.loadedTable else {
            throw RpmsgRemoteError(.noVirtioDevice, "rpmsg: the host published no loaded resource table")
        }
        for entry in loaded.table.entries {
            guard case .vdev(let vdev) = entry.resource, vdev.id == VirtioDeviceID.rpmsg else { continue }
            guard vdev.vrings.count >= 2 else {
                throw RpmsgRemoteError(
                    .noVirtioDevice, "rpmsg: \(entry.label) has \(vdev.vrings.count) vring(s); rpmsg needs two (vring0 to the host, vring1 from it)")
            }
            label = entry.label
            payloadOffset = loaded.segmentOffset + entry.offset + ResourceTable.entryHeaderSize
            vringCount = vdev.vrings.count
            dfeatures = vdev.dfeatures
            segment = core.segment
            return
        }
        throw RpmsgRemoteError(.noVirtioDevice, "rpmsg: the resource table has no rpmsg vdev (virtio id \(VirtioDeviceID.rpmsg))")
    }

    /// The status byte, loaded with acquire order (pairs with the host's write of DRIVER_OK).
    func status() -> VirtioStatus {
        let pointer = (segment.base + payloadOffset + Resource.VdevOffset.status).bindMemory(to: Atomic<UInt8>.self, capacity: 1)
        return VirtioStatus(rawValue: pointer.pointee.load(ordering: .acquiring))
    }

    /// The status, the host's features and the vrings, read after `status()` showed DRIVER_OK.
    func snapshot() throws(RpmsgRemoteError) -> Snapshot {
        let status = status()
        let size = Resource.VdevOffset.vring(vringCount)
        let bytes: [UInt8]
        do {
            bytes = try segment.read(at: payloadOffset, count: size)
        } catch {
            throw RpmsgRemoteError(.noVirtioDevice, "rpmsg: \(label) cannot be read: \(error)")
        }
        let reader = ByteReader(bytes, order: .host)
        do {
            var vrings: [Resource.VdevVring] = []
            for index in 0..<vringCount {
                let base = Resource.VdevOffset.vring(index)
                vrings.append(Resource.VdevVring(
                    da: try reader.u32(at: base + Resource.VringOffset.da, field: "vring[\(index)].da"),
                    align: try reader.u32(at: base + Resource.VringOffset.align, field: "vring[\(index)].align"),
                    num: try reader.u32(at: base + Resource.VringOffset.num, field: "vring[\(index)].num"),
                    notifyid: try reader.u32(at: base + Resource.VringOffset.notifyid, field: "vring[\(index)].notifyid"),
                    pa: try reader.u32(at: base + Resource.VringOffset.pa, field: "vring[\(index)].pa")))
            }
            return Snapshot(
                status: status, gfeatures: try reader.u32(at: Resource.VdevOffset.gfeatures, field: "gfeatures"), vrings: vrings)
        } catch {
            throw RpmsgRemoteError(.noVirtioDevice, "rpmsg: \(label): \(error)")
        }
    }
}

// The two fields of a vdev entry the host writes while the remote runs (wire-facts.md section 1):
//
//   fw_rsc_vdev.gfeatures  u32 @12   features the host accepted (a subset of dfeatures), written before DRIVER_OK
//   fw_rsc_vdev.status     u8  @20   ACKNOWLEDGE 1 | DRIVER 2 | DRIVER_OK 4 | FAILED 128; 0 = reset
//
// Both live in the loaded resource table inside the segment, in the host's byte order. The status byte is
// stored with release order, so a remote that acquire-loads DRIVER_OK also sees gfeatures, the zeroed rings
// and every receive buffer posted before it. The remote never writes these fields; the host never reads
// them back (nothing here is trusted input).

import AmpSystem
import AmpWire
import Synchronization

/// Writes `status` and `gfeatures` of one vdev in the loaded table.
struct VirtioDeviceConfig {
    let segment: SharedMemorySegment
    let statusOffset: Int
    let guestFeaturesOffset: Int

    /// Stores the status byte (release order).
    func setStatus(_ status: VirtioStatus) {
        (segment.base + statusOffset).bindMemory(to: Atomic<UInt8>.self, capacity: 1).pointee
            .store(status.rawValue, ordering: .releasing)
    }

    /// The status byte as it is now (tests and diagnostics).
    var status: UInt8 {
        (segment.base + statusOffset).bindMemory(to: Atomic<UInt8>.self, capacity: 1).pointee.load(ordering: .acquiring)
    }

    /// Writes `gfeatures` in the host's byte order (the offset need not be 4-byte aligned).
    func setGuestFeatures(_ features: UInt32) {
        var writer = ByteWriter(count: 4, order: .host)
        writer.put(features, at: 0)
        // The layout was validated against the segment, so the range check inside cannot fail.
        try? segment.write(writer.bytes, at: guestFeaturesOffset)
    }

    /// The features the host accepts of `offered`: the name service (VIRTIO_RPMSG_F_NS) and, when the device
    /// offers it, VIRTIO_RING_F_EVENT_IDX. Nothing else: indirect descriptors are never negotiated.
    static func acceptedFeatures(of offered: UInt32) -> UInt32 {
        offered & (VirtioFeatureBit.rpmsgNameService.mask | VirtioFeatureBit.ringEventIndex.mask)
    }
}

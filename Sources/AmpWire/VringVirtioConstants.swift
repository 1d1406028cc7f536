// Numeric constants of the legacy virtio link that remoteproc and rpmsg use: ring header flags, feature
// bit numbers, device ids and device status bits. Features are 32-bit words in the resource table
// (`fw_rsc_vdev.dfeatures` offered by the firmware, `gfeatures` acknowledged by the host), so only bits
// 0...31 exist here and VIRTIO_F_VERSION_1 (bit 32) is never negotiated: the link stays legacy.

/// Flags in the header of the available ring (`avail.flags`, u16), written by the driver.
public struct VringAvailFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// `VRING_AVAIL_F_NO_INTERRUPT` (1): the driver does not want to be interrupted when buffers are used.
    public static let noInterrupt = VringAvailFlags(rawValue: 1)
}

/// Flags in the header of the used ring (`used.flags`, u16), written by the device.
public struct VringUsedFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// `VRING_USED_F_NO_NOTIFY` (1): the device does not want to be notified when buffers are added.
    public static let noNotify = VringUsedFlags(rawValue: 1)
}

/// A feature bit number within a 32-bit feature word.
public struct VirtioFeatureBit: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    /// Bit number, 0...31.
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// `VIRTIO_RPMSG_F_NS` (0): the remote supports name-service announcements on address 53.
    public static let rpmsgNameService = VirtioFeatureBit(rawValue: 0)
    /// `VIRTIO_RING_F_INDIRECT_DESC` (28): descriptors may point at indirect descriptor tables.
    public static let ringIndirectDescriptors = VirtioFeatureBit(rawValue: 28)
    /// `VIRTIO_RING_F_EVENT_IDX` (29): `used_event` / `avail_event` suppress notifications.
    public static let ringEventIndex = VirtioFeatureBit(rawValue: 29)

    /// The bit as a mask in a 32-bit feature word (0 for bit numbers above 31).
    public var mask: UInt32 { rawValue < 32 ? UInt32(1) << rawValue : 0 }

    /// Whether this bit is set in `features`.
    public func isSet(in features: UInt32) -> Bool { features & mask != 0 }

    public var description: String { "feature bit \(rawValue)" }
}

/// Virtio device ids (`fw_rsc_vdev.id`).
public enum VirtioDeviceID {
    /// `VIRTIO_ID_RPMSG` (7): a virtio rpmsg bus.
    public static let rpmsg: UInt32 = 7
}

/// Virtio device status bits (`fw_rsc_vdev.status`, u8), written by the driver (the host).
public struct VirtioStatus: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// `VIRTIO_CONFIG_S_ACKNOWLEDGE` (1): the driver noticed the device.
    public static let acknowledge = VirtioStatus(rawValue: 1)
    /// `VIRTIO_CONFIG_S_DRIVER` (2): the driver knows how to drive the device.
    public static let driver = VirtioStatus(rawValue: 2)
    /// `VIRTIO_CONFIG_S_DRIVER_OK` (4): the driver is ready; the device may use the rings.
    public static let driverOK = VirtioStatus(rawValue: 4)
    /// `VIRTIO_CONFIG_S_FEATURES_OK` (8): feature negotiation finished (never set on the legacy link).
    public static let featuresOK = VirtioStatus(rawValue: 8)
    /// `VIRTIO_CONFIG_S_FAILED` (128): the driver gave up on the device.
    public static let failed = VirtioStatus(rawValue: 128)

    /// The status a virtio rpmsg host reaches after probing: ACKNOWLEDGE | DRIVER | DRIVER_OK (7).
    public static let rpmsgReady: VirtioStatus = [.acknowledge, .driver, .driverOK]
}

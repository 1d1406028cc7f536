// Resource-table entries (Linux include/linux/remoteproc.h, OpenAMP remoteproc.h), as values.
//
// Every entry starts with a u32 type word (fw_rsc_hdr); the payload follows. Payload layouts, offsets
// from the start of the payload (4 bytes after the type word), all u32 unless marked:
//
//   carveout / devmem (52 B)  da@0 pa@4 len@8 flags@12 reserved@16 name[32]@20
//   trace (44 B)              da@0 len@4 reserved@8 name[32]@12
//   vdev (24 B + vrings + config)
//                             id@0 notifyid@4 dfeatures@8 gfeatures@12 config_len@16 status u8@20
//                             num_of_vrings u8@21 reserved[2] u8@22, vring[num_of_vrings]@24,
//                             then config_len bytes of virtio config space
//   vdev vring (20 B)         da@0 align@4 num@8 notifyid@12 pa@16
//
// Types: carveout 0, devmem 1, trace 2, vdev 3, RSC_LAST 4; 128...512 are vendor-specific (handed to a
// platform hook); anything else is unknown and skipped by Linux. Vendor and unknown entries have no
// length field: their bytes run to the next entry or the end of the table.

/// Resource type numbers (`fw_rsc_hdr.type`).
public enum ResourceType {
    public static let carveout: UInt32 = 0
    public static let devmem: UInt32 = 1
    public static let trace: UInt32 = 2
    public static let vdev: UInt32 = 3
    /// RSC_LAST: the first number that is not a standard type. Entries of this type are unknown.
    public static let last: UInt32 = 4
    /// First vendor-specific type (RSC_VENDOR_START).
    public static let vendorFirst: UInt32 = 128
    /// Last vendor-specific type (RSC_VENDOR_END), inclusive.
    public static let vendorLast: UInt32 = 512
    /// The vendor-specific types, inclusive at both ends.
    public static let vendorRange: ClosedRange<UInt32> = 128...512

    /// Short name of a type number: "carveout", "devmem", "trace", "vdev", "vendor" or "unknown".
    public static func name(of type: UInt32) -> String {
        switch type {
        case carveout: "carveout"
        case devmem: "devmem"
        case trace: "trace"
        case vdev: "vdev"
        case vendorRange: "vendor"
        default: "unknown"
        }
    }
}

/// One resource-table entry: the type word plus its decoded payload.
public enum Resource: Sendable, Hashable {
    /// RSC_CARVEOUT: memory the host allocates for the remote (it may write back da, pa and len).
    case carveout(Carveout)
    /// RSC_DEVMEM: a device memory region the host maps for the remote.
    case devmem(Devmem)
    /// RSC_TRACE: a trace (log) buffer in remote memory.
    case trace(Trace)
    /// RSC_VDEV: a virtio device with its vrings and config space.
    case vdev(VirtioDevice)
    /// A vendor-specific entry, type 128...512; `data` is every byte after the type word up to the next
    /// entry or the table end.
    case vendor(type: UInt32, data: [UInt8])
    /// An entry of any other type (4...127, > 512); `data` as for `vendor`.
    case unknown(type: UInt32, data: [UInt8])

    /// The entry's type word.
    public var type: UInt32 {
        switch self {
        case .carveout: ResourceType.carveout
        case .devmem: ResourceType.devmem
        case .trace: ResourceType.trace
        case .vdev: ResourceType.vdev
        case .vendor(let type, _), .unknown(let type, _): type
        }
    }

    /// Short name of the kind: "carveout", "devmem", "trace", "vdev", "vendor" or "unknown".
    public var kindName: String {
        switch self {
        case .carveout: "carveout"
        case .devmem: "devmem"
        case .trace: "trace"
        case .vdev: "vdev"
        case .vendor: "vendor"
        case .unknown: "unknown"
        }
    }

    /// The entry's size in the table, including the 4-byte type word.
    public var encodedSize: Int {
        let payload: Int
        switch self {
        case .carveout: payload = ResourceTable.carveoutSize
        case .devmem: payload = ResourceTable.devmemSize
        case .trace: payload = ResourceTable.traceSize
        case .vdev(let vdev): payload = vdev.payloadSize
        case .vendor(_, let data), .unknown(_, let data): payload = data.count
        }
        return ResourceTable.entryHeaderSize + payload
    }

    // MARK: Payloads

    /// Field offsets of a carveout or devmem payload, from the start of the payload.
    public enum MemoryOffset {
        public static let da = 0
        public static let pa = 4
        public static let len = 8
        public static let flags = 12
        public static let reserved = 16
        public static let name = 20
    }

    /// fw_rsc_carveout payload.
    public typealias Carveout = MemoryRegion
    /// fw_rsc_devmem payload (the same layout as a carveout).
    public typealias Devmem = MemoryRegion

    /// The payload shared by carveout and devmem entries (fw_rsc_carveout / fw_rsc_devmem), so code that
    /// treats both alike can bind either case to one variable.
    public struct MemoryRegion: Sendable, Hashable {
        /// Device address; `ResourceTable.addressAny` asks the host to choose (carveouts).
        public var da: UInt32
        /// Physical address; `ResourceTable.addressAny` asks the host to choose (carveouts).
        public var pa: UInt32
        public var len: UInt32
        /// IOMMU protection flags.
        public var flags: UInt32
        /// Must be 0.
        public var reserved: UInt32
        /// `name[32]`: decoded up to the first NUL; at most 32 UTF-8 bytes are written back.
        public var name: String

        public init(da: UInt32, pa: UInt32, len: UInt32, flags: UInt32 = 0, reserved: UInt32 = 0, name: String) {
            self.da = da
            self.pa = pa
            self.len = len
            self.flags = flags
            self.reserved = reserved
            self.name = name
        }
    }

    /// Field offsets of a trace payload, from the start of the payload.
    public enum TraceOffset {
        public static let da = 0
        public static let len = 4
        public static let reserved = 8
        public static let name = 12
    }

    /// fw_rsc_trace payload.
    public struct Trace: Sendable, Hashable {
        public var da: UInt32
        public var len: UInt32
        /// Must be 0.
        public var reserved: UInt32
        public var name: String

        public init(da: UInt32, len: UInt32, reserved: UInt32 = 0, name: String) {
            self.da = da
            self.len = len
            self.reserved = reserved
            self.name = name
        }
    }

    /// Field offsets of a vdev payload, from the start of the payload.
    public enum VdevOffset {
        public static let id = 0
        public static let notifyid = 4
        public static let dfeatures = 8
        public static let gfeatures = 12
        public static let configLen = 16
        public static let status = 20
        public static let numOfVrings = 21
        public static let reserved = 22
        /// Offset of vring `index`.
        public static func vring(_ index: Int) -> Int {
            ResourceTable.vdevHeaderSize + index * ResourceTable.vringSize
        }
        /// Offset of the config space after `vringCount` vrings.
        public static func config(vringCount: Int) -> Int { vring(vringCount) }
    }

    /// fw_rsc_vdev payload. `config_len` is `config.count` and `num_of_vrings` is `vrings.count`.
    public struct VirtioDevice: Sendable, Hashable {
        /// Virtio device id (7 = rpmsg).
        public var id: UInt32
        public var notifyid: UInt32
        /// Features the device (firmware) offers.
        public var dfeatures: UInt32
        /// Features the host driver accepted (written back by the host).
        public var gfeatures: UInt32
        /// Virtio status byte (written back by the host).
        public var status: UInt8
        /// `reserved[2]`, must be 0.
        public var reserved: [UInt8]
        public var vrings: [VdevVring]
        /// Virtio config space, `config_len` bytes.
        public var config: [UInt8]

        public init(
            id: UInt32, notifyid: UInt32, dfeatures: UInt32, gfeatures: UInt32 = 0, status: UInt8 = 0,
            reserved: [UInt8] = [0, 0], vrings: [VdevVring], config: [UInt8] = []
        ) {
            self.id = id
            self.notifyid = notifyid
            self.dfeatures = dfeatures
            self.gfeatures = gfeatures
            self.status = status
            self.reserved = reserved
            self.vrings = vrings
            self.config = config
        }

        /// Payload size: 24 + 20 * vrings + config bytes.
        public var payloadSize: Int {
            ResourceTable.vdevHeaderSize + vrings.count * ResourceTable.vringSize + config.count
        }
    }

    /// Field offsets of a vring descriptor, from its start.
    public enum VringOffset {
        public static let da = 0
        public static let align = 4
        public static let num = 8
        public static let notifyid = 12
        public static let pa = 16
    }

    /// fw_rsc_vdev_vring.
    public struct VdevVring: Sendable, Hashable {
        /// Device address of the ring; `ResourceTable.addressAny` asks the host to allocate it.
        public var da: UInt32
        /// Alignment of the used ring.
        public var align: UInt32
        /// Number of descriptors, a power of two.
        public var num: UInt32
        public var notifyid: UInt32
        /// Physical address (called `reserved` before Linux 4.9 and in OpenAMP).
        public var pa: UInt32

        public init(da: UInt32, align: UInt32, num: UInt32, notifyid: UInt32, pa: UInt32 = 0) {
            self.da = da
            self.align = align
            self.num = num
            self.notifyid = notifyid
            self.pa = pa
        }
    }
}

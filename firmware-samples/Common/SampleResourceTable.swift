// The resource table shared by the sample firmware (ampsoc-fw-basic, -faulty, and the rpmsg samples -echo,
// -client-sample, -services, -hostile), placed in the ELF section `.resource_table` where the host's loader
// (like Linux remoteproc) looks for it. The rpmsg samples drive its vdev: vring0 carries their messages to the
// host, vring1 the host's messages to them.
//
// Byte layout (200 bytes, every field a native-endian u32 unless marked; see docs/firmware.md):
//
//   offset  field
//        0  ver 1, num 3, reserved[2] 0 0
//       16  offset[3] = 28, 84, 132
//       28  carveout (type 0): da 0x9F080000, pa ANY, len 0x10000, flags 0, reserved 0, name "ipcdata"
//       84  trace    (type 2): da 0x9F000000, len 0x8000, reserved 0, name "trace0"
//      132  vdev     (type 3): id 7 (rpmsg), notifyid 0, dfeatures 0x20000001 (VIRTIO_RPMSG_F_NS and
//                              VIRTIO_RING_F_EVENT_IDX), gfeatures 0,
//                              config_len 0, status u8 0, num_of_vrings u8 2, reserved u8[2] 0
//      160    vring 0: da ANY, align 4096, num 256, notifyid 0, pa 0
//      180    vring 1: da ANY, align 4096, num 256, notifyid 1, pa 0
//      200  end
//
// The addresses fit the omap4 remotes' memory maps (a carveout region at 0x9F000000..0x9F0FFFFF). The value is
// a tuple of u32 and u8 fields so its bytes are the native-endian encoding with no padding (every u32 sits at a
// multiple of 4); `@used` keeps the unreferenced global, and thus the section, in every executable that links
// this target, debug and release alike. A `name[32]` is 32 u8s: ASCII codes, then NULs.

/// `name[32]` of a resource entry: ASCII bytes, NUL-padded.
public typealias ResourceName = (
    UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
    UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8
)

/// One vring of a vdev entry: da, align, num, notifyid, pa.
public typealias VdevVringFields = (da: UInt32, align: UInt32, num: UInt32, notifyid: UInt32, pa: UInt32)

/// The sample firmware's resource table, as the bytes of the `.resource_table` section (layout above).
@section(".resource_table") @used
public let sampleResourceTable: (
    header: (ver: UInt32, num: UInt32, reserved0: UInt32, reserved1: UInt32),
    offsets: (UInt32, UInt32, UInt32),
    carveout: (type: UInt32, da: UInt32, pa: UInt32, len: UInt32, flags: UInt32, reserved: UInt32, name: ResourceName),
    trace: (type: UInt32, da: UInt32, len: UInt32, reserved: UInt32, name: ResourceName),
    vdev: (
        type: UInt32, id: UInt32, notifyid: UInt32, dfeatures: UInt32, gfeatures: UInt32, configLen: UInt32,
        statusAndCount: (status: UInt8, numOfVrings: UInt8, reserved0: UInt8, reserved1: UInt8),
        vring0: VdevVringFields, vring1: VdevVringFields)
) = (
    header: (ver: 1, num: 3, reserved0: 0, reserved1: 0),
    offsets: (28, 84, 132),
    carveout: (
        type: 0, da: 0x9F08_0000, pa: 0xFFFF_FFFF, len: 0x1_0000, flags: 0, reserved: 0,
        // "ipcdata"
        name: (0x69, 0x70, 0x63, 0x64, 0x61, 0x74, 0x61, 0, 0, 0, 0, 0, 0, 0, 0, 0,
               0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)),
    trace: (
        type: 2, da: 0x9F00_0000, len: 0x8000, reserved: 0,
        // "trace0"
        name: (0x74, 0x72, 0x61, 0x63, 0x65, 0x30, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
               0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)),
    vdev: (
        type: 3, id: 7, notifyid: 0, dfeatures: 0x2000_0001, gfeatures: 0, configLen: 0,
        statusAndCount: (status: 0, numOfVrings: 2, reserved0: 0, reserved1: 0),
        vring0: (da: 0xFFFF_FFFF, align: 4096, num: 256, notifyid: 0, pa: 0),
        vring1: (da: 0xFFFF_FFFF, align: 4096, num: 256, notifyid: 1, pa: 0))
)

/// Facts about ``sampleResourceTable`` for code that checks it.
public enum SampleResourceTable {
    /// The table's size in bytes (the section size).
    public static let size = 200
}

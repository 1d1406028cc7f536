// Numbers of the virtio rpmsg bus: header and buffer sizes, the special addresses, and how many buffers a
// host allocates for a given vring size.
//
// Every message occupies one fixed-size buffer: a 16-byte rpmsg_hdr followed by the payload, so the
// largest payload (the MTU) is the buffer size minus 16; Linux uses 512-byte buffers, hence MTU 496.
// Endpoint addresses are u32; 0xFFFFFFFF means "any" (let the bus choose), addresses below 1024 are
// reserved for fixed services, and the name service listens on 53.

/// Constants and small rules of the virtio rpmsg bus.
public enum RpmsgConstants {
    /// Size of `struct rpmsg_hdr`.
    public static let headerSize = 16
    /// Buffer size Linux uses for every message (header included).
    public static let defaultBufferSize = 512
    /// Largest payload in a default buffer: 512 - 16 = 496 (a bigger send fails with EMSGSIZE).
    public static let defaultMTU = defaultBufferSize - headerSize
    /// Most buffers a host allocates for one rpmsg device (both directions together).
    public static let maxBufferCount = 512

    /// `RPMSG_ADDR_ANY`: no particular address; the bus assigns one.
    public static let addressAny: UInt32 = 0xFFFF_FFFF
    /// `RPMSG_RESERVED_ADDRESSES`: addresses below this are never handed out for `addressAny` requests.
    public static let reservedAddressLimit: UInt32 = 1024
    /// `RPMSG_NS_ADDR`: the name-service endpoint.
    public static let nameServiceAddress: UInt32 = 53
    /// Size of the fixed character arrays that hold channel and endpoint names (`RPMSG_NAME_SIZE`).
    public static let nameSize = 32

    /// Largest payload that fits a buffer of `bufferSize` bytes (0 when the buffer cannot hold a header).
    public static func mtu(bufferSize: Int) -> Int {
        max(0, bufferSize - headerSize)
    }

    /// Number of buffers the host allocates for a device whose vrings have `vringNum` descriptors:
    /// `2 * vringNum` when `vringNum < 256`, otherwise 512.
    ///
    /// The pool is split in two halves, the first for receiving and the second for sending. Each half
    /// never needs more buffers than its ring has descriptors (every buffer is posted as one descriptor),
    /// and the total is capped at `maxBufferCount`, so with rings of 256 or more each half has 256.
    public static func bufferCount(vringNum: Int) -> Int {
        vringNum < maxBufferCount / 2 ? 2 * max(0, vringNum) : maxBufferCount
    }
}

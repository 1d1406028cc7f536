/// A buffer the driver made available, as the device side hands it out.
///
/// rpmsg posts one descriptor per buffer. The split ring also allows chains (descriptors linked with NEXT);
/// the device validates a whole chain but describes only its first descriptor here: `address`, `length`,
/// `isDeviceWritable` and `pointer` refer to the head, `descriptorCount` says how long the chain is and
/// `writableLength` how many bytes the chain's device-writable descriptors hold in total.
///
/// `pointer` is valid for `length` bytes as long as the translation given to the device says so (normally
/// for the lifetime of the mapping); it points into memory the other side may also write.
public struct AvailableBuffer {
    /// Head descriptor index: pass it to `VirtqueueDevice.addUsed(head:length:)` when done.
    public let head: UInt16
    /// Device address of the head descriptor's buffer (`desc.addr`).
    public let address: UInt64
    /// Size of the head descriptor's buffer in bytes (`desc.len`).
    public let length: UInt32
    /// Whether the device writes the head buffer (VRING_DESC_F_WRITE) rather than reads it.
    public let isDeviceWritable: Bool
    /// The head buffer translated into this process's address space.
    public let pointer: UnsafeMutableRawPointer
    /// Number of descriptors in the chain (1 for rpmsg buffers).
    public let descriptorCount: Int
    /// Total bytes of the chain's device-writable descriptors (the most `addUsed` may report), saturated at
    /// `UInt32.max`.
    public let writableLength: UInt32
}

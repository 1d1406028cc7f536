import AmpSMD
import AmpSystem
import AmpWire

/// What a Qualcomm boot loader does for SMD before the remote runs, and what the host does here instead:
/// write an empty SMEM heap header (global heap, `initialized` = 1, everything after the header free) into the
/// processor's smem region. The heap's spinlock (hardware spinlock 3 on real SoCs) is the control block's
/// `smemLock` word, left free (0) by the zeroed control page. The remote then allocates its channels there.
enum SmemBootLoader {
    /// The token the host writes into `smemLock` while it holds the heap lock (the remote uses another).
    static let hostLockOwner: UInt32 = 1

    /// Initializes the SMEM heap of an SMD remote's segment.
    /// - Throws: EINVAL naming the region when the profile's smem region cannot hold a heap (the profile
    ///   validation keeps this from happening for profiles read from files).
    static func initialize(segment: SharedMemorySegment, memoryMap: RemoteMemoryMap, rproc: String) throws(RemoteprocError) {
        guard let region = memoryMap.regions(of: .smem).first else {
            throw RemoteprocError(rproc: rproc, code: .invalidArgument, message: "an SMD remote needs a memory region of kind smem")
        }
        do throws(SmdError) {
            try heap(segment: segment, region: region).initialize()
        } catch {
            throw RemoteprocError(rproc: rproc, code: .invalidArgument, message: "\(region.label): \(error)")
        }
    }

    /// The host's view of the SMEM heap in `region` of `segment`.
    static func heap(segment: SharedMemorySegment, region: RemoteMemoryMap.Region) throws(SmdError) -> SmemHeap {
        let smem = try SmemRegion(base: segment.base + region.segmentOffset, size: Int(region.size))
        let lock = try SmemSpinlock(word: segment.base + ControlBlock.smemLockOffset, owner: hostLockOwner)
        return try SmemHeap(region: smem, lock: lock)
    }
}

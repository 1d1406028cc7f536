// Qualcomm SMEM: the allocate-only item heap shared by every processor of the SoC (global heap flavour).
//
// The region starts with `struct smem_header` (all fields LE32, 0x20D0 bytes):
//
//   proc_comm[4]   @0x000   16 bytes each {command, status, params[2]}; legacy, unused by the heap
//   version[32]    @0x040   version[7] >> 16 says the heap flavour: 11 global heap, 12 private partitions
//   initialized    @0x0C0   1 once the boot loader has set the header up
//   free_offset    @0x0C4   offset (from the region start) of the next free byte
//   available      @0x0C8   bytes left after free_offset
//   reserved       @0x0CC   0
//   toc[512]       @0x0D0   one smem_global_entry per item number (16 bytes each)
//
// Items 0..7 belong to the boot loader; everything else is allocated on demand, rounded up to 8 bytes,
// taken from free_offset, and never freed. Allocation is serialised by hardware spinlock 3 (1000 ms trylock).

/// Offsets and numbers of the SMEM global heap (`struct smem_header`).
public enum SmemLayout {
    /// Offset of `proc_comm[4]`.
    public static let procCommOffset = 0x000
    /// Number of `proc_comm` entries.
    public static let procCommCount = 4
    /// Size of one `smem_proc_comm` {command, status, params[2]}.
    public static let procCommEntrySize = 16
    /// Offset of `version[32]`.
    public static let versionOffset = 0x040
    /// Number of `version` words.
    public static let versionCount = 32
    /// Index of the boot loader's version word (`SMEM_MASTER_SBL_VERSION_INDEX`).
    public static let sblVersionIndex = 7
    /// Offset of `initialized`.
    public static let initializedOffset = 0x0C0
    /// Offset of `free_offset`.
    public static let freeOffsetOffset = 0x0C4
    /// Offset of `available`.
    public static let availableOffset = 0x0C8
    /// Offset of `reserved`.
    public static let reservedOffset = 0x0CC
    /// Offset of `toc[0]`.
    public static let tocOffset = 0x0D0
    /// Number of table-of-contents entries (`SMEM_ITEM_COUNT`).
    public static let itemCount = 512
    /// Size of the whole header; the heap's first free byte in a fresh region.
    public static let headerSize = tocOffset + itemCount * SmemGlobalEntry.size

    /// `version[7] >> 16` of a global heap (`SMEM_GLOBAL_HEAP_VERSION`).
    public static let globalHeapVersion: UInt32 = 11
    /// `version[7] >> 16` of a heap with private partitions (`SMEM_GLOBAL_PART_VERSION`), not supported here.
    public static let globalPartitionVersion: UInt32 = 12
    /// Items below this number are the boot loader's and cannot be allocated (`SMEM_ITEM_LAST_FIXED`).
    public static let firstAllocatableItem = 8
    /// Allocation sizes are rounded up to a multiple of this.
    public static let allocationAlignment = 8
    /// Host id of the applications processor (`SMEM_HOST_APPS`), the host of ampsoc.
    public static let appsHostID = 0
    /// Hardware spinlock that guards allocation.
    public static let hardwareSpinlockID = 3
    /// How long an allocation tries to take the spinlock (`HWSPINLOCK_TIMEOUT`), in milliseconds.
    public static let spinlockTimeoutMilliseconds = 1000

    /// Offset of `version[index]`.
    public static func versionWordOffset(_ index: Int) -> Int { versionOffset + 4 * index }

    /// Offset of `toc[item]` in the header.
    public static func tocEntryOffset(_ item: Int) -> Int { tocOffset + item * SmemGlobalEntry.size }

    /// The boot loader's version word of a global heap: `11 << 16`.
    public static var globalHeapVersionWord: UInt32 { globalHeapVersion << 16 }

    /// `size` rounded up to the allocation alignment (8), or nil when that overflows.
    public static func roundedAllocationSize(_ size: Int) -> Int? {
        guard size >= 0 else { return nil }
        let (sum, overflow) = size.addingReportingOverflow(allocationAlignment - 1)
        return overflow ? nil : sum & ~(allocationAlignment - 1)
    }
}

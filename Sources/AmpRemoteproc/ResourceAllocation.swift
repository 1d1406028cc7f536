import AmpWire

/// The result of handling a firmware's resource table against a memory map (``ResourceHandler``): the
/// table with the host's write-backs, where it goes in device memory, and a record of every resource, so
/// the segment builder, the virtio layer, trace readers and debug views need not re-read the table.
///
/// Offsets named `...Offset` without "segment" are byte offsets from the start of the table; add
/// ``tablePlacement``'s `segmentOffset` (see ``segmentOffset(ofTableOffset:)``) to reach them in the segment.
public struct ResourceAllocation: Sendable, Equatable {
    /// The remote processor.
    public var rproc: String
    /// The table with every write-back applied (nil when the firmware has no resource table).
    public var table: ResourceTable?
    /// The "loaded table": the section's bytes with the write-backs, in the host's byte order. Empty when
    /// there is no table.
    public var tableBytes: [UInt8]
    /// Where the loaded table goes (nil when there is no table).
    public var tablePlacement: TablePlacement?
    /// Carveout entries, in table order.
    public var carveouts: [CarveoutRecord] = []
    /// Devmem entries, in table order.
    public var devmems: [DevmemRecord] = []
    /// Trace entries, in table order; `index` is the position here and in the control block's `traces[]`.
    public var traces: [TraceRecord] = []
    /// Vdev entries, in table order.
    public var vdevs: [VdevRecord] = []
    /// Every range the host allocated or claimed for the remote, in order: carveouts, `vdev<i>vring<j>`,
    /// `vdev<i>buffer`, `rsctable` (Linux's debugfs `carveout_memories`).
    public var memoryEntries: [MemoryEntry] = []
    /// Entries the host did not handle (vendor and unknown types).
    public var skipped: [SkippedEntry] = []
    /// Human-readable notes: skipped entries and tolerated oddities.
    public var warnings: [String] = []

    public init(rproc: String, table: ResourceTable?, tableBytes: [UInt8], tablePlacement: TablePlacement?) {
        self.rproc = rproc
        self.table = table
        self.tableBytes = tableBytes
        self.tablePlacement = tablePlacement
    }

    /// The allocation for firmware without a resource table: nothing at all.
    public static func empty(rproc: String) -> ResourceAllocation {
        ResourceAllocation(rproc: rproc, table: nil, tableBytes: [], tablePlacement: nil)
    }

    /// Segment offset of a table-relative offset in the loaded table, or nil when there is no table.
    public func segmentOffset(ofTableOffset offset: Int) -> Int? {
        tablePlacement.map { $0.segmentOffset + offset }
    }
}

/// Where the loaded resource table lives in device memory.
public struct TablePlacement: Sendable, Equatable {
    public var da: UInt32
    public var pa: UInt32
    public var segmentOffset: Int
    /// The table's size in bytes (the section's size).
    public var size: Int
    /// True when the section's sh_addr is outside the memory map and the host allocated the carveout
    /// `rsctable` for the table instead.
    public var inAllocatedCarveout: Bool

    public init(da: UInt32, pa: UInt32, segmentOffset: Int, size: Int, inAllocatedCarveout: Bool) {
        self.da = da
        self.pa = pa
        self.segmentOffset = segmentOffset
        self.size = size
        self.inAllocatedCarveout = inAllocatedCarveout
    }
}

/// A carveout or devmem entry as handled: the addresses written back and where the memory is.
public struct MemoryResourceRecord: Sendable, Equatable {
    /// Position of the entry in the table's offset array.
    public var entryIndex: Int
    /// Offset of the entry's type word in the table.
    public var entryOffset: Int
    public var name: String
    public var da: UInt32
    public var pa: UInt32
    public var len: UInt32
    public var flags: UInt32
    public var segmentOffset: Int

    public init(entryIndex: Int, entryOffset: Int, name: String, da: UInt32, pa: UInt32, len: UInt32, flags: UInt32, segmentOffset: Int) {
        self.entryIndex = entryIndex
        self.entryOffset = entryOffset
        self.name = name
        self.da = da
        self.pa = pa
        self.len = len
        self.flags = flags
        self.segmentOffset = segmentOffset
    }
}

/// A carveout entry as handled.
public typealias CarveoutRecord = MemoryResourceRecord
/// A devmem entry as handled.
public typealias DevmemRecord = MemoryResourceRecord

/// A trace buffer: the firmware writes text at `da`, the host reads it at `segmentOffset`.
public struct TraceRecord: Sendable, Equatable {
    /// Trace number: position among the table's trace entries and in the control block's `traces[]`.
    public var index: Int
    public var entryIndex: Int
    public var entryOffset: Int
    public var name: String
    public var da: UInt32
    public var len: UInt32
    public var segmentOffset: Int

    public init(index: Int, entryIndex: Int, entryOffset: Int, name: String, da: UInt32, len: UInt32, segmentOffset: Int) {
        self.index = index
        self.entryIndex = entryIndex
        self.entryOffset = entryOffset
        self.name = name
        self.da = da
        self.len = len
        self.segmentOffset = segmentOffset
    }
}

/// A virtio device entry as handled.
public struct VdevRecord: Sendable, Equatable {
    /// Vdev number (Linux's `rvdev->index`): position among the table's vdev entries.
    public var index: Int
    public var entryIndex: Int
    public var entryOffset: Int
    /// Virtio device id (7 = rpmsg).
    public var id: UInt32
    /// Features the firmware offers.
    public var dfeatures: UInt32
    public var vrings: [VringRecord]
    /// The rpmsg buffer pool (carveout `vdev<i>buffer`), for rpmsg devices with at least one vring.
    public var bufferPool: BufferPoolRecord?
    /// Table offset of the `status` byte (u8).
    public var statusOffset: Int
    /// Table offset of `gfeatures` (u32).
    public var gfeaturesOffset: Int
    /// Table offset of the virtio config space and its length (`config_len`).
    public var configOffset: Int
    public var configLength: Int

    public init(
        index: Int, entryIndex: Int, entryOffset: Int, id: UInt32, dfeatures: UInt32, vrings: [VringRecord],
        bufferPool: BufferPoolRecord?, statusOffset: Int, gfeaturesOffset: Int, configOffset: Int, configLength: Int
    ) {
        self.index = index
        self.entryIndex = entryIndex
        self.entryOffset = entryOffset
        self.id = id
        self.dfeatures = dfeatures
        self.vrings = vrings
        self.bufferPool = bufferPool
        self.statusOffset = statusOffset
        self.gfeaturesOffset = gfeaturesOffset
        self.configOffset = configOffset
        self.configLength = configLength
    }
}

/// One vring of a vdev: its ring memory and the values written back.
public struct VringRecord: Sendable, Equatable {
    /// Vring number within its vdev (0 = host RX for rpmsg, 1 = host TX).
    public var index: Int
    public var da: UInt32
    public var pa: UInt32
    public var num: UInt32
    public var align: UInt32
    /// The notify id the host assigned (0, 1, 2, ... in table order).
    public var notifyid: UInt32
    public var segmentOffset: Int
    /// Bytes of ring memory the host owns: the page-aligned ring size for an allocated ring, the exact
    /// ring size (`VringLayout.totalSize`) for a ring at a fixed address.
    public var size: Int
    /// Table offset of this `fw_rsc_vdev_vring` (its `da` is at +0, `notifyid` at +12, `pa` at +16).
    public var tableOffset: Int

    public init(
        index: Int, da: UInt32, pa: UInt32, num: UInt32, align: UInt32, notifyid: UInt32, segmentOffset: Int, size: Int,
        tableOffset: Int
    ) {
        self.index = index
        self.da = da
        self.pa = pa
        self.num = num
        self.align = align
        self.notifyid = notifyid
        self.segmentOffset = segmentOffset
        self.size = size
        self.tableOffset = tableOffset
    }
}

/// The rpmsg buffer pool of a vdev: `count` buffers of `bufferSize` bytes, the first half for receiving
/// (host RX) and the second for sending, as Linux's virtio rpmsg bus splits it.
public struct BufferPoolRecord: Sendable, Equatable {
    public var da: UInt32
    public var pa: UInt32
    public var segmentOffset: Int
    public var count: Int
    public var bufferSize: Int

    public init(da: UInt32, pa: UInt32, segmentOffset: Int, count: Int, bufferSize: Int) {
        self.da = da
        self.pa = pa
        self.segmentOffset = segmentOffset
        self.count = count
        self.bufferSize = bufferSize
    }

    /// Bytes the buffers occupy (`count * bufferSize`).
    public var length: Int { count * bufferSize }
    /// Buffers for receiving: the first half.
    public var rxCount: Int { count / 2 }
    /// Buffers for sending: the second half.
    public var txCount: Int { count - count / 2 }
    /// Device address of buffer `index`.
    public func da(ofBuffer index: Int) -> UInt32 { da &+ UInt32(truncatingIfNeeded: index * bufferSize) }
    /// Segment offset of buffer `index`.
    public func segmentOffset(ofBuffer index: Int) -> Int { segmentOffset + index * bufferSize }
}

/// A named range of device memory the host allocated or claimed for the remote.
public struct MemoryEntry: Sendable, Equatable {
    /// `text` (a carveout's name), `vdev0vring1`, `vdev0buffer`, `rsctable`.
    public var name: String
    public var da: UInt32
    public var pa: UInt32
    public var length: Int
    public var segmentOffset: Int
    /// The memory-map region holding it.
    public var region: String

    public init(name: String, da: UInt32, pa: UInt32, length: Int, segmentOffset: Int, region: String) {
        self.name = name
        self.da = da
        self.pa = pa
        self.length = length
        self.segmentOffset = segmentOffset
        self.region = region
    }
}

/// A table entry the host did not handle.
public struct SkippedEntry: Sendable, Equatable {
    public var entryIndex: Int
    public var entryOffset: Int
    public var type: UInt32
    public var reason: String

    public init(entryIndex: Int, entryOffset: Int, type: UInt32, reason: String) {
        self.entryIndex = entryIndex
        self.entryOffset = entryOffset
        self.type = type
        self.reason = reason
    }
}

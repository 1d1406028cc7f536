// The ampsoc control block: the first page of every remote processor's shared-memory segment.
//
// On hardware the host learns about a remote core through registers and a mailbox; here the host and the
// remote-core process share one POSIX shared-memory segment, and this page plays those parts. It is
// ampsoc's own structure (not a Linux one), native-endian, every field at a fixed offset:
//
//   0x000 magic u64          "AMPSOC01" in ASCII, byte 0 first
//   0x008 layoutVersion u32  1
//   0x00C controlSize u32    4096
//   0x010 segmentSize u64    bytes in the whole segment
//   0x018 generation u32     incremented by the host on every boot; a remote compares it to the value it attached with
//   0x01C hostState u32      HostState: what the host allows (reset, loading, released, stopping)
//   0x020 remoteState u32    RemoteState: what the runtime reports (detached, attached, running, stopped, halted)
//   0x024 stopRequest u32    host writes 1 to ask for an orderly stop
//   0x028 heartbeat u64      the runtime increments it every heartbeatPeriodMs; the host's watchdog reads it
//   0x030 heartbeatPeriodMs u32
//   0x034 crashReported u32  0, or 1 once the crash fields below are complete (written last, with release order)
//   0x038 crashType u32      Linux's rproc_crash_type: 0 mmufault, 1 watchdog, 2 fatal error
//   0x03C reserved u32
//   0x040 faultAddress u64   the device address of an invalid access (mmufault)
//   0x048 crashMessage[184]  UTF-8, NUL-terminated
//   0x100 tableOffset u32    segment offset of the loaded resource table (0: none)
//   0x104 tableSize u32
//   0x108 tableDeviceAddress u32
//   0x10C regionCount u32
//   0x110 hostPid u32        the host's process id
//   0x114 bufferSize u32     rpmsg buffer size for this remote
//   0x118 rpmsgTransport u32 RpmsgTransport: 0 virtio (the firmware's vdev), 1 SMD (channels in the smem region)
//   0x11C smdEdge u32        the SMD edge id (SMD only)
//   0x120 smemLock u32       the SMEM heap's spinlock (hw spinlock 3 on Qualcomm SoCs): 0 free, else owner + 1
//   0x180 mailbox to remote  64 B (AmpSystem's MailboxLayout: pending, sequence, sleepers)
//   0x1C0 mailbox to host    64 B
//   0x200 regions[32]        32 B each: da u32, pa u32, size u32, kind u32, segmentOffset u64, name[8]
//   0x600 traces[8]          16 B each: da u32, len u32, written u64 (total bytes the runtime has written)
//   0x680 ... 0xFFF          reserved, zero
//
// Memory regions follow the control page, each at a page-aligned segment offset. A device address `da`
// in region r is at segment offset r.segmentOffset + (da - r.da).

/// Offsets and constants of the control block at the start of each remote's shared-memory segment.
public enum ControlBlock {
    public static let size = 4096
    public static let magic: [UInt8] = Array("AMPSOC01".utf8)
    public static let layoutVersion: UInt32 = 1

    public static let magicOffset = 0x000
    public static let layoutVersionOffset = 0x008
    public static let controlSizeOffset = 0x00C
    public static let segmentSizeOffset = 0x010
    public static let generationOffset = 0x018
    public static let hostStateOffset = 0x01C
    public static let remoteStateOffset = 0x020
    public static let stopRequestOffset = 0x024
    public static let heartbeatOffset = 0x028
    public static let heartbeatPeriodOffset = 0x030
    public static let crashReportedOffset = 0x034
    public static let crashTypeOffset = 0x038
    public static let faultAddressOffset = 0x040
    public static let crashMessageOffset = 0x048
    public static let crashMessageCapacity = 184
    public static let tableOffsetOffset = 0x100
    public static let tableSizeOffset = 0x104
    public static let tableDeviceAddressOffset = 0x108
    public static let regionCountOffset = 0x10C
    public static let hostPidOffset = 0x110
    public static let bufferSizeOffset = 0x114
    public static let rpmsgTransportOffset = 0x118
    public static let smdEdgeOffset = 0x11C
    public static let smemLockOffset = 0x120
    public static let mailboxToRemoteOffset = 0x180
    public static let mailboxToHostOffset = 0x1C0
    public static let mailboxSize = 64
    public static let regionsOffset = 0x200
    public static let maxRegions = 32
    public static let tracesOffset = 0x600
    public static let traceRecordSize = 16
    public static let maxTraces = 8

    /// The notify id a remote rings to say "look at the control block" (crash report, state change).
    public static let controlNotifyID: UInt32 = 0xFFFF_FFFF

    /// The wire protocol of the remote's rpmsg link (`rpmsgTransport`).
    public enum RpmsgTransport: UInt32, Sendable {
        /// virtio rpmsg over the vrings of the firmware's vdev.
        case virtio = 0
        /// Qualcomm SMD over channels the remote creates in the smem region.
        case smd = 1
    }

    /// What the host allows the remote to do.
    public enum HostState: UInt32, Sendable {
        /// Segment being prepared; the remote must not run.
        case reset = 0
        /// Firmware and table are being loaded.
        case loading = 1
        /// Loaded: the remote may run its firmware.
        case released = 2
        /// The host is stopping the remote.
        case stopping = 3
    }

    /// What the remote runtime reports about itself.
    public enum RemoteState: UInt32, Sendable {
        case detached = 0
        /// The runtime mapped the segment and validated the control block.
        case attached = 1
        /// The firmware's main code runs.
        case running = 2
        /// The runtime stopped in an orderly way after a stop request.
        case stopped = 3
        /// The runtime halted after reporting a crash.
        case halted = 4
    }

    /// Linux's `enum rproc_crash_type`.
    public enum CrashType: UInt32, Sendable, CaseIterable {
        case mmuFault = 0
        case watchdog = 1
        case fatalError = 2

        /// The name Linux prints for it.
        public var name: String {
            switch self {
            case .mmuFault: "mmufault"
            case .watchdog: "watchdog"
            case .fatalError: "fatal error"
            }
        }
    }

    /// Segment offset of region record `index`.
    public static func regionRecordOffset(_ index: Int) -> Int { regionsOffset + index * MemoryRegionRecord.size }
    /// Segment offset of trace record `index`.
    public static func traceRecordOffset(_ index: Int) -> Int { tracesOffset + index * traceRecordSize }
}

/// One memory region of a remote processor as published in the control block: a device-address range
/// and where it lives in the segment.
public struct MemoryRegionRecord: Sendable, Equatable {
    public static let size = 32
    public static let nameCapacity = 8

    /// Kinds of region, as in a profile's memory map.
    public enum Kind: UInt32, Sendable {
        case carveout = 0
        case devmem = 1
        /// Qualcomm SMEM (the SMD channels' item heap).
        case smem = 2
    }

    public var da: UInt32
    public var pa: UInt32
    public var size: UInt32
    public var kind: Kind
    public var segmentOffset: UInt64
    public var name: String

    public init(da: UInt32, pa: UInt32, size: UInt32, kind: Kind, segmentOffset: UInt64, name: String) {
        self.da = da
        self.pa = pa
        self.size = size
        self.kind = kind
        self.segmentOffset = segmentOffset
        self.name = name
    }

    public static func parse(_ reader: ByteReader, at offset: Int) throws(WireError) -> MemoryRegionRecord {
        let kindValue = try reader.u32(at: offset + 12, field: "region.kind")
        guard let kind = Kind(rawValue: kindValue) else {
            throw WireError(field: "region.kind", offset: reader.base + offset + 12, reason: "unknown region kind \(kindValue)")
        }
        return MemoryRegionRecord(
            da: try reader.u32(at: offset, field: "region.da"),
            pa: try reader.u32(at: offset + 4, field: "region.pa"),
            size: try reader.u32(at: offset + 8, field: "region.size"),
            kind: kind,
            segmentOffset: try reader.u64(at: offset + 16, field: "region.segmentOffset"),
            name: try reader.cString(at: offset + 24, capacity: nameCapacity, field: "region.name"))
    }

    public func serialise(into writer: inout ByteWriter, at offset: Int) {
        writer.put(da, at: offset)
        writer.put(pa, at: offset + 4)
        writer.put(size, at: offset + 8)
        writer.put(kind.rawValue, at: offset + 12)
        writer.put(segmentOffset, at: offset + 16)
        writer.putCString(name, capacity: Self.nameCapacity, at: offset + 24)
    }

    /// Whether `count` bytes at device address `da` lie inside this region (overflow-safe).
    public func contains(da address: UInt32, count: UInt32) -> Bool {
        guard address >= da else { return false }
        let start = UInt64(address) - UInt64(da)
        return start + UInt64(count) <= UInt64(size)
    }
}

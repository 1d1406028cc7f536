// Qualcomm SMD (shared memory driver) numbers: the SMEM items that hold channels, channel states and the
// flags of allocation-table entries.
//
// Channels are described by two allocation tables of 64 entries each. Channel `cid` of table T keeps its
// channel-info pair in SMEM item `infoBase(T) + cid` and its two FIFOs in item `fifoBase(T) + cid`:
//
//   table   alloc item   info base   fifo base
//     0         13           14         338
//     1        266          138         202
//
// Every multi-byte SMD field is little-endian on every platform.

/// The SMEM item numbers of one SMD allocation table.
public struct SmdAllocTable: Sendable, Hashable {
    /// Table number, 0 or 1.
    public let index: Int
    /// SMEM item holding the table's 64 `smd_alloc_elm` entries.
    public let allocItem: Int
    /// Channel `cid`'s info pair is item `infoBase + cid`.
    public let infoBase: Int
    /// Channel `cid`'s FIFO pair is item `fifoBase + cid`.
    public let fifoBase: Int

    /// SMEM item of channel `cid`'s info pair.
    public func infoItem(cid: Int) -> Int { infoBase + cid }
    /// SMEM item of channel `cid`'s FIFOs.
    public func fifoItem(cid: Int) -> Int { fifoBase + cid }
}

/// Constants of the SMD wire protocol.
public enum SmdConstants {
    /// The two allocation tables, in scan order.
    public static let allocTables: [SmdAllocTable] = [
        SmdAllocTable(index: 0, allocItem: 13, infoBase: 14, fifoBase: 338),
        SmdAllocTable(index: 1, allocItem: 266, infoBase: 138, fifoBase: 202),
    ]
    /// Entries in each allocation table (`SMD_ALLOC_TBL_SIZE`).
    public static let entriesPerTable = 64
    /// Size of the SMEM item holding one allocation table: 64 entries of 32 bytes.
    public static let allocTableSize = entriesPerTable * SmdAllocEntry.size
    /// Size of the packet header in front of every payload (`SMD_PACKET_HEADER_LEN`).
    public static let packetHeaderSize = SmdPacketHeader.size
    /// Largest bounce buffer used to hand over a packet that wraps around the end of the FIFO.
    public static let maxBounceBufferSize = 4096
    /// Each stage of the open handshake waits at most this long for the remote (Linux's `HZ`), in milliseconds.
    public static let handshakeStageTimeoutMilliseconds = 1000
}

/// Channel state written by each side into its own half of the info pair (`enum smd_channel_state`).
public enum SmdChannelState: UInt32, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case closed = 0
    case opening = 1
    case opened = 2
    case flushing = 3
    case closing = 4
    case reset = 5
    case resetOpening = 6

    /// Whether the side is opening or open: what the other side takes as interest in the channel.
    public var isOpeningOrOpened: Bool { self == .opening || self == .opened }

    public var description: String {
        switch self {
        case .closed: "CLOSED"
        case .opening: "OPENING"
        case .opened: "OPENED"
        case .flushing: "FLUSHING"
        case .closing: "CLOSING"
        case .reset: "RESET"
        case .resetOpening: "RESET_OPENING"
        }
    }
}

/// The `flags` word of an allocation-table entry: bits 0-7 edge id, bit 8 stream, bit 9 packet.
public struct SmdAllocFlags: Sendable, Hashable, CustomStringConvertible {
    /// Bits 0-7: the edge (pair of processors) the channel belongs to (`SMD_CHANNEL_FLAGS_EDGE_MASK`).
    public static let edgeMask: UInt32 = 0xFF
    /// Bit 8: stream channel (`SMD_CHANNEL_FLAGS_STREAM`).
    public static let stream: UInt32 = 1 << 8
    /// Bit 9: packet channel (`SMD_CHANNEL_FLAGS_PACKET`); the only kind Linux's rpmsg driver picks up.
    public static let packet: UInt32 = 1 << 9

    /// The raw word.
    public var rawValue: UInt32

    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Flags of a channel on edge `edgeID` (0...255), packet or stream.
    public init(edgeID: UInt8, packet: Bool = true, stream: Bool = false) {
        rawValue = UInt32(edgeID) | (packet ? Self.packet : 0) | (stream ? Self.stream : 0)
    }

    /// Bits 0-7.
    public var edgeID: UInt32 { rawValue & Self.edgeMask }
    /// Bit 9.
    public var isPacket: Bool { rawValue & Self.packet != 0 }
    /// Bit 8.
    public var isStream: Bool { rawValue & Self.stream != 0 }

    public var description: String { "0x" + String(rawValue, radix: 16) }
}

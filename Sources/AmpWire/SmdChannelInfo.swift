// SMD channel information: one structure per direction, written mostly by the side that transmits on it.
// The info item of a channel holds a pair {tx, rx} named as the applications processor (host 0) sees it:
// apps transmits with `tx` and receives with `rx`; the remote processor uses them the other way round.
//
// Byte layout (`struct smd_channel_info`, 20 bytes; a pair is 40):
//   state @0 LE32 | fDSR @4 fCTS @5 fCD @6 fRI @7 fHEAD @8 fTAIL @9 fSTATE @10 fBLOCKREADINTR @11 (u8)
//   tail @12 LE32 | head @16 LE32
// Word layout (`struct smd_channel_info_word`, 44 bytes; a pair is 88): the same eleven fields, each LE32,
//   at 0, 4, ..., 40 in the same order. Word channels must be accessed 32 bits at a time only.
// The size of the info item picks the layout: 40 bytes byte layout, 88 bytes word layout, anything else is
// rejected.

/// Which `smd_channel_info` layout a channel uses.
public enum SmdInfoLayout: String, Sendable, Hashable, CaseIterable {
    /// `struct smd_channel_info`: 8-bit flags.
    case byte
    /// `struct smd_channel_info_word`: every field 32 bits.
    case word

    /// Size of one info structure: 20 or 44.
    public var size: Int { self == .byte ? 20 : 44 }
    /// Size of the {tx, rx} pair, which is the info item's size: 40 or 88.
    public var pairSize: Int { 2 * size }
    /// Width of one flag field: 1 or 4.
    public var flagWidth: Int { self == .byte ? 1 : 4 }
    /// Offset of `state`.
    public var stateOffset: Int { 0 }
    /// Offset of a flag field.
    public func offset(of flag: SmdChannelFlag) -> Int { 4 + flag.rawValue * flagWidth }
    /// Offset of `tail` (12 or 36).
    public var tailOffset: Int { 4 + SmdChannelFlag.allCases.count * flagWidth }
    /// Offset of `head` (16 or 40).
    public var headOffset: Int { tailOffset + 4 }
    /// Offset of the pair's `tx` (0) or `rx` (size) structure.
    public func offset(of half: SmdInfoHalf) -> Int { half == .tx ? 0 : size }

    /// The layout whose pair is `itemSize` bytes, or nil (Linux's -EINVAL) for any other size.
    public init?(infoItemSize itemSize: Int) {
        switch itemSize {
        case SmdInfoLayout.byte.pairSize: self = .byte
        case SmdInfoLayout.word.pairSize: self = .word
        default: return nil
        }
    }
}

/// The two structures of an info pair, named from the applications processor's side.
public enum SmdInfoHalf: String, Sendable, Hashable, CaseIterable {
    /// What apps transmits with (the remote receives with it).
    case tx
    /// What apps receives with (the remote transmits with it).
    case rx
}

/// The eight flag fields of a channel info structure, in wire order.
public enum SmdChannelFlag: Int, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// fDSR: set while the writer's state is OPENED.
    case dsr = 0
    /// fCTS: set while the writer's state is OPENED.
    case cts
    /// fCD: set while the writer's state is OPENED.
    case cd
    /// fRI: ring indicator, always 0.
    case ri
    /// fHEAD: the transmitter set it when it moved head; the receiver clears it when it sees the data.
    case head
    /// fTAIL: the receiver set it when it moved tail; the transmitter clears it before writing.
    case tail
    /// fSTATE: set with every state change; the other side clears it when it has seen the state.
    case state
    /// fBLOCKREADINTR: 0 while the transmitter waits for room and wants a signal when the receiver reads.
    case blockReadInterrupt

    /// The field's name in the C structure.
    public var description: String {
        switch self {
        case .dsr: "fDSR"
        case .cts: "fCTS"
        case .cd: "fCD"
        case .ri: "fRI"
        case .head: "fHEAD"
        case .tail: "fTAIL"
        case .state: "fSTATE"
        case .blockReadInterrupt: "fBLOCKREADINTR"
        }
    }
}

/// One `smd_channel_info` / `smd_channel_info_word` structure, values as stored.
public struct SmdChannelInfo: Sendable, Hashable {
    /// `state` (an `SmdChannelState` raw value when well formed).
    public var state: UInt32
    /// The eight flags in `SmdChannelFlag` order (each 0 or 1 when well formed; byte layout keeps 8 bits).
    public var flags: [UInt32]
    /// `tail`: the receiver's read index.
    public var tail: UInt32
    /// `head`: the transmitter's write index.
    public var head: UInt32

    public init(state: UInt32 = 0, flags: [UInt32] = [], tail: UInt32 = 0, head: UInt32 = 0) {
        self.state = state
        let count = SmdChannelFlag.allCases.count
        self.flags = Array((flags + [UInt32](repeating: 0, count: count)).prefix(count))
        self.tail = tail
        self.head = head
    }

    /// A flag's value.
    public subscript(flag: SmdChannelFlag) -> UInt32 {
        get { flags[flag.rawValue] }
        set { flags[flag.rawValue] = newValue }
    }

    /// Reads a structure of `layout` at `offset` of `reader` (which must be little-endian);
    /// `field` prefixes field names in errors (e.g. `smd_channel_info.rx`).
    public init(layout: SmdInfoLayout, from reader: ByteReader, at offset: Int, field: String = "smd_channel_info") throws(WireError) {
        try reader.require(offset: offset, count: layout.size, field: field)
        state = try reader.u32(at: offset + layout.stateOffset, field: "\(field).state")
        flags = []
        for flag in SmdChannelFlag.allCases {
            let at = offset + layout.offset(of: flag)
            switch layout {
            case .byte: flags.append(UInt32(try reader.u8(at: at, field: "\(field).\(flag)")))
            case .word: flags.append(try reader.u32(at: at, field: "\(field).\(flag)"))
            }
        }
        tail = try reader.u32(at: offset + layout.tailOffset, field: "\(field).tail")
        head = try reader.u32(at: offset + layout.headOffset, field: "\(field).head")
    }

    /// Writes the structure in `layout` at `offset` (byte layout keeps the low 8 bits of each flag).
    public func write(layout: SmdInfoLayout, to writer: inout ByteWriter, at offset: Int) {
        writer.put(state, at: offset + layout.stateOffset)
        for flag in SmdChannelFlag.allCases {
            let at = offset + layout.offset(of: flag)
            switch layout {
            case .byte: writer.put(UInt8(truncatingIfNeeded: self[flag]), at: at)
            case .word: writer.put(self[flag], at: at)
            }
        }
        writer.put(tail, at: offset + layout.tailOffset)
        writer.put(head, at: offset + layout.headOffset)
    }

    /// The structure's little-endian bytes in `layout`.
    public func serialized(layout: SmdInfoLayout) -> [UInt8] {
        var writer = ByteWriter(count: layout.size, order: .little)
        write(layout: layout, to: &writer, at: 0)
        return writer.bytes
    }
}

/// The {tx, rx} pair stored in a channel's info item, named from the applications processor's side.
public struct SmdChannelInfoPair: Sendable, Hashable {
    /// Apps' transmit structure.
    public var tx: SmdChannelInfo
    /// Apps' receive structure.
    public var rx: SmdChannelInfo

    public init(tx: SmdChannelInfo = SmdChannelInfo(), rx: SmdChannelInfo = SmdChannelInfo()) {
        self.tx = tx
        self.rx = rx
    }

    /// Reads a pair of `layout` at `offset` of `reader`.
    public init(layout: SmdInfoLayout, from reader: ByteReader, at offset: Int = 0) throws(WireError) {
        try reader.require(offset: offset, count: layout.pairSize, field: "smd_channel_info_pair")
        tx = try SmdChannelInfo(layout: layout, from: reader, at: offset + layout.offset(of: .tx), field: "smd_channel_info.tx")
        rx = try SmdChannelInfo(layout: layout, from: reader, at: offset + layout.offset(of: .rx), field: "smd_channel_info.rx")
    }

    /// Reads a pair whose layout is chosen by the size of `bytes` (40 byte layout, 88 word layout).
    ///
    /// - Throws: `WireError` (field `smd_channel_info`) for any other size.
    public init(infoItem bytes: [UInt8]) throws(WireError) {
        guard let layout = SmdInfoLayout(infoItemSize: bytes.count) else {
            throw WireError(
                field: "smd_channel_info", offset: 0,
                reason: "an info item of \(bytes.count) bytes is neither a byte pair (40) nor a word pair (88)")
        }
        try self.init(layout: layout, from: ByteReader(bytes, order: .little))
    }

    /// The half `half`.
    public subscript(half: SmdInfoHalf) -> SmdChannelInfo {
        get { half == .tx ? tx : rx }
        set { if half == .tx { tx = newValue } else { rx = newValue } }
    }

    /// The pair's little-endian bytes in `layout`.
    public func serialized(layout: SmdInfoLayout) -> [UInt8] {
        var writer = ByteWriter(count: layout.pairSize, order: .little)
        tx.write(layout: layout, to: &writer, at: layout.offset(of: .tx))
        rx.write(layout: layout, to: &writer, at: layout.offset(of: .rx))
        return writer.bytes
    }
}

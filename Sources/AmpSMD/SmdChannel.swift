// One SMD channel as seen by one side (host or remote): a pair of FIFOs in one SMEM item (first half apps
// transmit, second half apps receive) and a pair of channel-info structures in another (see
// SmdChannelInfoMemory.swift for who writes what). The engine is split by concern:
//
//   SmdChannel+State.swift      set_state, reset, close, reading the other side's state
//   SmdChannel+Send.swift       packets into the transmit FIFO, back-pressure with fBLOCKREADINTR
//   SmdChannel+Receive.swift    the interrupt handler: state acks, packets out of the receive FIFO
//   SmdChannel+Handshake.swift  the host's open handshake with deadlines, the remote's reactions
//
// Indices this side owns (its transmit head, its receive tail) are kept in local shadows and never read
// back from shared memory, so the other side cannot corrupt them; every index and length it reads is
// validated before use and a bad one is an `SmdError.protocolViolation` naming the channel and field.
//
// Not thread-safe: one thread (or a lock held by the caller) drives a channel. Signalling is the caller's:
// operations return whether the other side must be kicked.

import AmpWire

/// An SMD channel engine for one side of one channel.
public final class SmdChannel {
    /// The channel's name from its allocation-table entry.
    public let name: String
    /// Which side this engine runs on.
    public let side: SmdSide
    /// Info layout, chosen by the info item's size.
    public let layout: SmdInfoLayout
    /// Allocation table (0 or 1) and entry index in it.
    public let table: Int
    public let entryIndex: Int
    /// Channel id (selects the info and FIFO items).
    public let cid: Int
    /// Size and arithmetic of each of the two FIFOs.
    public let geometry: SmdFifoGeometry

    /// This side's state, as last written to shared memory.
    public internal(set) var state: SmdChannelState = .closed
    /// The other side's state as last observed.
    public internal(set) var remoteState: SmdChannelState = .closed

    let info: SmdChannelInfoMemory
    let transmitFifo: SmdFifoMemory
    let receiveFifo: SmdFifoMemory
    /// Shadow of this side's transmit head (the only writer is this engine).
    var transmitHead = 0
    /// Shadow of this side's receive tail.
    var receiveTail = 0
    /// Payload length of a packet whose header was consumed but whose payload has not been delivered.
    var pendingLength: Int?
    /// Set while this side asked for a wakeup (fBLOCKREADINTR = 0) after a send would have blocked.
    var awaitingRoom = false
    /// Bounce buffer for packets that wrap (and for all packets of word channels).
    var bounce: [UInt8]
    /// Host: progress of an open handshake in flight.
    var openStage: SmdOpenStage?
    /// Remote: whether this side serves the channel (reopens it after the host left).
    var serving = false
    /// Host: whether the channel is registered on the rpmsg bus (state worker).
    var registered = false

    /// A channel over items already found in `region`.
    ///
    /// - Parameters:
    ///   - infoItem: the info pair item; 40 bytes selects the byte layout, 88 the word layout.
    ///   - fifoItem: the FIFO item; each FIFO is half of it and must be a power of two.
    /// - Throws: `SmdError.protocolViolation` (field `info_item.size` or `fifo_item.size`) for any other
    ///   size, or when an item does not lie inside the region.
    public init(
        name: String, side: SmdSide, region: SmemRegion, infoItem: SmemItem, fifoItem: SmemItem,
        table: Int, entryIndex: Int, cid: Int
    ) throws(SmdError) {
        guard let layout = SmdInfoLayout(infoItemSize: infoItem.size) else {
            throw SmdError(
                .protocolViolation, channel: name, field: "info_item.size",
                "info item \(infoItem.number) of \(infoItem.size) bytes is neither a byte pair (40) nor a word pair (88)")
        }
        guard fifoItem.size % 2 == 0, let geometry = try? SmdFifoGeometry(size: fifoItem.size / 2) else {
            throw SmdError(
                .protocolViolation, channel: name, field: "fifo_item.size",
                "FIFO item \(fifoItem.number) of \(fifoItem.size) bytes does not split into two power-of-two FIFOs of 32 bytes to 1 GiB")
        }
        guard region.contains(offset: infoItem.offset, count: infoItem.size), infoItem.offset % 4 == 0,
            region.contains(offset: fifoItem.offset, count: fifoItem.size), fifoItem.offset % 4 == 0
        else {
            throw SmdError(.protocolViolation, channel: name, field: "smem.toc", "channel items lie outside the region or are unaligned")
        }
        self.name = name
        self.side = side
        self.layout = layout
        self.table = table
        self.entryIndex = entryIndex
        self.cid = cid
        self.geometry = geometry
        info = SmdChannelInfoMemory(region: region, offset: infoItem.offset, layout: layout, side: side)
        let first = region.base + fifoItem.offset
        let second = first + geometry.size
        let word = layout == .word
        transmitFifo = SmdFifoMemory(base: side == .host ? first : second, geometry: geometry, wordAccess: word)
        receiveFifo = SmdFifoMemory(base: side == .host ? second : first, geometry: geometry, wordAccess: word)
        bounce = [UInt8](repeating: 0, count: geometry.bounceBufferSize)
    }

    /// Largest payload one packet can carry (FIFO size - 21), rounded down to a multiple of 4 for word channels.
    public var maximumPayload: Int {
        layout == .word ? geometry.largestPayload & ~3 : geometry.largestPayload
    }

    /// Current size of the bounce buffer: min(FIFO size, 4096) at first, grown for larger wrapped packets.
    public var bounceBufferSize: Int { bounce.count }

    /// A protocol violation on this channel.
    func violation(_ field: String, _ message: String) -> SmdError {
        SmdError(.protocolViolation, channel: name, field: field, message)
    }

    /// Validates an index the other side wrote: below the FIFO size, and a multiple of 4 on word channels.
    func validatedIndex(_ value: UInt32, field: String) throws(SmdError) -> Int {
        guard geometry.isValidIndex(value) else {
            throw violation(field, "index \(value) is outside the \(geometry.size)-byte FIFO")
        }
        guard layout == .byte || value % 4 == 0 else {
            throw violation(field, "index \(value) of a word channel is not a multiple of 4")
        }
        return Int(value)
    }
}

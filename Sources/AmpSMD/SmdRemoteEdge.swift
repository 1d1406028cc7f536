// The remote processor's side of an SMD edge: it creates the channels it serves, as Qualcomm's modem and DSP
// firmwares do, and reacts to the host's states.
//
// Creating channel `cid` in table T: make sure the table's item (13 or 266, 64 x 32 bytes) exists; allocate the
// info item infoBase+cid (40 bytes byte layout, 88 word layout) and the FIFO item fifoBase+cid (two FIFOs);
// zero both; reset this side's half; then publish the entry: name, cid, flags (edge id | PACKET), and
// ref_count = 1 last. The host finds it on its next scan (signal it; SMEM free space changed).
// A remote that restarts over the same memory finds its entry by name and takes the channel over again.

import AmpWire

/// A state event of one channel, from `SmdRemoteEdge.handleInterrupt`.
public struct SmdRemoteChannelEvent: Sendable, Equatable {
    public var channel: String
    public var event: SmdRemoteEvent

    public init(channel: String, event: SmdRemoteEvent) {
        self.channel = channel
        self.event = event
    }
}

/// What one `SmdRemoteEdge.handleInterrupt` call found.
public struct SmdRemoteInterruptResult: Sendable, Equatable {
    /// The host must be signalled.
    public var kickHost = false
    /// Channels whose blocked senders may retry (by name).
    public var wakeSenders: [String] = []
    /// State events, in channel order.
    public var events: [SmdRemoteChannelEvent] = []
    /// Packets delivered on all channels.
    public var delivered = 0

    public init() {}
}

/// The remote side of an SMD edge.
public final class SmdRemoteEdge {
    /// The SMEM heap in this processor's segment.
    public let heap: SmemHeap
    /// Edge id written into every entry's flags.
    public let edgeID: UInt8
    /// Channels created (or taken over) by this side.
    public private(set) var channels: [SmdChannel] = []

    public init(heap: SmemHeap, edgeID: UInt8) {
        self.heap = heap
        self.edgeID = edgeID
    }

    /// The channel called `name`, if created.
    public func channel(named name: String) -> SmdChannel? {
        channels.first { $0.name == name }
    }

    /// Creates a packet channel (or takes over this edge's existing entry with the same name and geometry).
    ///
    /// - Parameters:
    ///   - name: 1 to 19 printable ASCII characters.
    ///   - table: allocation table 0 or 1.
    ///   - cid: the channel id (and entry index), 0..<64; nil picks the first free entry of the table.
    ///   - fifoSize: size of each of the two FIFOs, a power of two from 32.
    ///   - layout: byte or word channel info.
    /// - Returns: the channel, CLOSED; call `remoteOpen()` to announce it. Signal the host afterwards.
    /// - Throws: `SmdError` `invalidArgument` (bad name, table, cid or size), `exists` (the cid is taken, or the
    ///   name exists with another geometry), `noSpace`, `lockTimeout`, or `protocolViolation` (corrupted SMEM).
    public func createChannel(
        name: String, table: Int = 0, cid: Int? = nil, fifoSize: Int, layout: SmdInfoLayout
    ) throws(SmdError) -> SmdChannel {
        let flags = SmdAllocFlags(edgeID: edgeID, packet: true)
        do {
            _ = try SmdAllocEntry(name: name, cid: 0, flags: flags)
        } catch {
            throw SmdError(.invalidArgument, channel: name, field: error.field, error.reason)
        }
        guard let tableNumbers = SmdConstants.allocTables.first(where: { $0.index == table }) else {
            throw SmdError(.invalidArgument, channel: name, "allocation table \(table) does not exist (0 or 1)")
        }
        let geometry = try SmdFifoGeometry(size: fifoSize)
        let memory = try allocTable(tableNumbers)
        if let existing = try takeOver(name: name, memory: memory, geometry: geometry, layout: layout) {
            return existing
        }
        let index = try freeEntry(memory, requested: cid, name: name)
        let infoItem = try heap.allocate(item: tableNumbers.infoItem(cid: index), size: layout.pairSize)
        let fifoItem = try heap.allocate(item: tableNumbers.fifoItem(cid: index), size: 2 * geometry.size)
        heap.region.zeroWords(at: infoItem.offset, count: infoItem.size)
        heap.region.zeroWords(at: fifoItem.offset, count: fifoItem.size)
        let channel = try SmdChannel(
            name: name, side: .remote, region: heap.region, infoItem: infoItem, fifoItem: fifoItem,
            table: table, entryIndex: index, cid: index)
        channel.reset()
        let entry = SmdAllocEntry(
            nameBytes: Array(name.utf8), cid: UInt32(index), flags: flags, refCount: 1)
        memory.publish(entry, at: index)
        channels.append(channel)
        return channel
    }

    /// Handles a signal from the host: each channel's state step, then its interrupt handler.
    ///
    /// - Parameter deliver: receives the channel and a payload; return false to refuse (back-pressure).
    /// - Returns: whether the host must be signalled, the channels whose senders may retry, and per-channel
    ///   state events (opened, host left).
    /// - Throws: the first `SmdError.protocolViolation` found.
    public func handleInterrupt(
        deliver: (SmdChannel, UnsafeRawBufferPointer) -> Bool
    ) throws(SmdError) -> SmdRemoteInterruptResult {
        var result = SmdRemoteInterruptResult()
        for channel in channels {
            let step = try channel.remoteStep()
            result.kickHost = result.kickHost || step.kickHost
            if step.event != .none { result.events.append(SmdRemoteChannelEvent(channel: channel.name, event: step.event)) }
            let one = try channel.handleInterrupt { deliver(channel, $0) }
            result.kickHost = result.kickHost || one.kickRemote
            result.delivered += one.delivered
            if one.wakeSenders { result.wakeSenders.append(channel.name) }
        }
        return result
    }

    // MARK: Helpers

    /// The table's SMEM item, allocated (zeroed) on first use.
    private func allocTable(_ table: SmdAllocTable) throws(SmdError) -> SmdAllocTableMemory {
        let item: SmemItem
        do {
            item = try heap.item(table.allocItem)
        } catch where error.code == .notFound {
            do {
                item = try heap.allocate(item: table.allocItem, size: SmdConstants.allocTableSize)
                heap.region.zeroWords(at: item.offset, count: item.size)
            } catch where error.code == .exists {
                item = try heap.item(table.allocItem)
            }
        }
        return try SmdAllocTableMemory(heap: heap, table: table, item: item)
    }

    /// An existing entry of this edge named `name`: the channel over its items, reset on this side.
    private func takeOver(
        name: String, memory: SmdAllocTableMemory, geometry: SmdFifoGeometry, layout: SmdInfoLayout
    ) throws(SmdError) -> SmdChannel? {
        for index in 0..<SmdConstants.entriesPerTable where memory.refCount(index) != 0 {
            let entry = memory.entry(index)
            guard entry.flags.edgeID == UInt32(edgeID),
                (try? entry.validatedName()) == name
            else { continue }
            if let known = channel(named: name) { return known }
            guard entry.cid < UInt32(SmdConstants.entriesPerTable) else {
                throw SmdError(.protocolViolation, channel: name, field: "\(memory.fieldName(index)).cid", "cid \(entry.cid) is not below 64")
            }
            let cid = Int(entry.cid)
            let channel = try SmdChannel(
                name: name, side: .remote, region: heap.region,
                infoItem: try heap.item(memory.table.infoItem(cid: cid)), fifoItem: try heap.item(memory.table.fifoItem(cid: cid)),
                table: memory.table.index, entryIndex: index, cid: cid)
            guard channel.layout == layout, channel.geometry == geometry else {
                throw SmdError(
                    .exists, channel: name,
                    "channel exists with \(channel.layout) layout and \(channel.geometry.size)-byte FIFOs")
            }
            channel.reset()
            channels.append(channel)
            return channel
        }
        return nil
    }

    /// The entry index (= cid) to use: `requested` if free, else the first entry whose items are unused.
    private func freeEntry(_ memory: SmdAllocTableMemory, requested: Int?, name: String) throws(SmdError) -> Int {
        func isFree(_ index: Int) -> Bool {
            memory.refCount(index) == 0 && memory.entry(index).hasEmptyName
                && (try? heap.item(memory.table.infoItem(cid: index))) == nil
                && (try? heap.item(memory.table.fifoItem(cid: index))) == nil
        }
        if let requested {
            guard requested >= 0, requested < SmdConstants.entriesPerTable else {
                throw SmdError(.invalidArgument, channel: name, field: "cid", "cid \(requested) is outside 0..<\(SmdConstants.entriesPerTable)")
            }
            guard isFree(requested) else {
                throw SmdError(.exists, channel: name, field: "cid", "entry \(requested) of table \(memory.table.index) is in use")
            }
            return requested
        }
        guard let index = (0..<SmdConstants.entriesPerTable).first(where: isFree) else {
            throw SmdError(.noSpace, channel: name, "allocation table \(memory.table.index) has no free entry")
        }
        return index
    }
}

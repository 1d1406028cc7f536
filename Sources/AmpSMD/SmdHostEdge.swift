// The host's (apps, host 0) view of one SMD edge, i.e. one remote processor. Linux never allocates SMD
// channels: the remote creates them and the host discovers them.
//
// Scan (Linux's `qcom_discover_channels`): both allocation tables, 64 entries each; skip entries already
// taken, with ref_count 0, an empty name, no PACKET flag, or another edge's id. The name must be
// NUL-terminated printable ASCII, the cid below 64, the info item 40 (byte) or 88 (word) bytes, the FIFO item
// two power-of-two halves; anything else the remote wrote is a protocol violation. A found channel is reset on
// the host's side (CLOSED, fSTATE = 1, ...).
//
// State work (Linux's `qcom_channel_state_worker`): a host-CLOSED channel whose remote is OPENING or OPENED
// and is not registered gets registered on the rpmsg bus (name = channel name); a host-OPENING/OPENED
// channel whose remote is neither gets unregistered (the caller then closes its endpoint, which closes and
// resets the channel).
//
// Interrupt: every channel's handler runs; a changed SMEM free space asks for a scan, a changed remote state
// for the state work. Signalling is the caller's: results say when the remote must be kicked.

import AmpWire

/// A registration change found by the state work.
public enum SmdHostEdgeEvent {
    /// Register an rpmsg device for this channel (the remote shows interest).
    case register(SmdChannel)
    /// Unregister the channel's device (the remote left); its endpoint should close the channel.
    case unregister(SmdChannel)
}

/// What one `SmdHostEdge.handleInterrupt` call found.
public struct SmdEdgeInterruptResult: Sendable, Equatable {
    /// The remote must be signalled.
    public var kickRemote = false
    /// Channels whose blocked senders may retry (by name).
    public var wakeSenders: [String] = []
    /// SMEM free space changed: call `scan()`.
    public var needsScan = false
    /// A remote state changed: call `stateWork()`.
    public var needsStateWork = false
    /// Packets delivered on all channels.
    public var delivered = 0

    public init() {}
}

/// The host side of an SMD edge.
public final class SmdHostEdge {
    /// The SMEM heap in the remote's segment.
    public let heap: SmemHeap
    /// Edge id (bits 0-7 of each entry's flags) of this remote.
    public let edgeID: UInt8
    /// Channels found so far, in discovery order.
    public private(set) var channels: [SmdChannel] = []

    private var taken = [[Bool]](repeating: [Bool](repeating: false, count: SmdConstants.entriesPerTable), count: SmdConstants.allocTables.count)
    private var availableAtLastScan: Int?

    public init(heap: SmemHeap, edgeID: UInt8) {
        self.heap = heap
        self.edgeID = edgeID
    }

    /// The channel called `name`, if discovered.
    public func channel(named name: String) -> SmdChannel? {
        channels.first { $0.name == name }
    }

    /// Scans both allocation tables for channels of this edge not seen before, resets each new one on the
    /// host's side, and returns them (signal the remote when the list is not empty).
    ///
    /// - Throws: `SmdError.protocolViolation` naming the table entry and field (or SMEM entry) the remote
    ///   corrupted. Channels found before the bad entry stay discovered.
    public func scan() throws(SmdError) -> [SmdChannel] {
        availableAtLastScan = try heap.available()
        var found = [SmdChannel]()
        for table in SmdConstants.allocTables {
            let item: SmemItem
            do {
                item = try heap.item(table.allocItem)
            } catch where error.code == .notFound {
                continue
            }
            let memory = try SmdAllocTableMemory(heap: heap, table: table, item: item)
            for index in 0..<SmdConstants.entriesPerTable where !taken[table.index][index] {
                guard let channel = try discover(memory, index) else { continue }
                channel.reset()
                taken[table.index][index] = true
                channels.append(channel)
                found.append(channel)
            }
        }
        return found
    }

    /// One entry: nil when it is not (yet) a channel of this edge, else the channel.
    private func discover(_ memory: SmdAllocTableMemory, _ index: Int) throws(SmdError) -> SmdChannel? {
        guard memory.refCount(index) != 0 else { return nil }
        let entry = memory.entry(index)
        guard !entry.hasEmptyName, entry.flags.isPacket, entry.flags.edgeID == UInt32(edgeID) else { return nil }
        let field = memory.fieldName(index)
        let name: String
        do {
            name = try entry.validatedName(field: field, offset: memory.entryOffset(index))
        } catch {
            throw SmdError(.protocolViolation, field: error.field, error.reason)
        }
        guard entry.cid < UInt32(SmdConstants.entriesPerTable) else {
            throw SmdError(
                .protocolViolation, channel: name, field: "\(field).cid",
                "cid \(entry.cid) is not below \(SmdConstants.entriesPerTable)")
        }
        let cid = Int(entry.cid)
        let infoItem = try channelItem(memory.table.infoItem(cid: cid), name: name, role: "info")
        let fifoItem = try channelItem(memory.table.fifoItem(cid: cid), name: name, role: "FIFO")
        return try SmdChannel(
            name: name, side: .host, region: heap.region, infoItem: infoItem, fifoItem: fifoItem,
            table: memory.table.index, entryIndex: index, cid: cid)
    }

    /// An item a published entry refers to: missing is a violation (the remote publishes entries last).
    private func channelItem(_ number: Int, name: String, role: String) throws(SmdError) -> SmemItem {
        do {
            return try heap.item(number)
        } catch {
            var error = error
            if error.code == .notFound {
                error = SmdError(.protocolViolation, channel: name, field: error.field, "\(role) item \(number) of a published channel is not allocated")
            }
            error.channel = name
            throw error
        }
    }

    /// Whether SMEM free space changed since the last scan (a remote allocated: maybe a new channel).
    public func freeSpaceChanged() throws(SmdError) -> Bool {
        try heap.available() != availableAtLastScan
    }

    /// Registration changes implied by the channels' states (Linux's state worker).
    ///
    /// - Throws: `SmdError.protocolViolation` when a remote state is garbage.
    public func stateWork() throws(SmdError) -> [SmdHostEdgeEvent] {
        var events = [SmdHostEdgeEvent]()
        for channel in channels {
            let remote = try channel.readRemoteState()
            if channel.state == .closed, remote.isOpeningOrOpened, !channel.registered {
                channel.registered = true
                events.append(.register(channel))
            } else if channel.state == .opening || channel.state == .opened, !remote.isOpeningOrOpened {
                channel.registered = false
                events.append(.unregister(channel))
            }
        }
        return events
    }

    /// Whether the channel is registered on the rpmsg bus (as decided by `stateWork`).
    public func isRegistered(_ channel: SmdChannel) -> Bool { channel.registered }

    /// Handles a signal from the remote: each channel's interrupt handler (packets to `deliver`), then the
    /// free-space check.
    ///
    /// - Parameter deliver: receives the channel and a payload; return false to refuse (back-pressure).
    /// - Throws: the first `SmdError.protocolViolation` found; the host treats it as a crash of the remote.
    public func handleInterrupt(deliver: (SmdChannel, UnsafeRawBufferPointer) -> Bool) throws(SmdError) -> SmdEdgeInterruptResult {
        var result = SmdEdgeInterruptResult()
        for channel in channels {
            let one = try channel.handleInterrupt { deliver(channel, $0) }
            result.kickRemote = result.kickRemote || one.kickRemote
            result.needsStateWork = result.needsStateWork || one.remoteStateChanged
            result.delivered += one.delivered
            if one.wakeSenders { result.wakeSenders.append(channel.name) }
        }
        result.needsScan = try freeSpaceChanged()
        return result
    }

    /// The remote stopped or crashed: closes and resets every channel on the host's side and returns the
    /// channels that were registered (their devices must be unregistered). A restarted remote finds its
    /// channels again; the next `scan()` does not report them twice, `stateWork()` registers them anew.
    ///
    /// - Returns: the channels to unregister, and whether the remote must be signalled.
    public func remoteStopped() -> (unregister: [SmdChannel], kickRemote: Bool) {
        var unregister = [SmdChannel]()
        for channel in channels {
            if channel.registered {
                channel.registered = false
                unregister.append(channel)
            }
            channel.close()
        }
        return (unregister, !channels.isEmpty)
    }
}

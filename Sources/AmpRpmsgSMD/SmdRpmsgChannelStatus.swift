// A snapshot of one SMD channel of a link, for `ampsoc ls` and ring views: identity (name, table, cid,
// pseudo address), geometry (layout, FIFO size, largest payload), both sides' states and the four indices
// as they are in shared memory. Values written by the remote are shown raw: they are not trusted, only shown.

import AmpSMD
import AmpWire

/// Where the host's open handshake for a channel stands.
public enum SmdRpmsgChannelPhase: String, Sendable, Hashable {
    /// Host CLOSED: the remote has not announced the channel, or it left, or a handshake failed.
    case closed
    /// Host open handshake in flight (OPENING written, or OPENED written and waiting for the remote).
    case opening
    /// Both sides OPENED; the channel is on the rpmsg bus.
    case open
}

/// One channel of an ``SmdRpmsgEdgeLink``.
public struct SmdRpmsgChannelStatus: Sendable, Hashable {
    /// Channel name from the allocation entry.
    public var name: String
    /// Allocation table (0 or 1) and channel id.
    public var table: Int
    public var cid: Int
    /// The channel's pseudo remote address (see ``SmdRpmsgAddress``).
    public var address: UInt32
    /// Info layout: byte (`smd_channel_info`) or word (`smd_channel_info_word`).
    public var layout: SmdInfoLayout
    /// Size of each of the two FIFOs.
    public var fifoSize: Int
    /// Largest payload one packet can carry on this channel.
    public var maximumPayload: Int
    /// The host's handshake phase.
    public var phase: SmdRpmsgChannelPhase
    /// The host's state (apps `tx.state`).
    public var localState: SmdChannelState
    /// The remote's state (apps `rx.state`) as read now; nil when the value is not a state (or the link broke).
    public var remoteState: SmdChannelState?
    /// apps `tx.head` / `tx.tail` and `rx.head` / `rx.tail` as stored (nil once the link broke: the host no
    /// longer reads the remote's memory).
    public var txHead: UInt32?
    public var txTail: UInt32?
    public var rxHead: UInt32?
    public var rxTail: UInt32?
    /// Device name of the rpmsg channel while the channel is on the bus.
    public var rpmsgDevice: String?

    public init(
        name: String, table: Int, cid: Int, address: UInt32, layout: SmdInfoLayout, fifoSize: Int,
        maximumPayload: Int, phase: SmdRpmsgChannelPhase, localState: SmdChannelState,
        remoteState: SmdChannelState?, txHead: UInt32?, txTail: UInt32?, rxHead: UInt32?, rxTail: UInt32?,
        rpmsgDevice: String?
    ) {
        self.name = name
        self.table = table
        self.cid = cid
        self.address = address
        self.layout = layout
        self.fifoSize = fifoSize
        self.maximumPayload = maximumPayload
        self.phase = phase
        self.localState = localState
        self.remoteState = remoteState
        self.txHead = txHead
        self.txTail = txTail
        self.rxHead = rxHead
        self.rxTail = rxTail
        self.rpmsgDevice = rpmsgDevice
    }
}

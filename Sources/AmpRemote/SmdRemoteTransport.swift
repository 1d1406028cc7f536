// The remote core's SMD edge (Qualcomm's modem/DSP side of qcom_smd), used by the rpmsg device when the
// control block says `rpmsgTransport = 1` (SMD) instead of virtio.
//
// Placement, as the host's remoteproc SMD subdevice sets it up before the firmware runs:
//   - the SMEM heap is the processor's memory region of kind smem (region record kind 2), its header already
//     written by the host (the boot loader's part);
//   - the SMEM spinlock (hardware spinlock 3) is the control block's `smemLock` word at 0x120; the host takes
//     it with token 1, this runtime with token 2;
//   - `smdEdge` (0x11C) is the edge id written into every allocation entry this side creates;
//   - both directions signal with mailbox notify id 0.
//
// Each named rpmsg endpoint is one packet channel of the same name that this side creates in allocation
// table 0 (8 KiB FIFOs, byte-wide channel info) and serves (remote open: OPENING, then OPENED once the host
// opened). SMD carries no addresses: the messages of a channel come from the host's pseudo address
// 0x4000 + table * 64 + cid (the host transport's own numbering) and replies go back on the same channel.

import AmpSMD
import AmpSystem
import AmpWire

/// Which wire protocol the remote's rpmsg device speaks (the control block's `rpmsgTransport`).
public enum RpmsgRemoteTransportKind: String, Sendable, Equatable {
    /// virtio rpmsg over the two vrings of the firmware's rpmsg vdev.
    case virtio
    /// Qualcomm SMD over channels this side creates in the smem region.
    case smd
}

/// The SMD edge of a remote core and the binding of its channels to rpmsg endpoints. Used by
/// ``RpmsgRemoteDevice`` on the message loop's thread only.
final class SmdRemoteTransport {
    /// The mailbox notify id of the SMD edge, both directions.
    static let notifyID: UInt32 = 0
    /// Spinlock owner token of the remote (the host uses 1).
    static let spinlockToken: UInt32 = 2
    /// Size of each of a channel's two FIFOs.
    static let fifoSize = 8192
    /// The allocation table channels are created in.
    static let table = 0
    /// First pseudo address of the host's side of a channel (0x4000 + table * 64 + cid).
    static let hostAddressBase: UInt32 = 0x4000
    /// How often the edge is serviced without a doorbell ring (a safety net: the host rings after each write).
    static let servicePollInterval: Duration = .milliseconds(100)

    /// The edge engine over the SMEM heap.
    let edge: SmdRemoteEdge
    /// The edge id from the control block.
    let edgeID: UInt8
    /// Largest payload of one packet on this side's channels.
    let maximumPayload: Int
    /// Whether a service pass is delivering packets (channel closes are deferred until it ends).
    var isServicing = false
    /// Channels whose close was requested during a service pass.
    var deferredCloses: [SmdChannel] = []
    private var endpointsByChannel: [ObjectIdentifier: RpmsgRemoteEndpoint] = [:]
    private var channelsByAddress: [UInt32: SmdChannel] = [:]

    private init(edge: SmdRemoteEdge, edgeID: UInt8) {
        self.edge = edge
        self.edgeID = edgeID
        let geometryLimit = Self.fifoSize - SmdPacketHeader.size - 1
        maximumPayload = geometryLimit
    }

    /// The transport the control block asks for.
    ///
    /// - Throws: `notSupported` for a value neither 0 (virtio) nor 1 (SMD).
    static func kind(of core: RemoteCore) throws(RpmsgRemoteError) -> RpmsgRemoteTransportKind {
        let value = try controlWord(core, at: ControlBlock.rpmsgTransportOffset, field: "rpmsgTransport")
        switch ControlBlock.RpmsgTransport(rawValue: value) {
        case .virtio: return .virtio
        case .smd: return .smd
        case nil:
            throw RpmsgRemoteError(.notSupported, "rpmsg: the control block's rpmsgTransport is \(value); this runtime speaks 0 (virtio) and 1 (SMD)")
        }
    }

    /// Attaches to the SMD edge the host prepared: the smem region's heap (its header checked), the edge id.
    ///
    /// - Throws: `channelUnavailable` when there is no smem region, the edge id is above 255, or the heap
    ///   header the host should have written is missing or invalid.
    static func attach(core: RemoteCore) throws(RpmsgRemoteError) -> SmdRemoteTransport {
        guard let region = core.layout.regions.first(where: { $0.kind == .smem }) else {
            throw RpmsgRemoteError(.channelUnavailable, "smd: the host published no memory region of kind smem (the SMEM heap)")
        }
        let edgeWord = try controlWord(core, at: ControlBlock.smdEdgeOffset, field: "smdEdge")
        guard let edgeID = UInt8(exactly: edgeWord) else {
            throw RpmsgRemoteError(.channelUnavailable, "smd: the control block's smdEdge \(edgeWord) is not an edge id (0...255)")
        }
        do throws(SmdError) {
            let smem = try SmemRegion(base: core.segment.base + Int(region.segmentOffset), size: Int(region.size))
            let lock = try SmemSpinlock(word: core.segment.base + ControlBlock.smemLockOffset, owner: spinlockToken)
            let heap = try SmemHeap(region: smem, lock: lock)
            try heap.validateHeader()
            return SmdRemoteTransport(edge: SmdRemoteEdge(heap: heap, edgeID: edgeID), edgeID: edgeID)
        } catch {
            throw RpmsgRemoteError(.channelUnavailable, "smd: smem region \"\(region.name)\": \(error)")
        }
    }

    /// A 32-bit control-block field (host byte order), read once.
    private static func controlWord(_ core: RemoteCore, at offset: Int, field: String) throws(RpmsgRemoteError) -> UInt32 {
        do {
            let bytes = try core.segment.read(at: offset, count: 4)
            return try ByteReader(bytes, order: .host).u32(at: 0, field: field)
        } catch {
            throw RpmsgRemoteError(.notSupported, "rpmsg: cannot read the control block's \(field): \(error)")
        }
    }

    // MARK: Channels and endpoints

    /// The host's pseudo address of `channel` (0x4000 + table * 64 + cid).
    static func hostAddress(of channel: SmdChannel) -> UInt32 {
        hostAddressBase + UInt32(channel.table * SmdConstants.entriesPerTable + channel.cid)
    }

    /// Creates (or takes over) the channel `name` and ties it to `endpoint`; not opened yet.
    ///
    /// - Throws: `invalidName` (SMD names are 1 to 19 printable ASCII characters), `addressInUse` (another
    ///   endpoint serves the name, or an entry of that name has another geometry), `channelUnavailable`
    ///   (SMEM full, spinlock timeout), or an `SmdError.protocolViolation` wrapped as `.violation`.
    func bind(_ endpoint: RpmsgRemoteEndpoint, name: String) throws(SmdBindFailure) -> SmdChannel {
        if let existing = edge.channel(named: name), endpointsByChannel[ObjectIdentifier(existing)] != nil {
            throw .refused(RpmsgRemoteError(.addressInUse, "smd: channel \"\(name)\" is already served by another endpoint"))
        }
        let channel: SmdChannel
        do {
            channel = try edge.createChannel(name: name, table: Self.table, fifoSize: Self.fifoSize, layout: .byte)
        } catch {
            switch error.code {
            case .protocolViolation: throw .violation(error)
            case .invalidArgument: throw .refused(RpmsgRemoteError(.invalidName, "smd: channel name \"\(name)\": \(error.message)"))
            case .exists: throw .refused(RpmsgRemoteError(.addressInUse, "smd: \(error)"))
            default: throw .refused(RpmsgRemoteError(.channelUnavailable, "smd: cannot create channel \"\(name)\": \(error)"))
            }
        }
        endpointsByChannel[ObjectIdentifier(channel)] = endpoint
        channelsByAddress[endpoint.address] = channel
        return channel
    }

    /// Forgets the binding of `endpoint`; returns its channel.
    func unbind(_ endpoint: RpmsgRemoteEndpoint) -> SmdChannel? {
        guard let channel = channelsByAddress.removeValue(forKey: endpoint.address) else { return nil }
        endpointsByChannel[ObjectIdentifier(channel)] = nil
        return channel
    }

    /// The channel the endpoint at `address` serves.
    func channel(forEndpoint address: UInt32) -> SmdChannel? { channelsByAddress[address] }

    /// The endpoint served by `channel`.
    func endpoint(for channel: SmdChannel) -> RpmsgRemoteEndpoint? { endpointsByChannel[ObjectIdentifier(channel)] }
}

/// Why binding an endpoint to an SMD channel failed: an error for the firmware, or a host violation.
enum SmdBindFailure: Error {
    case refused(RpmsgRemoteError)
    case violation(SmdError)
}

// Field access to a channel's info pair {tx, rx} in shared memory, from one side's point of view.
//
// The pair is named from the applications processor (the host): the host transmits with `tx` and receives
// with `rx`. The remote processor mirrors it: its own transmit structure is the apps `rx`, its receive
// structure the apps `tx`. Callers speak in local terms (`.tx` = the structure I transmit with) and this type
// maps them to the physical half for its side.
//
// Byte-layout flags are 8-bit atomics, everything else (and every field of the word layout) 32-bit atomics,
// little-endian. Indices carry ordering: head and tail are published with release stores and observed with
// acquire loads, so FIFO contents written before a head (or read before a tail) are ordered with it.

import AmpWire

/// Which processor a channel engine runs on.
public enum SmdSide: String, Sendable, Hashable, CaseIterable {
    /// The applications processor (host id 0): writes `tx.*`, reads `rx.*` of the info pair.
    case host
    /// The remote processor (modem, DSP): writes the apps `rx.*`, reads the apps `tx.*`.
    case remote

    /// The physical half (apps naming) of the structure this side uses as `local`.
    func physical(_ local: SmdInfoHalf) -> SmdInfoHalf {
        switch (self, local) {
        case (.host, let half): half
        case (.remote, .tx): .rx
        case (.remote, .rx): .tx
        }
    }
}

/// Typed access to one info pair at `offset` of `region`.
struct SmdChannelInfoMemory {
    let region: SmemRegion
    let offset: Int
    let layout: SmdInfoLayout
    let side: SmdSide

    private func base(_ local: SmdInfoHalf) -> Int { offset + layout.offset(of: side.physical(local)) }

    func state(_ local: SmdInfoHalf) -> UInt32 { region.acquire32(base(local) + layout.stateOffset) }

    func setState(_ value: UInt32, _ local: SmdInfoHalf) { region.store32(value, at: base(local) + layout.stateOffset) }

    func flag(_ flag: SmdChannelFlag, _ local: SmdInfoHalf) -> UInt32 {
        let at = base(local) + layout.offset(of: flag)
        return layout == .byte ? UInt32(region.load8(at)) : region.load32(at)
    }

    func setFlag(_ flag: SmdChannelFlag, _ local: SmdInfoHalf, _ value: Bool) {
        let at = base(local) + layout.offset(of: flag)
        if layout == .byte { region.store8(value ? 1 : 0, at: at) } else { region.store32(value ? 1 : 0, at: at) }
    }

    func head(_ local: SmdInfoHalf) -> UInt32 { region.acquire32(base(local) + layout.headOffset) }

    func publishHead(_ value: Int, _ local: SmdInfoHalf) { region.release32(UInt32(value), at: base(local) + layout.headOffset) }

    func tail(_ local: SmdInfoHalf) -> UInt32 { region.acquire32(base(local) + layout.tailOffset) }

    func publishTail(_ value: Int, _ local: SmdInfoHalf) { region.release32(UInt32(value), at: base(local) + layout.tailOffset) }
}

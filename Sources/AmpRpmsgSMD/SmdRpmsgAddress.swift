// rpmsg addresses for SMD channels. SMD channels are point-to-point and carry no addresses, but the rpmsg
// core routes by {source, destination}. Each channel of an edge therefore gets a fixed pseudo remote address:
//
//   address = 0x4000 + table * 64 + cid        (table 0 or 1, cid 0..<64: 0x4000 ... 0x407F)
//
// It is the rpmsg channel's destination, the source of every message the channel delivers, and what a host
// endpoint sends to in order to reach the channel. The range lies far above the reserved addresses (< 1024)
// and is unique per edge (one edge = one link = one bus).

import AmpWire

/// The pseudo remote addresses of SMD channels.
public enum SmdRpmsgAddress {
    /// Address of table 0, cid 0.
    public static let base: UInt32 = 0x4000

    /// The address of channel `cid` of allocation table `table`: `0x4000 + table * 64 + cid`.
    public static func address(table: Int, cid: Int) -> UInt32 {
        base + UInt32(table * SmdConstants.entriesPerTable + cid)
    }

    /// The table and cid an address stands for, or nil when it is not an SMD channel address.
    public static func channel(at address: UInt32) -> (table: Int, cid: Int)? {
        guard address >= base else { return nil }
        let index = Int(address - base)
        let perTable = SmdConstants.entriesPerTable
        guard index < SmdConstants.allocTables.count * perTable else { return nil }
        return (index / perTable, index % perTable)
    }
}

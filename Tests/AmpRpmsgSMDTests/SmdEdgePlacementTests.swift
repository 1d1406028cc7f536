// The boot loader's SMEM preparation, placement checks and the pseudo-address formula.

import AmpRpmsgSMD
import AmpSMD
import AmpSystem
import AmpWire
import Testing

@Suite("SmdEdgePlacementTests")
struct SmdEdgePlacementTests {
    @Test func prepareWritesAFreshGlobalHeapHeader() throws {
        let segment = try TestSegment.make()
        // Leftovers of an earlier run must go.
        try segment.write([0xAA, 0xAA, 0xAA, 0xAA], at: 0x200)
        try segment.write([UInt8](repeating: 0x55, count: 64), at: 0x1000 + 0x3000)
        try TestSegment.placement.prepare(in: segment)

        func word(_ offset: Int) throws -> UInt32 {
            let bytes = try segment.read(at: 0x1000 + offset, count: 4)
            return try ByteReader(bytes, order: .little).u32(at: 0, field: "smem")
        }
        #expect(try segment.read(at: 0x200, count: 4) == [0, 0, 0, 0])
        #expect(try word(0x040 + 7 * 4) == 11 << 16)  // version[7]: global heap
        #expect(try word(0x0C0) == 1)  // initialized
        #expect(try word(0x0C4) == 0x20D0)  // free_offset
        #expect(try word(0x0C8) == 0x10000 - 0x20D0)  // available
        #expect(try word(0x0CC) == 0)  // reserved
        #expect(try word(0x0D0 + 14 * 16) == 0)  // toc[14].allocated
        #expect(try segment.read(at: 0x1000 + 0x3000, count: 64) == [UInt8](repeating: 0, count: 64))
        let heap = try TestSegment.placement.hostHeap(in: segment)
        try heap.validateHeader()
        #expect(try heap.available() == 0x10000 - 0x20D0)
    }

    @Test func placementsThatDoNotFitAreRefusedNamingTheField() throws {
        let segment = try TestSegment.make()
        func field(_ placement: SmdEdgePlacement) -> String? {
            do {
                try placement.validate(in: segment)
                return nil
            } catch {
                #expect(error.code == .invalidArgument)
                return error.field
            }
        }
        #expect(field(TestSegment.placement) == nil)
        #expect(field(SmdEdgePlacement(smemOffset: 0x1004, smemSize: 0x8000, spinlockOffset: 0x200)) == "smem")
        #expect(field(SmdEdgePlacement(smemOffset: 0x1000, smemSize: 0x1000, spinlockOffset: 0x200)) == "smem")
        #expect(field(SmdEdgePlacement(smemOffset: 0x1000, smemSize: 0x10008, spinlockOffset: 0x200)) == "smem")
        #expect(field(SmdEdgePlacement(smemOffset: 0x1000, smemSize: 0x10000, spinlockOffset: 0x202)) == "spinlock")
        #expect(field(SmdEdgePlacement(smemOffset: 0x1000, smemSize: 0x10000, spinlockOffset: 0x1100)) == "spinlock")
        #expect(field(SmdEdgePlacement(smemOffset: 0x1000, smemSize: 0x10000, spinlockOffset: 0x11000)) == "spinlock")
    }

    @Test func aLinkRefusesAnUnpreparedHeap() throws {
        let segment = try TestSegment.make()
        let toRemote = try Doorbell(segment: segment, mailboxOffset: ControlBlock.mailboxToRemoteOffset, kind: .futex)
        let toHost = try Doorbell(segment: segment, mailboxOffset: ControlBlock.mailboxToHostOffset, kind: .futex)
        #expect {
            _ = try SmdRpmsgEdgeLink(
                name: "x.smd", segment: segment, placement: TestSegment.placement, edgeID: 1,
                toRemote: toRemote, toHost: toHost)
        } throws: { error in
            (error as? SmdError)?.field == "smem.initialized"
        }
    }

    @Test func pseudoAddressesAre0x4000PlusTableTimes64PlusCid() {
        #expect(SmdRpmsgAddress.address(table: 0, cid: 0) == 0x4000)
        #expect(SmdRpmsgAddress.address(table: 0, cid: 63) == 0x403F)
        #expect(SmdRpmsgAddress.address(table: 1, cid: 5) == 0x4045)
        #expect(SmdRpmsgAddress.channel(at: 0x4045)! == (1, 5))
        #expect(SmdRpmsgAddress.channel(at: 0x407F)! == (1, 63))
        #expect(SmdRpmsgAddress.channel(at: 0x4080) == nil)
        #expect(SmdRpmsgAddress.channel(at: 0x3FFF) == nil)
    }
}

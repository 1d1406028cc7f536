import AmpRpmsg
import AmpRpmsgVirtio
import AmpSystem
import AmpTestSupport
import AmpVirtio
import AmpWire
import Testing

/// A remote that breaks the protocol: every violation is counted, reported to the bus and to the owner,
/// breaks the link for good (sends fail with .noDevice), and never costs a receive buffer. Drops that are
/// not violations (unknown destination, ANY addresses) are counted and reported, and traffic goes on.
@Suite struct VirtioRpmsgHostileTests {
    /// Segment offsets of vring0's used ring (num 8, align 4096: used ring at ring offset 4096).
    static let receiveUsedIdx = 0x1000 + 4096 + 2
    static let receiveUsedRing = 0x1000 + 4096 + 4
    static let transmitUsedIdx = 0x3000 + 4096 + 2

    /// Waits for the link to break and checks what was reported, exactly.
    private func expectBroken(_ fixture: LinkFixture, detail: String) {
        #expect(eventually { fixture.link.failure != nil })
        #expect(fixture.link.failure == detail)
        #expect(fixture.failures.all == [detail])
        #expect(fixture.link.counters.violations == 1)
        #expect(fixture.bus.counters.invalidInbound == 1)
        #expect(fixture.events.events.contains(.invalidInbound(link: "test.vdev0", reason: detail)))
        do {
            try fixture.link.send(source: 1024, destination: 0x401, payload: [1], wait: .seconds(5))
            Issue.record("send on a broken link succeeded")
        } catch {
            #expect(error.code == .noDevice)
            #expect(error.message == "test.vdev0: the link broke: \(detail)")
        }
    }

    @Test func oversizeHeaderLengthBreaksTheLinkButTheBufferIsPostedAgain() throws {
        let fixture = try LinkFixture()
        defer { fixture.finish() }
        let inbox = Inbox()
        _ = try fixture.bus.createEndpoint(address: 1024, callback: inbox.callback)
        try fixture.remote.send(
            source: 0x401, destination: 1024, payload: Array(repeating: 0xAB, count: 496), headerLength: 600,
            usedLength: 512)
        expectBroken(
            fixture,
            detail: "vring0: buffer 0 (da 0x9f005000), used.len 512: rpmsg_hdr.len at offset 12 (0xc): "
                + "payload length 600 exceeds the 496 valid bytes after the header")
        #expect(inbox.count == 0)
        // Linux leaks the buffer here; the link posted it again: 7 untouched plus the returned one.
        #expect(fixture.link.postedReceiveBuffers == 8)
        let posted = try fixture.remote.takeAllPosted()
        #expect(posted.count == 8)
        #expect(posted.last?.head == 0)
        #expect(posted.last?.address == 0x9F00_5000)
    }

    @Test func usedLengthShorterThanAHeaderIsAViolation() throws {
        let fixture = try LinkFixture()
        defer { fixture.finish() }
        try fixture.remote.send(source: 0x401, destination: 1024, payload: [1, 2], usedLength: 8)
        expectBroken(
            fixture,
            detail: "vring0: buffer 0 (da 0x9f005000), used.len 8: rpmsg_hdr at offset 0 (0x0): needs 16 bytes but only 8 are valid")
        #expect(fixture.link.postedReceiveBuffers == 8)
    }

    @Test func usedIdOutOfRangeIsAViolation() throws {
        let fixture = try LinkFixture()
        defer { fixture.finish() }
        let base = fixture.segment.base
        base.storeBytes(of: UInt32(99), toByteOffset: Self.receiveUsedRing, as: UInt32.self)
        base.storeBytes(of: UInt32(16), toByteOffset: Self.receiveUsedRing + 4, as: UInt32.self)
        base.storeBytes(of: UInt16(1), toByteOffset: Self.receiveUsedIdx, as: UInt16.self)
        try fixture.remote.toHost.ring(notifyID: 0)
        expectBroken(fixture, detail: "vring0: used.ring[0].id = 99: not below num 8")
        #expect(fixture.link.postedReceiveBuffers == 8)
    }

    @Test func usedLengthBeyondTheBufferIsAViolation() throws {
        let fixture = try LinkFixture()
        defer { fixture.finish() }
        let base = fixture.segment.base
        base.storeBytes(of: UInt32(0), toByteOffset: Self.receiveUsedRing, as: UInt32.self)
        base.storeBytes(of: UInt32(513), toByteOffset: Self.receiveUsedRing + 4, as: UInt32.self)
        base.storeBytes(of: UInt16(1), toByteOffset: Self.receiveUsedIdx, as: UInt16.self)
        try fixture.remote.toHost.ring(notifyID: 0)
        expectBroken(fixture, detail: "vring0: used.ring[0].len = 513: exceeds the 512 bytes posted in descriptor 0")
    }

    @Test func transmitUsedIndexJumpIsAViolation() throws {
        let fixture = try LinkFixture()
        defer { fixture.finish() }
        fixture.segment.base.storeBytes(of: UInt16(5), toByteOffset: Self.transmitUsedIdx, as: UInt16.self)
        try fixture.remote.toHost.ring(notifyID: 1)
        expectBroken(
            fixture,
            detail: "vring1: used.idx = 5: jumps 5 entries past the last consumed index 0, but only 0 buffers are in flight")
    }

    @Test func messageForAnUnknownAddressIsCountedAndReported() throws {
        let fixture = try LinkFixture()
        defer { fixture.finish() }
        let inbox = Inbox()
        _ = try fixture.bus.createEndpoint(address: 1024, callback: inbox.callback)
        try fixture.remote.send(source: 0x401, destination: 2000, payload: Array("lost".utf8))
        try fixture.remote.send(source: 0x401, destination: 1024, payload: Array("kept".utf8))
        #expect(eventually { inbox.count == 1 })
        #expect(fixture.bus.counters.droppedNoRecipient == 1)
        #expect(fixture.events.events.contains(
            .droppedNoRecipient(link: "test.vdev0", source: 0x401, destination: 2000, length: 4)))
        #expect(fixture.link.failure == nil)
        #expect(fixture.link.postedReceiveBuffers == 8)
    }

    @Test func anyAddressIsRejectedWithoutBreakingTheLink() throws {
        let fixture = try LinkFixture()
        defer { fixture.finish() }
        let inbox = Inbox()
        _ = try fixture.bus.createEndpoint(address: 1024, callback: inbox.callback)
        try fixture.remote.send(source: RpmsgConstants.addressAny, destination: 1024, payload: [1])
        try fixture.remote.send(source: 0x401, destination: 1024, payload: [2])
        #expect(eventually { inbox.count == 1 })
        #expect(inbox.all.map(\.payload) == [[2]])
        #expect(fixture.link.counters.rejected == 1)
        #expect(fixture.bus.counters.invalidInbound == 1)
        #expect(fixture.events.events.contains(.invalidInbound(
            link: "test.vdev0", reason: "vring0: buffer 0: message 0xffffffff -> 0x400 names address ANY; dropped")))
        #expect(fixture.link.failure == nil)
    }
}

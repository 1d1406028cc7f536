// Channels going away and coming back, a handshake the remote does not finish, a remote that crashes and
// one that writes garbage into SMD structures.

import AmpRpmsg
import AmpRpmsgSMD
import AmpSMD
import AmpSystem
import AmpTestSupport
import AmpWire
import Foundation
import Synchronization
import Testing

@Suite("SmdRpmsgLifecycleTests")
struct SmdRpmsgLifecycleTests {
    @Test func remoteClosingTheChannelRemovesTheDriverAndReopeningProbesAgain() throws {
        let driver = RecordingDriver(serving: ["ctl"])
        let fixture = try SmdLinkFixture(drivers: [driver])
        defer { fixture.finish() }
        try fixture.remote.announce("ctl", cid: 1, fifoSize: 256)
        #expect(eventually { driver.probes.count == 1 })
        let first = try #require(driver.channel)

        try fixture.remote.perform { edge in
            try #require(edge.channel(named: "ctl")).remoteClose()
            try fixture.remote.toHost.ring(notifyID: 0)
        }
        #expect(eventually { driver.removes == ["ctl"] })
        #expect(first.isDestroyed)
        #expect(fixture.bus.channels.isEmpty)
        let closed = try fixture.status("ctl")
        #expect(closed.phase == .closed)
        #expect(closed.localState == .closed)
        #expect(closed.remoteState == .closed)
        #expect(closed.rpmsgDevice == nil)
        #expect(thrownCode { try fixture.link.send(source: 1024, destination: 0x4001, payload: [1], wait: nil) } == .brokenPipe)
        #expect(thrownCode { try fixture.link.send(source: 1024, destination: 0x4030, payload: [1], wait: nil) } == .noDevice)
        #expect(thrownCode { try first.send([1]) } == .noDevice)

        try fixture.remote.perform { edge in
            try #require(edge.channel(named: "ctl")).remoteOpen()
            try fixture.remote.toHost.ring(notifyID: 0)
        }
        #expect(eventually { driver.probes.count == 2 })
        let second = try #require(driver.channel)
        #expect(second !== first)
        try second.send(Array("again".utf8))
        #expect(eventually { fixture.remote.received("ctl") == [Array("again".utf8)] })
        let counters = fixture.link.counters
        #expect(counters.channelsOpened == 2)
        #expect(counters.channelsClosed == 1)
        #expect(counters.handshakeTimeouts == 0)
    }

    @Test func aHandshakeTheRemoteDoesNotFinishTimesOutAndIsRetried() throws {
        let driver = RecordingDriver(serving: ["late"])
        let fixture = try SmdLinkFixture(drivers: [driver])
        defer { fixture.finish() }
        // The remote announces the channel, then stops answering: the host writes OPENING then OPENED and
        // waits 1 s for the remote's OPENED.
        fixture.remote.paused.store(true, ordering: .releasing)
        try fixture.remote.announce("late", fifoSize: 64)
        #expect(eventually { fixture.link.counters.handshakeTimeouts == 1 })
        let failed = try fixture.status("late")
        #expect(failed.phase == .closed)
        #expect(failed.localState == .closed)
        #expect(failed.remoteState == .opening)
        #expect(driver.probes.isEmpty)
        #expect(fixture.bus.channels.isEmpty)
        // The failure is reported after the pass that counted it, outside the link's lock: wait for it too.
        #expect(eventually {
            fixture.events.events.contains { event in
                if case .probeFailed(_, "test.smd.late", let error) = event { return error.code == .timedOut }
                return false
            }
        })

        // The remote answers again, still OPENING: the host tries again after its back-off and succeeds.
        fixture.remote.paused.store(false, ordering: .releasing)
        #expect(eventually { driver.probes == ["late"] })
        #expect(try fixture.status("late").phase == .open)
        let counters = fixture.link.counters
        #expect(counters.channelsOpened == 1)
        #expect(counters.handshakeTimeouts == 1)
    }

    @Test func aCrashedRemoteLeavesNoChannelNoEndpointAndNoThread() throws {
        let driver = RecordingDriver(serving: ["one", "two"])
        let fixture = try SmdLinkFixture(drivers: [driver])
        try fixture.remote.announce("one", cid: 0)
        try fixture.remote.announce("two", table: 1, cid: 0)
        #expect(eventually { driver.probes.count == 2 })
        let endpoint = try fixture.bus.createEndpoint(destination: 0x4040) { _, _, _ in }

        // The remote stops dead: nothing is closed on its side.
        fixture.remote.stop()
        fixture.link.close()
        #expect(fixture.thread.stop())
        #expect(!fixture.thread.isRunning)
        fixture.link.shutDown()
        #expect(Set(driver.removes) == ["one", "two"])
        #expect(fixture.bus.channels.isEmpty)
        #expect(!fixture.bus.isUp)
        #expect(endpoint.isDestroyed)
        #expect(fixture.link.bus == nil)
        #expect(thrownCode { try fixture.link.send(source: 1024, destination: 0x4000, payload: [1], wait: nil) } == .noDevice)
        #expect(fixture.link.channelStatus.allSatisfy { $0.phase == .closed && $0.localState == .closed })
        #expect(fixture.events.events.contains(.linkDown(link: "test.smd")))
        #expect(fixture.fatal.all.isEmpty)
        fixture.finish()  // idempotent
    }

    /// Garbage a hostile remote writes, and the field the host must name.
    enum Garbage: String, CaseIterable, Sendable {
        case receiveHead, remoteState, packetLength, allocationEntry

        var field: String {
            switch self {
            case .receiveHead: "rx.head"
            case .remoteState: "rx.state"
            case .packetLength: "packet.length"
            case .allocationEntry: "smd_alloc_tbl[0][7].cid"
            }
        }
    }

    @Test(arguments: Garbage.allCases)
    func garbageFromTheRemoteIsFatalForTheLinkOnly(_ garbage: Garbage) throws {
        let driver = RecordingDriver(serving: ["victim"])
        let fixture = try SmdLinkFixture(drivers: [driver])
        defer { fixture.finish() }
        try fixture.remote.announce("victim", cid: 3, fifoSize: 128)
        #expect(eventually { driver.channel != nil })
        let channel = try #require(driver.channel)
        let remote = fixture.remote
        remote.paused.store(true, ordering: .releasing)

        switch garbage {
        case .receiveHead:
            try remote.scribble(0xFFFF_FFF0, at: remote.infoOffset("victim", half: .rx) { $0.headOffset })
        case .remoteState:
            try remote.scribble(9, at: remote.infoOffset("victim", half: .rx) { $0.stateOffset })
        case .packetLength:
            // A header claiming 1 GiB at the start of apps' receive FIFO, then head moved past it.
            let fifo = try remote.perform { edge in try edge.heap.item(SmdConstants.allocTables[0].fifoItem(cid: 3)) }
            try remote.scribble(0x4000_0000, at: fifo.offset + 128)
            try remote.scribble(20, at: remote.infoOffset("victim", half: .rx) { $0.headOffset })
        case .allocationEntry:
            try remote.perform { edge in
                let table = try edge.heap.item(SmdConstants.allocTables[0].allocItem)
                let entry = SmdAllocEntry(nameBytes: Array("evil".utf8), cid: 99, flags: SmdAllocFlags(edgeID: 3), refCount: 1)
                let bytes = entry.serialized()
                bytes.withUnsafeBytes { (edge.heap.region.base + table.offset + 7 * 32).copyMemory(from: $0.baseAddress!, byteCount: 32) }
                // An allocation changes SMEM free space: the host scans again.
                try edge.heap.allocate(item: 400, size: 8)
                try remote.toHost.ring(notifyID: 0)
            }
        }

        #expect(eventually { fixture.fatal.all.count == 1 })
        let detail = try #require(fixture.fatal.all.first)
        #expect(detail.contains(garbage.field), "\(detail)")
        #expect(fixture.link.failure == detail)
        #expect(fixture.link.counters.violations == 1)
        #expect(fixture.bus.counters.invalidInbound == 1)
        #expect(thrownCode { try channel.send([1, 2, 3, 4]) } == .noDevice)
        // The host keeps running and does not report the same remote twice.
        try remote.toHost.ring(notifyID: 0)
        usleep(50_000)
        #expect(fixture.thread.isRunning)
        #expect(fixture.fatal.all.count == 1)
        #expect(fixture.link.channelStatus.allSatisfy { $0.txHead == nil && $0.rxHead == nil })
        #expect(driver.removes.isEmpty)
        fixture.finish()
        #expect(driver.removes == ["victim"])
    }
}

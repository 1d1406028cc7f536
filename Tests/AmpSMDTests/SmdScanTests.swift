// Channel discovery by the host: both tables, the skip rules of Linux's scan, layouts picked by item size,
// channels created by the remote, and the state worker's register/unregister rules.

import Testing

import AmpSMD
import AmpWire

@Suite("SmdScanTests")
struct SmdScanTests {
    @Test func remoteCreatesItemsAndEntry() throws {
        let pair = try EdgePair(edgeID: 15)
        let channel = try pair.remote.createChannel(name: "rpm_requests", table: 1, cid: 3, fifoSize: 1024, layout: .word)
        #expect(channel.cid == 3 && channel.table == 1 && channel.entryIndex == 3)
        let heap = pair.memory.hostHeap
        let table = try heap.item(266)
        #expect(table.size == 2048)
        #expect(try heap.item(138 + 3).size == 88)
        #expect(try heap.item(202 + 3).size == 2048)
        let entry = pair.memory.bytes(at: table.offset + 3 * 32, count: 32)
        #expect(entry == (try SmdAllocEntry(name: "rpm_requests", cid: 3, flags: SmdAllocFlags(edgeID: 15), refCount: 1)).serialized())
        #expect(throws: SmdError.self) { try pair.remote.createChannel(name: "other", table: 1, cid: 3, fifoSize: 64, layout: .byte) }
        #expect(throws: SmdError.self) { try pair.remote.createChannel(name: "", fifoSize: 64, layout: .byte) }
        #expect(throws: SmdError.self) { try pair.remote.createChannel(name: "x", table: 2, fifoSize: 64, layout: .byte) }
        #expect(throws: SmdError.self) { try pair.remote.createChannel(name: "x", fifoSize: 100, layout: .byte) }
        // Same name again: the existing channel.
        #expect(try pair.remote.createChannel(name: "rpm_requests", table: 1, fifoSize: 1024, layout: .word) === channel)
    }

    @Test func scanFindsBothTablesOnceAndPicksLayouts() throws {
        let pair = try EdgePair()
        _ = try pair.remote.createChannel(name: "a", table: 0, fifoSize: 64, layout: .byte)
        _ = try pair.remote.createChannel(name: "b", table: 1, fifoSize: 128, layout: .word)
        #expect(try pair.host.freeSpaceChanged())
        let found = try pair.host.scan()
        #expect(found.map(\.name) == ["a", "b"])
        #expect(found.map(\.layout) == [.byte, .word])
        #expect(found.map(\.geometry.size) == [64, 128])
        #expect(found.map(\.side) == [.host, .host])
        #expect(try !pair.host.freeSpaceChanged())
        #expect(try pair.host.scan().isEmpty, "already-seen entries are skipped")
        _ = try pair.remote.createChannel(name: "c", fifoSize: 64, layout: .byte)
        #expect(try pair.host.freeSpaceChanged())
        #expect(try pair.host.scan().map(\.name) == ["c"])
        #expect(pair.host.channel(named: "b")?.cid == 0)
        #expect(pair.host.channels.count == 3)
    }

    @Test func scanSkipsEntriesLinuxSkips() throws {
        let pair = try EdgePair(edgeID: 1)
        let heap = pair.memory.remoteHeap
        let table = try heap.allocate(item: 13, size: 2048)
        func place(_ entry: SmdAllocEntry, at index: Int) throws {
            _ = try heap.allocate(item: 14 + index, size: 40)
            _ = try heap.allocate(item: 338 + index, size: 128)
            pair.memory.store(entry.serialized(), at: table.offset + index * 32)
        }
        try place(SmdAllocEntry(nameBytes: Array("refzero".utf8), cid: 0, flags: SmdAllocFlags(edgeID: 1), refCount: 0), at: 0)
        try place(SmdAllocEntry(nameBytes: [], cid: 1, flags: SmdAllocFlags(edgeID: 1), refCount: 1), at: 1)
        try place(SmdAllocEntry(nameBytes: Array("stream".utf8), cid: 2, flags: SmdAllocFlags(edgeID: 1, packet: false, stream: true), refCount: 1), at: 2)
        try place(SmdAllocEntry(nameBytes: Array("otheredge".utf8), cid: 3, flags: SmdAllocFlags(edgeID: 2), refCount: 1), at: 3)
        try place(SmdAllocEntry(nameBytes: Array("good".utf8), cid: 4, flags: SmdAllocFlags(edgeID: 1), refCount: 7), at: 4)
        let found = try pair.host.scan()
        #expect(found.map(\.name) == ["good"])
        #expect(found.first?.entryIndex == 4 && found.first?.cid == 4)
    }

    @Test func scanWithoutTablesFindsNothing() throws {
        let pair = try EdgePair()
        #expect(try pair.host.scan().isEmpty)
    }

    @Test func stateWorkRegistersAndUnregisters() throws {
        let pair = try EdgePair()
        let (host, remote) = try pair.openChannel(name: "svc", fifoSize: 64)
        // Open on both sides: nothing to do (the channel was opened without registration in this test).
        #expect(try pair.host.stateWork().isEmpty)
        // The remote leaves: unregister.
        remote.remoteClose()
        var events = try pair.host.stateWork()
        guard events.count == 1, case .unregister(let gone) = events[0] else {
            Issue.record("expected an unregistration, got \(events)")
            return
        }
        #expect(gone === host && !pair.host.isRegistered(host))
        host.close()
        // The remote comes back: register once.
        remote.remoteOpen()
        events = try pair.host.stateWork()
        guard events.count == 1, case .register(let back) = events[0] else {
            Issue.record("expected a registration, got \(events)")
            return
        }
        #expect(back === host && pair.host.isRegistered(host))
        #expect(try pair.host.stateWork().isEmpty)
    }

    @Test func remoteStoppedResetsEverything() throws {
        let pair = try EdgePair()
        let (host, _) = try pair.openChannel(name: "crashy", fifoSize: 64)
        _ = try pair.host.stateWork()
        let stopped = pair.host.remoteStopped()
        #expect(stopped.unregister.isEmpty && stopped.kickRemote)
        #expect(host.state == .closed && host.infoSnapshot().tx.state == 0)
    }

    @Test func edgeInterruptReportsScanAndStateWork() throws {
        let pair = try EdgePair()
        _ = try pair.remote.createChannel(name: "one", fifoSize: 64, layout: .byte)
        _ = try pair.host.scan()
        let remoteChannel = try #require(pair.remote.channel(named: "one"))
        remoteChannel.remoteOpen()
        var result = try pair.serviceHost()
        #expect(result.needsStateWork && !result.needsScan)
        _ = try pair.remote.createChannel(name: "two", fifoSize: 64, layout: .byte)
        result = try pair.serviceHost()
        #expect(result.needsScan && !result.needsStateWork)
    }
}

// Host-side and remote-side engines on the same memory: the open handshake, data both ways with wrap-around
// and the bounce buffer, back-pressure, close, reset and reopen, for both channel-info layouts.

import Testing

import AmpSMD
import AmpWire

@Suite("SmdChannelTests")
struct SmdChannelTests {
    @Test(arguments: SmdInfoLayout.allCases)
    func openHandshakeWritesTheExpectedInfo(layout: SmdInfoLayout) throws {
        let pair = try EdgePair()
        let remote = try pair.remote.createChannel(name: "DATA5", fifoSize: 256, layout: layout)
        #expect(remote.state == .closed)
        #expect(remote.remoteOpen())
        #expect(remote.state == .opening)
        let host = try #require(try pair.host.scan().first)
        #expect(host.layout == layout && host.geometry.size == 256 && host.name == "DATA5")
        // Apps rx = the remote's transmit half: OPENING with fSTATE set; apps tx = the host's reset half.
        var info = host.infoSnapshot()
        #expect(info.rx.state == SmdChannelState.opening.rawValue)
        #expect(info.rx[.state] == 1)
        #expect(info.tx.state == SmdChannelState.closed.rawValue)
        #expect(info.tx[.state] == 1 && info.tx[.blockReadInterrupt] == 1)

        let now = ContinuousClock.now
        #expect(try host.beginOpen(now: now))
        #expect(host.state == .opening && host.openDeadline == now.advanced(by: .seconds(1)))
        #expect(throws: SmdError(.busy, channel: "DATA5", "cannot open: channel is OPENING")) { try host.beginOpen(now: now) }
        // Remote is OPENING: the host writes OPENED and waits for the remote's OPENED.
        #expect(try host.continueOpen(now: now) == SmdOpenStep(isOpen: false, kickRemote: true))
        #expect(host.state == .opened)
        info = host.infoSnapshot()
        #expect(info.tx.state == 2)
        #expect([info.tx[.dsr], info.tx[.cts], info.tx[.cd], info.tx[.ri]] == [1, 1, 1, 0])
        #expect(try pair.serviceRemote().events == [SmdRemoteChannelEvent(channel: "DATA5", event: .opened)])
        #expect(remote.state == .opened)
        #expect(try host.continueOpen(now: now) == SmdOpenStep(isOpen: true, kickRemote: false))
        info = host.infoSnapshot()
        #expect(info.rx.state == 2 && info.rx[.dsr] == 1 && info.rx[.cts] == 1 && info.rx[.cd] == 1)
        // The remote's interrupt acknowledged the host's state change: apps tx.fSTATE cleared.
        #expect(info.tx[.state] == 0)
    }

    @Test(arguments: SmdInfoLayout.allCases)
    func dataBothWaysWithWrapAndBounce(layout: SmdInfoLayout) throws {
        let pair = try EdgePair()
        let (host, remote) = try pair.openChannel(name: "loop", fifoSize: 128, layout: layout)
        var sentToRemote = [[UInt8]]()
        var sentToHost = [[UInt8]]()
        // 20 rounds of 36..96-byte packets around a 128-byte ring: every position of the wrap is crossed.
        for round in 0..<20 {
            let size = 36 + (round * 12) % 64
            let toRemote = pattern(size, start: UInt8(round))
            let toHost = pattern(size, start: UInt8(100 + round))
            #expect(try host.send(toRemote) == .sent)
            #expect(try remote.send(toHost) == .sent)
            sentToRemote.append(toRemote)
            sentToHost.append(toHost)
            try pair.serviceRemote()
            try pair.serviceHost()
        }
        #expect(pair.remoteReceived["loop"] == sentToRemote)
        #expect(pair.hostReceived["loop"] == sentToHost)
        #expect(host.bounceBufferSize == 128)
        // Word channels bounce every packet through 32-bit reads; both sides kept in step.
        #expect(try host.readableBytes() == 0 && remote.readableBytes() == 0)
        #expect(try host.writableBytes() == 127)
    }

    @Test func wordChannelsRejectUnalignedPayloads() throws {
        let pair = try EdgePair()
        let (host, _) = try pair.openChannel(name: "words", fifoSize: 64, layout: .word)
        #expect(throws: SmdError(.invalidArgument, channel: "words", field: "packet.length", "payload of 6 bytes is not a multiple of 4 on a word channel")) {
            try host.send(pattern(6))
        }
        #expect(host.maximumPayload == 40)
        #expect(try host.send(pattern(40)) == .sent)
    }

    @Test func packetsTooLargeAndClosedChannels() throws {
        let pair = try EdgePair()
        let (host, remote) = try pair.openChannel(name: "big", fifoSize: 256)
        #expect(throws: SmdError(.invalidArgument, channel: "big", field: "packet.length", "packet of 20 + 236 bytes does not fit the 256-byte FIFO")) {
            try host.send(pattern(236))
        }
        #expect(try host.send(pattern(235)) == .sent)
        try pair.serviceRemote()
        #expect(pair.remoteReceived["big"]?.first?.count == 235)
        remote.remoteClose()
        #expect(throws: SmdError(.notOpen, channel: "big", "cannot send: channel is CLOSED")) { try remote.send([1]) }
    }

    @Test func backPressureWhenTheReceiverRefuses() throws {
        let pair = try EdgePair()
        let (host, remote) = try pair.openChannel(name: "slow", fifoSize: 128)
        pair.remoteAccepts = false
        #expect(try host.send(pattern(40)) == .sent)
        #expect(try host.send(pattern(40, start: 50)) == .sent)
        let refused = try remote.handleInterrupt { _ in false }
        #expect(refused.refused && refused.delivered == 0)
        // The refused packet stays: its header was consumed, its payload was not.
        #expect(try remote.readableBytes() == 100)
        // The FIFO has 127 - 120 = 7 bytes: the next send would block and asks for a wakeup.
        #expect(try host.send(pattern(10)) == .wouldBlock)
        #expect(host.infoSnapshot().tx[.blockReadInterrupt] == 0)
        pair.remoteAccepts = true
        let drained = try remote.handleInterrupt { _ in true }
        #expect(drained.delivered == 2)
        #expect(drained.kickRemote, "the host asked to be told about the freed space")
        let woken = try host.handleInterrupt { _ in true }
        #expect(woken.wakeSenders)
        #expect(try host.send(pattern(10)) == .sent)
        #expect(host.infoSnapshot().tx[.blockReadInterrupt] == 1)
        // trysend never asks for a wakeup.
        for _ in 0..<3 { _ = try host.send(pattern(30), requestWakeup: false) }
        #expect(try host.send(pattern(30), requestWakeup: false) == .wouldBlock)
        #expect(host.infoSnapshot().tx[.blockReadInterrupt] == 1)
    }

    @Test func nothingIsConsumedBeforeOpen() throws {
        let pair = try EdgePair()
        let remote = try pair.remote.createChannel(name: "early", fifoSize: 128, layout: .byte)
        remote.remoteOpen()
        let host = try #require(try pair.host.scan().first)
        // Neither side is OPENED: sends fail and interrupts consume nothing.
        #expect(throws: SmdError.self) { try remote.send([1, 2, 3]) }
        let result = try host.handleInterrupt { _ in Issue.record("delivered before open"); return true }
        #expect(result.delivered == 0 && result.remoteStateChanged)
    }

    @Test(arguments: SmdInfoLayout.allCases)
    func closeResetAndReopen(layout: SmdInfoLayout) throws {
        let pair = try EdgePair()
        let (host, remote) = try pair.openChannel(name: "cycle", fifoSize: 128, layout: layout)
        #expect(try host.send(pattern(24)) == .sent)
        try pair.serviceRemote()

        // The host closes: CLOSED, tx flags 0 but fSTATE and fBLOCKREADINTR, tx.head and rx.tail 0.
        #expect(host.close())
        let info = host.infoSnapshot()
        #expect(info.tx.state == 0 && info.tx.head == 0 && info.rx.tail == 0)
        #expect(SmdChannelFlag.allCases.map { info.tx[$0] } == [0, 0, 0, 0, 0, 0, 1, 1])
        // The remote sees the host leave, resets its half and announces the channel again.
        #expect(try pair.serviceRemote().events == [SmdRemoteChannelEvent(channel: "cycle", event: .hostLeft)])
        #expect(remote.state == .opening)
        let after = host.infoSnapshot()
        #expect(after.rx.head == 0 && after.tx.tail == 0)
        // State work: host CLOSED and remote OPENING: the channel gets registered (once).
        let events = try pair.host.stateWork()
        guard events.count == 1, case .register(let registered) = events[0] else {
            Issue.record("expected one registration, got \(events)")
            return
        }
        #expect(registered === host && pair.host.isRegistered(host))
        #expect(try pair.host.stateWork().isEmpty)
        try pair.handshake(host)
        #expect(host.state == .opened && remote.state == .opened)
        #expect(try remote.send(pattern(48)) == .sent)
        try pair.serviceHost()
        #expect(pair.hostReceived["cycle"] == [pattern(48)])
    }

    @Test func openTimesOutInEachStage() throws {
        let pair = try EdgePair()
        let remote = try pair.remote.createChannel(name: "mute", fifoSize: 64, layout: .byte)
        let host = try #require(try pair.host.scan().first)
        let start = ContinuousClock.now
        try host.beginOpen(now: start)
        #expect(try host.continueOpen(now: start.advanced(by: .milliseconds(999))).isOpen == false)
        #expect(throws: SmdError(.timedOut, channel: "mute", "remote side did not enter opening state")) {
            try host.continueOpen(now: start.advanced(by: .seconds(1)))
        }
        #expect(host.state == .closed && host.infoSnapshot().tx.state == 0)

        // Stage two: the remote says OPENING but never OPENED.
        remote.remoteOpen()
        try host.beginOpen(now: start)
        #expect(try host.continueOpen(now: start) == SmdOpenStep(isOpen: false, kickRemote: true))
        #expect(host.openDeadline == start.advanced(by: .seconds(1)))
        #expect(throws: SmdError(.timedOut, channel: "mute", "remote side did not enter open state")) {
            try host.continueOpen(now: start.advanced(by: .seconds(2)))
        }
        #expect(host.state == .closed)
        #expect(throws: SmdError.self) { try host.continueOpen(now: start) }
    }

    @Test func bounceBufferGrowsForLargeWrappedPackets() throws {
        let pair = try EdgePair()
        let (host, remote) = try pair.openChannel(name: "large", fifoSize: 8192)
        #expect(remote.bounceBufferSize == 4096)
        // Push the indices near the end, then send a 6000-byte packet that wraps.
        #expect(try host.send(pattern(7000)) == .sent)
        try pair.serviceRemote()
        let big = pattern(6000, start: 7)
        #expect(try host.send(big) == .sent)
        try pair.serviceRemote()
        #expect(pair.remoteReceived["large"]?.last == big)
        #expect(remote.bounceBufferSize == 6000)
    }
}

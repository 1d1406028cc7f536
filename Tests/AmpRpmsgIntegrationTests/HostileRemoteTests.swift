import AmpRemoteproc
import AmpRpmsg
import AmpRpmsgVirtio
import Testing

/// A hostile remote next to a healthy one: ampsoc-fw-hostile on the ipu writes garbage into its rings while
/// the host keeps exchanging echoes with ampsoc-fw-echo on the dsp (before, during and after). The host is the
/// test process itself: it must keep running, its main loop must keep turning, the hostile remote must be
/// reported crashed (or, for garbage in fields the host never reads, left alone) and the echo traffic must
/// not lose a message or a buffer.
///
/// What the host never reads cannot hurt it: it keeps a private shadow of every descriptor and of its own
/// avail index (VirtqueueDriver), so scribbled descriptors, descriptor chains (looping or not: the host posts
/// single descriptors and never follows `next`) and a jumped avail.idx only mislead the remote itself.
@Suite(.serialized) struct HostileRemoteTests {
    /// A violation the host must catch: the firmware's --mode, what the firmware traces having written, and
    /// the link failure the host records (queue, field and value).
    struct Violation: Sendable, CustomTestStringConvertible {
        let mode: String
        let written: String
        let detail: String
        var testDescription: String { mode }
    }

    static let violations = [
        Violation(
            mode: "used-idx-jump", written: "used.idx 1 -> 301",
            detail: "vring0: used.idx = 301: jumps 300 entries past the last consumed index 1, but only 256 buffers are in flight"),
        Violation(
            mode: "used-id-range", written: "used.ring[1] = {id 261, len 16}",
            detail: "vring0: used.ring[1].id = 261: not below num 256"),
        // "An address outside the pool": a used element naming a descriptor (hence a buffer) the host never
        // posted. vring0 has every descriptor posted all the time, so it is written on vring1.
        Violation(
            mode: "used-id-unposted", written: "vring1 used.ring[0] = {id 255, len 0}",
            detail: "vring1: used.ring[0].id = 255: descriptor 255 is not outstanding (never posted or already returned)"),
        Violation(
            mode: "used-len", written: "used.ring[1] = {id 1, len 4096}",
            detail: "vring0: used.ring[1].len = 4096: exceeds the 512 bytes posted in descriptor 1"),
        Violation(
            mode: "header-len", written: "desc[1] returned with len 24 and rpmsg_hdr.len 1000",
            detail: "vring0: buffer 1 (da 0x6200), used.len 24: rpmsg_hdr.len at offset 12 (0xc): payload length 1000 "
                + "exceeds the 8 valid bytes after the header"),
    ]

    @Test(arguments: violations)
    func ringViolationCrashesTheHostileRemoteWhileEchoesFlow(_ violation: Violation) throws {
        let scenario = try HostileRemoteScenario(mode: violation.mode, recovery: false, label: "hcrash")
        defer { scenario.topology.finish() }
        try scenario.boot()
        let ipu = try scenario.ipu
        let healthy = try HealthyRemote(scenario)
        let hostileLink = try #require(ipu.rpmsgLinks.first)
        let hostilePid = try #require(ipu.pid)

        // Before: echoes flow. Then the host greets the hostile remote, which starts its 300 ms timer.
        try scenario.startTraffic()
        let stream = try #require(scenario.stream)
        let pingPong = scenario.pingPong
        #expect(try scenario.drive(until: { stream.received.count >= 20 && pingPong.totalEchoes >= 20 }))
        let (probe, hostile) = try scenario.hostileEndpoint { _, _, _ in }
        try probe.sendTo(hostile, Array("hello hostile".utf8))
        #expect(try scenario.drive(until: {
            scenario.trace(of: "ipu").contains("ampsoc-fw-hostile: received 13 bytes from 0x\(String(probe.address, radix: 16))")
        }))
        let echoesAtGreeting = pingPong.totalEchoes

        // During: the violation is caught while the echoes keep coming.
        #expect(try scenario.drive(until: { ipu.state == .crashed }))
        let ticksAtCrash = scenario.ticks
        let echoesAtCrash = pingPong.totalEchoes
        let streamAtCrash = stream.received.count
        #expect(echoesAtCrash > echoesAtGreeting)

        // After: the host's main loop still turns and the echoes go on.
        #expect(try scenario.drive(until: {
            pingPong.totalEchoes >= echoesAtCrash + 20 && stream.received.count >= streamAtCrash + 20
        }))
        #expect(scenario.ticks > ticksAtCrash)
        try scenario.drainTraffic()

        // The hostile remote: reported crashed (a fatal error naming queue, field and value), halted, its
        // channel gone; nothing restarted it.
        #expect(scenario.trace(of: "ipu").contains("ampsoc-fw-hostile: \(violation.mode): \(violation.written)"))
        #expect(scenario.crashes(of: "ipu") == ["fatal error: rpmsg protocol violation: ipu.vdev0: \(violation.detail)"])
        #expect(scenario.topology.has(.error(rproc: "ipu", message: "ipu.vdev0: invalid inbound message: \(violation.detail)")))
        #expect(hostileLink.failure == violation.detail)
        #expect(hostileLink.counters.violations == 1)
        #expect(ipu.state == .crashed)
        #expect(ipu.crashCount == 1)
        #expect(!RpmsgTopology.processExists(hostilePid))
        #expect(ipu.rpmsgBuses.isEmpty)
        #expect(scenario.topology.channelEvents(of: "ipu").map(\.action) == [.create, .destroy])
        let refused = #expect(throws: RpmsgError.self) { try probe.sendTo(hostile, Array("anyone?".utf8)) }
        #expect(refused?.code == .noDevice)

        try healthy.expectUndisturbed(scenario)
    }

    /// Garbage in fields the host never reads: the firmware's --mode and what it traces having written.
    struct Ignored: Sendable, CustomTestStringConvertible {
        let mode: String
        let written: String
        var testDescription: String { mode }
    }

    static let ignored = [
        Ignored(mode: "desc-scribble", written: "all 256 descriptors scribbled"),
        Ignored(mode: "desc-loop", written: "all 256 descriptors chained in a loop, desc[1] returned with 29 bytes"),
        Ignored(mode: "avail-idx-jump", written: "vring0 avail.idx 257 -> 557, vring1 avail.idx 1 -> 301"),
    ]

    @Test(arguments: ignored)
    func garbageTheHostNeverReadsChangesNothing(_ garbage: Ignored) throws {
        let scenario = try HostileRemoteScenario(mode: garbage.mode, recovery: false, label: "hignore")
        defer { scenario.topology.finish() }
        try scenario.boot()
        let ipu = try scenario.ipu
        let healthy = try HealthyRemote(scenario)
        let hostileLink = try #require(ipu.rpmsgLinks.first)
        try scenario.startTraffic()
        let stream = try #require(scenario.stream)
        #expect(try scenario.drive(until: { stream.received.count >= 20 }))
        let replies = ReplyLog()
        let (probe, hostile) = try scenario.hostileEndpoint { _, payload, _ in replies.append(payload) }
        try probe.sendTo(hostile, Array("hello hostile".utf8))
        let address = String(probe.address, radix: 16)
        #expect(try scenario.drive(until: {
            scenario.trace(of: "ipu").contains("ampsoc-fw-hostile: \(garbage.mode): \(garbage.written)")
        }))
        // The host still talks to the remote over the same rings (its next publish rewrites avail.idx).
        try probe.sendTo(hostile, Array("after".utf8))
        #expect(try scenario.drive(until: {
            scenario.trace(of: "ipu").contains("ampsoc-fw-hostile: received 5 bytes from 0x\(address)")
        }))
        let streamAfter = stream.received.count
        #expect(try scenario.drive(until: { stream.received.count >= streamAfter + 20 }))
        try scenario.drive(for: 0.3)
        try scenario.drainTraffic()

        #expect(scenario.crashes(of: "ipu").isEmpty)
        #expect(ipu.state == .running)
        #expect(ipu.rpmsgLinks.first === hostileLink)
        #expect(hostileLink.failure == nil)
        #expect(hostileLink.counters.violations == 0)
        #expect(hostileLink.postedReceiveBuffers == 256)
        #expect(try #require(ipu.rpmsgBuses.first).counters.invalidInbound == 0)
        // The looped descriptor came back as one buffer: its message was delivered exactly once.
        let looped = garbage.mode == "desc-loop"
        #expect(replies.all == (looped ? [Array("looping chain".utf8)] : []))
        #expect(hostileLink.counters.received == (looped ? 2 : 1))
        try healthy.expectUndisturbed(scenario)
    }

    @Test func hostileRemoteIsRestartedAfterEachViolationWhenRecoveryIsOn() throws {
        let violation = try #require(Self.violations.first)
        let scenario = try HostileRemoteScenario(mode: violation.mode, recovery: true, label: "hrecover")
        defer { scenario.topology.finish() }
        try scenario.boot()
        let ipu = try scenario.ipu
        let healthy = try HealthyRemote(scenario)
        try scenario.startTraffic()
        var pids = [try #require(ipu.pid)]
        var links = [try #require(ipu.rpmsgLinks.first)]
        // Each boot of the hostile firmware misbehaves 300 ms after the host greets it.
        for generation in 1...2 {
            let (probe, hostile) = try scenario.hostileEndpoint { _, _, _ in }
            try probe.sendTo(hostile, Array("hello hostile".utf8))
            #expect(try scenario.drive(until: {
                ipu.crashCount == generation && ipu.state == .running
                    && scenario.topology.channelEvents(of: "ipu").count == 2 * generation + 1
            }))
            let streamAtRestart = scenario.stream?.received.count ?? 0
            #expect(try scenario.drive(until: { (scenario.stream?.received.count ?? 0) >= streamAtRestart + 20 }))
            pids.append(try #require(ipu.pid))
            links.append(try #require(ipu.rpmsgLinks.first))
            #expect(links[generation - 1].failure == violation.detail)
            #expect(links[generation - 1].counters.violations == 1)
            #expect(scenario.trace(of: "ipu").contains(
                "ampsoc-fw-hostile: boot on ipu (generation \(generation + 1)), mode \(violation.mode)"))
        }
        try scenario.drainTraffic()

        #expect(Set(pids).count == 3)
        for pid in pids.dropLast() { #expect(!RpmsgTopology.processExists(pid), "crashed firmware \(pid) still runs") }
        #expect(links[2] !== links[1] && links[1] !== links[0])
        #expect(links[2].failure == nil)
        #expect(scenario.crashes(of: "ipu") == Array(
            repeating: "fatal error: rpmsg protocol violation: ipu.vdev0: \(violation.detail)", count: 2))
        let kinds = scenario.topology.events.events.compactMap { event -> String? in
            switch event {
            case .crash("ipu", _, _): "crash"
            case .channel("ipu", let action, _, _, _): "channel \(action)"
            case .state("ipu", let state): "state \(state)"
            default: nil
            }
        }
        let cycle = ["state crashed", "crash", "channel destroy", "state running", "channel create"]
        #expect(kinds == ["state running", "channel create"] + cycle + cycle)
        try healthy.expectUndisturbed(scenario)
    }
}

/// The dsp running ampsoc-fw-echo, as it was before the hostile remote misbehaved.
private struct HealthyRemote {
    let link: VirtioRpmsgLink
    let pid: Int32

    init(_ scenario: HostileRemoteScenario) throws {
        let dsp = try scenario.dsp
        link = try #require(dsp.rpmsgLinks.first)
        pid = try #require(dsp.pid)
        let buffers = link.receiveBuffers
        #expect(buffers.posted + buffers.held == 256)
    }

    /// Same process, same link, no violation, no buffer lost, and every echo answered in order.
    func expectUndisturbed(_ scenario: HostileRemoteScenario) throws {
        let dsp = try scenario.dsp
        #expect(dsp.state == .running)
        #expect(dsp.crashCount == 0)
        #expect(dsp.pid == pid)
        #expect(dsp.rpmsgLinks.first === link)
        #expect(link.failure == nil)
        #expect(link.counters.violations == 0)
        // Traffic may still flow: a few buffers can be between their message's delivery and their repost.
        let buffers = link.receiveBuffers
        #expect(buffers.posted + buffers.held == 256)
        let bus = try #require(dsp.rpmsgBuses.first)
        #expect(bus.counters.droppedNoRecipient == 0)
        #expect(bus.counters.invalidInbound == 0)
        #expect(scenario.crashes(of: "dsp").isEmpty)
        #expect(scenario.topology.channelEvents(of: "dsp").map(\.action) == [.create])
        let pingPong = scenario.pingPong
        #expect(pingPong.probes == 1)
        #expect(pingPong.removes == 0)
        #expect(pingPong.mismatches == 0)
        let echoes = pingPong.echoCounts
        #expect(echoes.sinceProbe == echoes.total)
        let stream = try #require(scenario.stream)
        #expect(!stream.sent.isEmpty)
        #expect(stream.received == stream.sent)
    }
}

import AmpProfiles
import AmpRemoteproc
import AmpRpmsg
import AmpSystem
import Foundation
import Glibc
import Synchronization
import Testing

/// The host's virtio rpmsg transport against the remote helper's firmware, real processes over shared
/// memory: announcements, the client sample's 100 round trips, host traffic to an echo service, and
/// recovery of a remote killed during traffic. Every wait is bounded; nothing asserts on timing.
@Suite(.serialized) struct VirtioRpmsgEndToEndTests {
    @Test func clientSampleCompletesAHundredMessagesAndEchoAnswers() throws {
        let topology = try RpmsgTopology(label: "sample")
        defer { topology.finish() }
        #expect(topology.host.bootAutomatically().isEmpty)
        let sample = topology.host.rpmsgClientSample
        // The driver's last line is reported through the main loop after the exchange completes; waiting
        // for it (not just for completion) means every earlier event has been reported too.
        #expect(try topology.run(until: { sample.isComplete && topology.driverOutput(of: "rpmsg_client_sample").last == "goodbye!" }))

        let ipuChannels = topology.channelEvents(of: "ipu")
        #expect(ipuChannels.map(\.action) == [.create])
        #expect(ipuChannels.map(\.name) == ["rpmsg-client-sample"])
        let output = topology.driverOutput(of: "rpmsg_client_sample")
        #expect(output.filter { $0.hasPrefix("incoming msg ") }.count == 100)
        #expect(output.last == "goodbye!")
        let remoteAddress = try #require(ipuChannels.first?.dst)
        #expect(output.first == "new channel: 0x400 -> 0x\(String(remoteAddress, radix: 16))!")
        let created = try #require(topology.events.events.first { if case .channel = $0 { true } else { false } })
        #expect(created.json.encoded()
            == "{\"event\":\"channel\",\"action\":\"create\",\"rproc\":\"ipu\",\"name\":\"rpmsg-client-sample\","
            + "\"src\":-1,\"dst\":\(remoteAddress)}")

        // The dsp's echo service was announced too; talk to it from the test (the main loop thread).
        #expect(try topology.run(until: { topology.channelEvents(of: "dsp").map(\.name) == ["rpmsg-echo"] }))
        let bus = try #require(try topology.rproc("dsp").rpmsgBuses.first)
        let echo = try #require(bus.channel(named: "rpmsg-echo"))
        let replies = Mutex<[[UInt8]]>([])
        let endpoint = try bus.createEndpoint { _, payload, _ in replies.withLock { $0.append(payload) } }
        let payloads = (0..<20).map { Array("echo \($0) ".utf8) + Array(repeating: UInt8($0), count: 16 * $0) }
        for payload in payloads { try endpoint.sendTo(echo.destination, payload) }
        #expect(try topology.run(until: { replies.withLock { $0.count } == payloads.count }))
        #expect(replies.withLock { $0 } == payloads)
        // An echo to an address without endpoint is dropped by the host, counted and reported.
        try endpoint.sendOffchannel(source: 5000, destination: echo.destination, Array("lost".utf8))
        let dropped = HostEvent.error(
            rproc: "dsp",
            message: "dsp.vdev0: msg received with no recipient: 4 bytes 0x\(String(echo.destination, radix: 16)) -> 0x1388")
        #expect(try topology.run(until: { topology.events.events.contains(dropped) }))
        #expect(bus.counters.droppedNoRecipient == 1)
        do {
            try endpoint.sendTo(echo.destination, Array(repeating: 0, count: 497))
            Issue.record("a 497-byte message was sent")
        } catch {
            #expect(error.code == .messageTooLarge)
        }
        #expect(!topology.events.events.contains { if case .crash = $0 { true } else { false } })
        #expect(topology.events.events.filter { if case .error = $0 { true } else { false } } == [dropped])
    }

    @Test func remoteKilledDuringTrafficIsRecoveredAndTrafficResumes() throws {
        let driver = PingPongDriver()
        let topology = try RpmsgTopology(label: "recover") { host in try host.rpmsgRegistry.register(driver) }
        defer { topology.finish() }
        topology.host.bootAutomatically()
        let dsp = try topology.rproc("dsp")
        #expect(try topology.run(until: { driver.totalEchoes >= 20 }))
        let firstPid = try #require(dsp.pid)
        // Traffic never pauses: each echo triggers the next ping, so the kill lands during traffic.
        kill(firstPid, SIGKILL)

        #expect(try topology.run(until: { driver.probes == 2 && driver.echoesSinceProbe >= 20 }))
        #expect(dsp.crashCount == 1)
        #expect(dsp.state == .running)
        #expect(dsp.pid != firstPid)
        #expect(driver.removes == 1)
        #expect(driver.mismatches == 0)
        let crash = topology.events.events.compactMap { event -> String? in
            if case .crash("dsp", let type, let detail) = event { return "\(type): \(detail)" }
            return nil
        }
        #expect(crash == ["exit: killed by signal 9"])
        #expect(topology.channelEvents(of: "dsp").map { "\($0.action) \($0.name)" }
            == ["create rpmsg-echo", "destroy rpmsg-echo", "create rpmsg-echo"])
        // Order: the crash, then the channel's destruction, then the restart, then the new channel.
        let kinds = topology.events.events.compactMap { event -> String? in
            switch event {
            case .crash("dsp", _, _): "crash"
            case .channel("dsp", let action, _, _, _): "channel \(action)"
            case .state("dsp", let state): "state \(state)"
            default: nil
            }
        }
        #expect(kinds == [
            "state running", "channel create", "state crashed", "crash", "channel destroy", "state running",
            "channel create",
        ])
        // The other remote was not disturbed.
        #expect(try topology.rproc("ipu").crashCount == 0)
    }

    @Test func clientSampleProbesAgainAfterItsRemoteIsKilled() throws {
        let topology = try RpmsgTopology(label: "again")
        defer { topology.finish() }
        topology.host.bootAutomatically()
        let ipu = try topology.rproc("ipu")
        #expect(try topology.run(until: { topology.channelEvents(of: "ipu").count == 1 }))
        let firstPid = try #require(ipu.pid)
        kill(firstPid, SIGKILL)

        #expect(try topology.run(until: {
            topology.channelEvents(of: "ipu").count == 3
                && topology.driverOutput(of: "rpmsg_client_sample").last == "goodbye!"
        }))
        #expect(ipu.crashCount == 1)
        #expect(topology.channelEvents(of: "ipu").map(\.action) == [.create, .destroy, .create])
        let output = topology.driverOutput(of: "rpmsg_client_sample")
        #expect(output.filter { $0 == "rpmsg sample client driver is removed" }.count == 1)
        #expect(output.filter { $0.hasPrefix("new channel: ") }.count == 2)
        // The last probe's run is complete: its 100 answers all arrived after the second probe.
        let afterSecondProbe = output.split(separator: "rpmsg sample client driver is removed").last.map(Array.init) ?? []
        #expect(afterSecondProbe.filter { $0.hasPrefix("incoming msg ") }.count == 100)
        #expect(topology.host.rpmsgClientSample.isComplete)
    }

    @Test func nameServiceDestroyRemovesTheChannelWhileTheRemoteRuns() throws {
        let driver = PingPongDriver()
        let topology = try RpmsgTopology(dspArguments: ["--lifetime-ms", "300"], label: "nsdestroy") { host in
            try host.rpmsgRegistry.register(driver)
        }
        defer { topology.finish() }
        topology.host.bootAutomatically()
        #expect(try topology.run(until: { topology.channelEvents(of: "dsp").count == 2 }))
        #expect(topology.channelEvents(of: "dsp").map { "\($0.action) \($0.name)" } == ["create rpmsg-echo", "destroy rpmsg-echo"])
        #expect(driver.probes == 1)
        #expect(driver.removes == 1)
        #expect(driver.totalEchoes > 0)
        let dsp = try topology.rproc("dsp")
        #expect(dsp.state == .running)
        #expect(dsp.crashCount == 0)
        let bus = try #require(dsp.rpmsgBuses.first)
        #expect(bus.channels.isEmpty)
    }

    @Test func orderlyShutdownRemovesChannelsBeforeTheRemoteStops() throws {
        let driver = PingPongDriver()
        let topology = try RpmsgTopology(label: "shutdown") { host in try host.rpmsgRegistry.register(driver) }
        defer { topology.finish() }
        topology.host.bootAutomatically()
        #expect(try topology.run(until: { driver.totalEchoes >= 5 }))
        try topology.host.shutdown("dsp")
        let dsp = try topology.rproc("dsp")
        #expect(dsp.state == .offline)
        #expect(dsp.rpmsgBuses.isEmpty)
        #expect(driver.removes == 1)
        let kinds = topology.events.events.compactMap { event -> String? in
            switch event {
            case .channel("dsp", let action, _, _, _): "channel \(action)"
            case .state("dsp", let state): "state \(state)"
            case .crash("dsp", _, _): "crash"
            default: nil
            }
        }
        #expect(kinds == ["state running", "channel create", "channel destroy", "state offline"])
    }
}

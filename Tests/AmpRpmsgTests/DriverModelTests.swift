import Foundation
import Synchronization
import Testing

import AmpRpmsg
import AmpWire

@Suite("DriverModelTests")
struct DriverModelTests {
    @Test func driverRegisteredFirstProbesAppearingChannel() throws {
        let test = TestBus()
        let driver = RecordingDriver(name: "drv", serves: ["other", "svc"])
        try test.registry.register(driver)
        #expect(test.registry.driverNames == ["drv"])
        test.announce("svc", address: 0x400)
        let channel = try #require(test.bus.channels.first)
        #expect(driver.log.all == ["drv probe test.vdev0.svc.-1.1024"])
        #expect(channel.isBound)
        #expect(channel.driverName == "drv")
        #expect(channel.endpoint?.address == 1024)
        #expect(channel.endpoint?.channel === channel)
        #expect(channel.endpoint?.destination == 0x400)
        #expect(test.bus.endpointAddresses == [53, 1024])
    }

    @Test func driverRegisteredLaterProbesExistingChannels() throws {
        let test = TestBus()
        test.announce("svc", address: 0x400)
        test.announce("unrelated", address: 0x401)
        test.announce("svc", address: 0x402)
        #expect(test.bus.channels.allSatisfy { !$0.isBound })
        let driver = RecordingDriver(name: "drv", serves: ["svc"])
        try test.registry.register(driver)
        #expect(driver.log.all == ["drv probe test.vdev0.svc.-1.1024", "drv probe test.vdev0.svc.-1.1026"])
        #expect(test.bus.channels.map(\.isBound) == [true, false, true])
        #expect(test.bus.channels.map(\.localAddress) == [1024, any, 1025])
    }

    @Test func matchingIsByExactName() throws {
        let test = TestBus()
        let driver = RecordingDriver(name: "drv", serves: ["svc"])
        try test.registry.register(driver)
        test.announce("svc2", address: 0x400)
        test.announce("sv", address: 0x401)
        test.announce("SVC", address: 0x402)
        #expect(driver.log.all.isEmpty)
    }

    @Test func duplicateDriverNameIsRejected() throws {
        let test = TestBus()
        try test.registry.register(RecordingDriver(name: "drv", serves: ["a"]))
        #expect(RpmsgCoreTests.errorCode { try test.registry.register(RecordingDriver(name: "drv", serves: ["b"])) } == .exists)
        #expect(test.registry.driverNames == ["drv"])
    }

    @Test func callbacksReachTheBoundDriver() throws {
        let test = TestBus()
        let driver = RecordingDriver(name: "drv", serves: ["svc"])
        try test.registry.register(driver)
        test.announce("svc", address: 0x400)
        test.bus.receive(source: 0x400, destination: 1024, payload: Array("ping".utf8))
        test.bus.receive(source: 0x777, destination: 1024, payload: Array("pong".utf8))
        #expect(
            driver.log.all.dropFirst() == [
                "drv rx test.vdev0.svc.-1.1024 1024 ping", "drv rx test.vdev0.svc.-1.1024 1911 pong",
            ])
        let channel = try #require(test.bus.channels.first)
        try channel.send(Array("reply".utf8))
        try channel.trySend([1])
        #expect(
            test.transport.sent == [
                .init(source: 1024, destination: 0x400, payload: Array("reply".utf8), wait: .seconds(15)),
                .init(source: 1024, destination: 0x400, payload: [1], wait: nil),
            ])
    }

    @Test func failedProbeLeavesNoEndpointAndTriesTheNextDriver() throws {
        let test = TestBus()
        let failing = RecordingDriver(name: "failing", serves: ["svc"])
        failing.failProbes(with: RpmsgError(.invalidArgument, "not today"))
        try test.registry.register(failing)
        test.announce("svc", address: 0x400)
        let channel = try #require(test.bus.channels.first)
        #expect(!channel.isBound)
        #expect(channel.endpoint == nil)
        #expect(channel.driverName == nil)
        #expect(test.bus.endpointAddresses == [53])
        #expect(
            test.events.events.last
                == .probeFailed(
                    driver: "failing", channel: "test.vdev0.svc.-1.1024",
                    error: RpmsgError(.invalidArgument, "not today")))
        #expect(failing.log.all == ["failing probe test.vdev0.svc.-1.1024"])

        let working = RecordingDriver(name: "working", serves: ["svc"])
        try test.registry.register(working)
        #expect(channel.isBound)
        #expect(channel.driverName == "working")
        #expect(channel.endpoint?.address == 1024)

        // A new channel is offered to both, in registration order.
        test.announce("svc", address: 0x401)
        #expect(failing.log.all.last == "failing probe test.vdev0.svc.-1.1025")
        #expect(working.log.all.last == "working probe test.vdev0.svc.-1.1025")
        #expect(test.bus.channels.map(\.isBound) == [true, true])
    }

    @Test func probeFailsWhenTheFixedSourceIsTaken() throws {
        let test = TestBus()
        _ = try test.bus.createEndpoint(address: 0x500, callback: ignore)
        let driver = RecordingDriver(name: "drv", serves: ["svc"])
        try test.registry.register(driver)
        let channel = try test.bus.createChannel(name: "svc", source: 0x500, destination: 0x400)
        #expect(!channel.isBound)
        #expect(driver.log.all.isEmpty)  // probe never ran
        guard case .probeFailed(let name, _, let error) = test.events.events.last else {
            Issue.record("no probe failure reported")
            return
        }
        #expect(name == "drv")
        #expect(error.code == .addressInUse)
    }

    @Test func failedAnnouncementUndoesTheProbe() throws {
        let test = TestBus()
        let driver = RecordingDriver(name: "drv", serves: ["svc"])
        try test.registry.register(driver)
        test.transport.failSends(with: RpmsgError(.timedOut, "ring full"))
        let channel = try test.bus.createChannel(name: "svc", source: 0x500, destination: 0x400)
        #expect(!channel.isBound)
        #expect(driver.log.all == ["drv probe test.vdev0.svc.1280.1024", "drv remove test.vdev0.svc.1280.1024"])
        #expect(test.bus.endpointAddresses == [53])
    }

    @Test func unregisteringUnbindsAndOffersChannelsToOthers() throws {
        let test = TestBus()
        let first = RecordingDriver(name: "first", serves: ["svc"])
        let second = RecordingDriver(name: "second", serves: ["svc"])
        try test.registry.register(first)
        try test.registry.register(second)
        test.announce("svc", address: 0x400)
        let channel = try #require(test.bus.channels.first)
        #expect(channel.driverName == "first")
        #expect(second.log.all.isEmpty)

        test.registry.unregister(first)
        #expect(first.log.all == ["first probe test.vdev0.svc.-1.1024", "first remove test.vdev0.svc.-1.1024"])
        #expect(first.endpointAliveAtRemove.withLock { $0 } == [true])
        #expect(second.log.all == ["second probe test.vdev0.svc.-1.1024"])
        #expect(channel.driverName == "second")
        #expect(channel.endpoint?.address == 1024)  // the first endpoint's address was freed and reused
        #expect(test.registry.driverNames == ["second"])
    }

    @Test func linkDownRemovesEveryChannelAndFailsLaterSends() throws {
        let test = TestBus()
        let driver = RecordingDriver(name: "drv", serves: ["a", "b"])
        try test.registry.register(driver)
        test.announce("a", address: 0x400)
        test.announce("b", address: 0x401)
        test.announce("c", address: 0x402)
        let channels = test.bus.channels
        let endpoints = channels.compactMap(\.endpoint)
        let standalone = try test.bus.createEndpoint(destination: 0x400, callback: ignore)
        #expect(endpoints.map(\.address) == [1024, 1025])
        #expect(test.registry.buses.count == 1)
        test.events.removeAll()

        test.bus.linkDown()
        #expect(
            driver.log.all.suffix(2) == ["drv remove test.vdev0.b.-1.1025", "drv remove test.vdev0.a.-1.1024"])
        #expect(driver.endpointAliveAtRemove.withLock { $0 } == [true, true])
        #expect(test.bus.channels.isEmpty)
        #expect(channels.allSatisfy { $0.isDestroyed })
        #expect(channels.allSatisfy { !$0.isBound })
        #expect((endpoints + [standalone]).allSatisfy { $0.isDestroyed })
        #expect(test.bus.endpointAddresses == [])
        #expect(test.registry.buses.isEmpty)
        #expect(
            test.events.events.map(\.kind) == [
                "channel-destroyed", "channel-destroyed", "channel-destroyed", "link-down",
            ])
        #expect(RpmsgCoreTests.errorCode { try channels[0].send([1]) } == .noDevice)
        #expect(RpmsgCoreTests.errorCode { try standalone.trySend([1]) } == .noDevice)
        #expect(RpmsgCoreTests.errorCode { try test.bus.createChannel(name: "d") } == .noDevice)
        #expect(test.transport.sent.isEmpty)

        // Announcements after the link went down create nothing.
        test.announce("a", address: 0x400)
        #expect(test.bus.channels.isEmpty)
        #expect(test.bus.counters.droppedNoRecipient == 1)
    }

    @Test func linkDownRunsRemoveWithoutAnnouncing() throws {
        let test = TestBus()
        let driver = RecordingDriver(name: "drv", serves: ["svc"])
        try test.registry.register(driver)
        try test.bus.createChannel(name: "svc", source: 0x500, destination: 0x400)
        #expect(test.transport.sent.count == 1)  // CREATE
        test.bus.linkDown()
        #expect(test.transport.sent.count == 1)  // no DESTROY to a dead remote
        #expect(driver.log.all.last == "drv remove test.vdev0.svc.1280.1024")
    }

    @Test func driverOutputNamesDriverAndChannel() throws {
        let test = TestBus()
        test.announce("svc", address: 0x400)
        let channel = try #require(test.bus.channels.first)
        try test.registry.register(RecordingDriver(name: "drv", serves: ["svc"]))
        channel.log("hello")
        #expect(
            test.events.events.last == .driverOutput(driver: "drv", channel: "test.vdev0.svc.-1.1024", text: "hello"))
        #expect(test.events.events.last?.text == "drv test.vdev0.svc.-1.1024: hello")
    }

    @Test func channelsAndDriversAppearingConcurrentlyBindExactlyOnce() throws {
        let test = TestBus()
        let driver = RecordingDriver(name: "drv", serves: ["svc"])
        let finished = DispatchSemaphore(value: 0)
        let announcer = Thread {
            for index in 0..<200 { test.announce("svc", address: 0x1000 + UInt32(index)) }
            finished.signal()
        }
        announcer.start()
        try test.registry.register(driver)
        finished.wait()
        let probes = driver.log.all.filter { $0.hasPrefix("drv probe") }
        #expect(probes.count == 200)
        #expect(Set(probes).count == 200)
        #expect(test.bus.channels.allSatisfy { $0.isBound })
        #expect(Set(test.bus.channels.compactMap { $0.endpoint?.address }).count == 200)
    }

    @Test func channelDestroyedDuringProbeIsRemovedAfterIt() throws {
        let test = TestBus()
        let destroyer = DestroyingDriver()
        try test.registry.register(destroyer)
        test.announce("svc", address: 0x400)
        #expect(test.bus.channels.isEmpty)
        #expect(destroyer.log.all == ["probe", "remove"])
        #expect(test.bus.endpointAddresses == [53])
    }
}

/// A driver whose probe destroys its own channel (as a remote DESTROY racing a probe would).
private final class DestroyingDriver: RpmsgDriver {
    let name = "destroyer"
    let idTable = ["svc"]
    let log = CallLog()

    func probe(_ channel: RpmsgChannel) throws(RpmsgError) {
        log.append("probe")
        try channel.bus?.destroyChannel(channel)
    }

    func remove(_ channel: RpmsgChannel) { log.append("remove") }
    func callback(_ channel: RpmsgChannel, payload: [UInt8], source: UInt32) {}
}

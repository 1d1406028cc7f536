import Testing

import AmpRpmsg
import AmpWire

@Suite("NameServiceTests")
struct NameServiceTests {
    @Test func createMakesAnAnnouncedChannel() throws {
        let test = TestBus()
        test.announce("svc", address: 0x400)
        let channel = try #require(test.bus.channels.first)
        #expect(test.bus.channels.count == 1)
        #expect(channel.name == "svc")
        #expect(channel.source == any)
        #expect(channel.destination == 0x400)
        #expect(!channel.announces)
        #expect(channel.linkName == "test.vdev0")
        #expect(channel.deviceName == "test.vdev0.svc.-1.1024")
        #expect(channel.endpoint == nil)  // no driver
        #expect(!channel.isBound)
        #expect(test.bus.channel(named: "svc", destination: 0x400) === channel)
        #expect(test.bus.channel(named: "svc", destination: 0x401) == nil)
        let info = RpmsgChannelInfo(link: "test.vdev0", name: "svc", source: any, destination: 0x400)
        #expect(test.events.events == [.channelCreated(info)])
        #expect(test.events.events[0].text == "test.vdev0: channel svc created: 0xffffffff -> 0x400")
        #expect(test.bus.counters.rxMessages == 1)
        #expect(test.bus.counters.droppedNoRecipient == 0)
    }

    @Test func duplicateCreateIsReported() throws {
        let test = TestBus()
        test.announce("svc", address: 0x400)
        test.announce("svc", address: 0x400)
        test.announce("svc", address: 0x401)  // same name, other address: a second channel
        #expect(test.bus.channels.map(\.deviceName) == ["test.vdev0.svc.-1.1024", "test.vdev0.svc.-1.1025"])
        let duplicate = RpmsgChannelInfo(link: "test.vdev0", name: "svc", source: any, destination: 0x400)
        #expect(test.events.events[1] == .channelAlreadyExists(duplicate))
        #expect(test.events.events[1].text == "test.vdev0: channel svc:0xffffffff:0x400 already exists")
        #expect(test.events.events.count == 3)
    }

    @Test func destroyRemovesTheChannelAndRunsRemove() throws {
        let test = TestBus()
        let driver = RecordingDriver(name: "drv", serves: ["svc"])
        try test.registry.register(driver)
        test.announce("svc", address: 0x400)
        let channel = try #require(test.bus.channels.first)
        let endpoint = try #require(channel.endpoint)
        #expect(endpoint.address == 1024)

        test.announce("svc", address: 0x400, flags: 1)
        #expect(test.bus.channels.isEmpty)
        #expect(channel.isDestroyed)
        #expect(endpoint.isDestroyed)
        #expect(test.bus.endpointAddresses == [53])
        #expect(driver.log.all == ["drv probe test.vdev0.svc.-1.1024", "drv remove test.vdev0.svc.-1.1024"])
        let info = RpmsgChannelInfo(link: "test.vdev0", name: "svc", source: any, destination: 0x400)
        #expect(test.events.events == [.channelCreated(info), .channelDestroyed(info)])
        // Announced channels are never announced back.
        #expect(test.transport.sent.isEmpty)
    }

    @Test func destroyOfAnUnknownChannelIsReported() {
        let test = TestBus()
        test.announce("svc", address: 0x400)
        test.announce("svc", address: 0x401, flags: 1)
        test.announce("other", address: 0x400, flags: 1)
        #expect(test.bus.channels.count == 1)
        #expect(
            Array(test.events.events.dropFirst()) == [
                .channelNotFound(link: "test.vdev0", name: "svc", destination: 0x401),
                .channelNotFound(link: "test.vdev0", name: "other", destination: 0x400),
            ])
    }

    @Test(arguments: [39, 41, 0, 16])
    func wrongLengthIsMalformed(length: Int) {
        let test = TestBus()
        let payload = Array((nameServicePayload("svc", address: 0x400) + [0, 0]).prefix(length))
        test.bus.receive(source: 0x400, destination: 53, payload: payload)
        #expect(test.bus.channels.isEmpty)
        #expect(test.bus.counters.malformedNameService == 1)
        #expect(test.registry.totals.malformedNameService == 1)
        #expect(test.bus.counters.droppedNoRecipient == 0)
        #expect(
            test.events.events == [
                .malformedNameService(
                    link: "test.vdev0", source: 0x400, length: length,
                    reason: "payload is \(length) bytes; a name-service message is exactly 40")
            ])
        #expect(test.events.events[0].kind == "malformed-ns")
    }

    @Test func malformedMessagesAreCountedPerLinkAndInTotal() {
        let test = TestBus()
        test.bus.receive(source: 1, destination: 53, payload: [UInt8](repeating: 0x41, count: 39))
        test.bus.receive(source: 1, destination: 53, payload: [UInt8](repeating: 0x41, count: 41))
        let other = RpmsgBus(transport: RecordingTransport(name: "b"), registry: test.registry)
        other.receive(source: 1, destination: 53, payload: [])
        #expect(test.bus.counters.malformedNameService == 2)
        #expect(other.counters.malformedNameService == 1)
        #expect(test.registry.totals.malformedNameService == 3)
    }

    @Test func createForAddressAnyIsMalformed() {
        let test = TestBus()
        test.announce("svc", address: any)
        #expect(test.bus.channels.isEmpty)
        #expect(test.bus.counters.malformedNameService == 1)
        #expect(
            test.events.events == [
                .malformedNameService(
                    link: "test.vdev0", source: any, length: 40, reason: "the announced address is ANY (0xffffffff)")
            ])
    }

    @Test func thirtyTwoByteNameWithoutNulUsesTheFirst31() throws {
        let test = TestBus()
        let long = String(repeating: "a", count: 16) + String(repeating: "b", count: 16)
        var payload = nameServicePayload("", address: 0x400)
        payload.replaceSubrange(0..<32, with: Array(long.utf8))
        #expect(payload.count == 40)
        test.bus.receive(source: 0x400, destination: 53, payload: payload)
        let channel = try #require(test.bus.channels.first)
        #expect(channel.name == String(repeating: "a", count: 16) + String(repeating: "b", count: 15))
        #expect(channel.rpmsgName.bytes.count == 31)
    }

    @Test func otherFlagBitsStillCreate() {
        let test = TestBus()
        test.announce("svc", address: 0x400, flags: 0x10)
        #expect(test.bus.channels.count == 1)
        test.announce("svc", address: 0x400, flags: 0x11)
        #expect(test.bus.channels.isEmpty)
    }

    @Test func withoutNameServiceMessagesTo53AreDropped() {
        let test = TestBus(nameService: false)
        test.announce("svc", address: 0x400)
        #expect(test.bus.channels.isEmpty)
        #expect(test.bus.counters.droppedNoRecipient == 1)
        #expect(test.bus.counters.malformedNameService == 0)
    }

    // MARK: Announcing local channels

    @Test func localChannelWithFixedSourceIsAnnouncedAfterProbeAndBeforeRemove() throws {
        let log = CallLog()
        let test = TestBus(log: log)
        let driver = RecordingDriver(name: "drv", serves: ["rpmsg-raw"], log: log)
        try test.registry.register(driver)
        let channel = try test.bus.createChannel(name: "rpmsg-raw", source: 0x500, destination: 0x400)
        #expect(channel.announces)
        #expect(channel.isBound)
        #expect(channel.endpoint?.address == 0x500)
        #expect(channel.deviceName == "test.vdev0.rpmsg-raw.1280.1024")
        // name "rpmsg-raw" NUL-padded to 32 bytes, addr 0x500, flags 0 (CREATE), little endian.
        let padding = String(repeating: "00", count: 23)
        let create = hexBytes("72706d73672d726177" + padding + "00050000 00000000")
        #expect(create.count == 40)
        #expect(test.transport.sent == [.init(source: 0x500, destination: 53, payload: create, wait: .seconds(15))])

        try test.bus.destroyChannel(channel)
        let destroy = hexBytes("72706d73672d726177" + padding + "00050000 01000000")
        #expect(test.transport.sent.last == .init(source: 0x500, destination: 53, payload: destroy, wait: .seconds(15)))
        #expect(
            log.all == [
                "drv probe test.vdev0.rpmsg-raw.1280.1024", "send 1280->53 40",
                "send 1280->53 40", "drv remove test.vdev0.rpmsg-raw.1280.1024",
            ])
        #expect(driver.endpointAliveAtRemove.withLock { $0 } == [true])
        #expect(test.bus.endpointAddresses == [53])
    }

    @Test func localChannelWithAnySourceIsNotAnnounced() throws {
        let test = TestBus()
        try test.registry.register(RecordingDriver(name: "drv", serves: ["svc"]))
        let channel = try test.bus.createChannel(name: "svc", destination: 0x400)
        #expect(!channel.announces)
        #expect(channel.isBound)
        #expect(channel.endpoint?.address == 1024)
        #expect(channel.localAddress == 1024)
        try test.bus.destroyChannel(name: "svc", destination: 0x400)
        #expect(test.transport.sent.isEmpty)
    }

    @Test func linkWithoutNameServiceAnnouncesNothing() throws {
        let test = TestBus(nameService: false)
        try test.registry.register(RecordingDriver(name: "drv", serves: ["svc"]))
        let channel = try test.bus.createChannel(name: "svc", source: 0x500, destination: 0x400)
        #expect(channel.isBound)
        try test.bus.destroyChannel(channel)
        #expect(test.transport.sent.isEmpty)
        let endpoint = try test.bus.createEndpoint(callback: ignore)
        #expect(RpmsgCoreTests.errorCode { try test.bus.announce("svc", from: endpoint, action: .create) } == .notSupported)
    }

    @Test func localChannelRules() throws {
        let test = TestBus()
        try test.bus.createChannel(name: "svc", source: 0x500, destination: 0x400)
        #expect(RpmsgCoreTests.errorCode { try test.bus.createChannel(name: "svc", source: 0x500, destination: 0x400) } == .exists)
        #expect(RpmsgCoreTests.errorCode { try test.bus.createChannel(name: String(repeating: "x", count: 32)) } == .invalidArgument)
        #expect(RpmsgCoreTests.errorCode { try test.bus.destroyChannel(name: "nope") } == .invalidArgument)
        let channel = try #require(test.bus.channels.first)
        try test.bus.destroyChannel(channel)
        #expect(RpmsgCoreTests.errorCode { try test.bus.destroyChannel(channel) } == .invalidArgument)
    }

    // MARK: Both sides

    @Test func remoteAnnouncementsReachTheHostOverAnInMemoryLink() throws {
        let events = RpmsgEventRecorder()
        let link = InMemoryLink(hostName: "rproc0.vdev0", hostRegistry: RpmsgDriverRegistry(events: events))
        let service = try link.remoteBus.createEndpoint(callback: ignore)
        try link.remoteBus.announce("rpmsg-tty", from: service, action: .create)
        #expect(link.hostBus.channels.isEmpty)
        link.deliverUntilIdle()
        #expect(link.hostBus.channels.map(\.deviceName) == ["rproc0.vdev0.rpmsg-tty.-1.1024"])

        try link.remoteBus.announce("rpmsg-tty", from: service, action: .destroy)
        link.deliverUntilIdle()
        #expect(link.hostBus.channels.isEmpty)
        let info = RpmsgChannelInfo(link: "rproc0.vdev0", name: "rpmsg-tty", source: any, destination: 1024)
        #expect(events.events == [.channelCreated(info), .channelDestroyed(info)])
        #expect(RpmsgCoreTests.errorCode { try link.remoteBus.announce(String(repeating: "n", count: 40), from: service, action: .create) } == .invalidArgument)
    }

    @Test func hostAnnouncementsReachTheRemoteInBigEndian() throws {
        let remoteEvents = RpmsgEventRecorder()
        let link = InMemoryLink(remoteRegistry: RpmsgDriverRegistry(events: remoteEvents), byteOrder: .big)
        try link.hostBus.registry.register(RecordingDriver(name: "drv", serves: ["ctrl"]))
        try link.hostBus.createChannel(name: "ctrl", source: 0x1234, destination: 0x400)
        link.deliverUntilIdle()
        let channel = try #require(link.remoteBus.channels.first)
        #expect(channel.name == "ctrl")
        #expect(channel.destination == 0x1234)
        #expect(remoteEvents.events == [.channelCreated(channel.info)])
    }
}

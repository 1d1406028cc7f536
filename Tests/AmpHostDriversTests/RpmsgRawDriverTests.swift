import AmpRpmsg
import AmpSystem
import AmpTestSupport
import Glibc
import Testing

@testable import AmpHostDrivers

@Suite("RpmsgRawDriverTests")
struct RpmsgRawDriverTests {
    @Test func fileNamesAreSanitised() {
        #expect(RpmsgRawDriver.socketFileName(link: "ipu.vdev0", channelName: "rpmsg-raw", localAddress: 1024)
            == "ipu.vdev0.rpmsg-raw.1024")
        #expect(RpmsgRawDriver.socketFileName(link: "dsp 1/vdev0", channelName: "rpmsg_chrdev", localAddress: 0x401)
            == "dsp_1_vdev0.rpmsg_chrdev.1025")
        #expect(RpmsgRawDriver.socketFileName(link: "m4", channelName: "caf\u{e9}:*", localAddress: 53) == "m4.caf___.53")
        #expect(RpmsgRawDriver.channelNames == ["rpmsg-raw", "rpmsg_chrdev"])
    }

    @Test func announcedChannelGetsASocketThatTalksToTheRemote() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let driver = RpmsgRawDriver(directory: scratch.path + "/sockets")
        let setup = try DriverSetup(driver: driver, channelName: "rpmsg-raw")
        let channel = try setup.channel()
        #expect(channel.driverName == "rpmsg_raw")
        #expect(channel.deviceName == "ipu.vdev0.rpmsg-raw.-1.1024")
        let path = scratch.path + "/sockets/ipu.vdev0.rpmsg-raw.1024"
        #expect(driver.socketPath(forChannel: channel) == path)
        #expect(driver.socketPath(forChannel: "ipu.vdev0.rpmsg-raw.-1.1024") == path)
        #expect(driver.socketPath(forChannel: "ipu.vdev0.rpmsg-raw.-1.1025") == nil)

        let client = try UnixSocket.connect(to: path, kind: .seqpacket)
        try client.send(bytes("ping"))
        try client.send([UInt8](repeating: 7, count: 496))
        #expect(setup.deliverToRemote(expecting: 2) == [bytes("ping"), [UInt8](repeating: 7, count: 496)])

        try setup.remoteSends(bytes("pong"))
        try setup.remoteSends([])
        #expect(try client.nextMessage() == bytes("pong"))
        #expect(try client.nextReceive() == .message(bytes: [], length: 0))

        try client.send([UInt8](repeating: 7, count: 497))  // over the in-memory link's MTU of 496
        #expect(eventually { driver.bridge(forChannel: channel)?.counters.oversize == 1 })

        let snapshot = try #require(driver.snapshots.first)
        #expect(driver.snapshots.count == 1)
        #expect(snapshot.kind == .endpointSocket)
        #expect(snapshot.channel == "ipu.vdev0.rpmsg-raw.-1.1024")
        #expect(snapshot.link == "ipu.vdev0")
        #expect(snapshot.channelName == "rpmsg-raw")
        #expect(snapshot.localAddress == 1024)
        #expect(snapshot.remoteAddress == 1024)
        #expect(snapshot.path == path)
        #expect(snapshot.mtu == 496)
        #expect(snapshot.isClientConnected == true)
        #expect(snapshot.counters.txMessages == 2)
        #expect(snapshot.counters.txBytes == 500)
        #expect(snapshot.counters.rxMessages == 2)
        #expect(snapshot.counters.rxBytes == 4)
        #expect(snapshot.counters.oversize == 1)
        #expect(snapshot.lastError == "a client message of 497 bytes exceeds the MTU of 496 and was not sent")
        #expect(channel.endpoint?.counters.txMessages == 2)
    }

    @Test func messagesBeforeTheClientConnectsAreKept() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let driver = RpmsgRawDriver(directory: scratch.path)
        let setup = try DriverSetup(driver: driver, channelName: "rpmsg_chrdev")
        let path = try #require(driver.socketPath(forChannel: try setup.channel()))
        #expect(path == scratch.path + "/ipu.vdev0.rpmsg_chrdev.1024")
        for index in 0..<3 { try setup.remoteSends(bytes("early \(index)")) }
        let client = try UnixSocket.connect(to: path, kind: .seqpacket)
        #expect(try client.nextMessage() == bytes("early 0"))
        #expect(try client.nextMessage() == bytes("early 1"))
        #expect(try client.nextMessage() == bytes("early 2"))
    }

    @Test func channelDestroyClosesTheClientAndRemovesTheSocket() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let driver = RpmsgRawDriver(directory: scratch.path)
        let setup = try DriverSetup(driver: driver, channelName: "rpmsg-raw")
        let path = try #require(driver.socketPath(forChannel: try setup.channel()))
        let client = try UnixSocket.connect(to: path, kind: .seqpacket)
        #expect(eventually { driver.snapshots.first?.isClientConnected == true })

        try setup.link.remoteBus.announce("rpmsg-raw", from: setup.remote, action: .destroy)
        setup.link.deliverUntilIdle()
        #expect(setup.link.hostBus.channels.isEmpty)
        #expect(try client.nextReceive() == .closed)
        #expect(access(path, F_OK) != 0)
        #expect(driver.snapshots.isEmpty)
        #expect(driver.socketPath(forChannel: "ipu.vdev0.rpmsg-raw.-1.1024") == nil)

        // Announced again: a new socket at the same path.
        try setup.link.remoteBus.announce("rpmsg-raw", from: setup.remote, action: .create)
        setup.link.deliverUntilIdle()
        #expect(driver.socketPath(forChannel: try setup.channel()) == path)
        let again = try UnixSocket.connect(to: path, kind: .seqpacket)
        try setup.remoteSends(bytes("back"))
        #expect(try again.nextMessage() == bytes("back"))
    }

    @Test func linkDownAndUnregisterCloseEverySocket() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let driver = RpmsgRawDriver(directory: scratch.path)
        let setup = try DriverSetup(driver: driver, channelName: "rpmsg-raw")
        let path = try #require(driver.socketPath(forChannel: try setup.channel()))
        setup.link.hostBus.linkDown()
        #expect(access(path, F_OK) != 0)
        #expect(driver.snapshots.isEmpty)
    }

    @Test func probeFailsClearlyWhenThePathIsTooLong() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let directory = scratch.path + "/" + String(repeating: "d", count: 90)
        let events = RpmsgEventRecorder()
        let driver = RpmsgRawDriver(directory: directory)
        let registry = RpmsgDriverRegistry(events: events)
        try registry.register(driver)
        let link = InMemoryLink(hostName: "ipu.vdev0", hostRegistry: registry)
        let remote = try link.remoteBus.createEndpoint { _, _, _ in }
        try link.remoteBus.announce("rpmsg-raw", from: remote, action: .create)
        link.deliverUntilIdle()
        let channel = try #require(link.hostBus.channels.first)
        #expect(!channel.isBound)
        #expect(driver.snapshots.isEmpty)
        let output = try #require(events.driverOutput.first)
        #expect(output.hasPrefix("cannot create the endpoint socket: \(directory)/ipu.vdev0.rpmsg-raw.1024: bind (a UNIX socket path holds at most 107 bytes"))
    }
}

/// A bridge that records what it is handed.
final class RecordingBridge: ChannelBridge, @unchecked Sendable {
    let path = "/nowhere"
    let mtu = 496
    let counters = BridgeCounters()
    let lastError: String? = nil
    let isClientConnectedIfKnown: Bool? = nil
    let log = PayloadLog()
    func deliver(_ payload: [UInt8]) { log.append(payload) }
    func close() {}
}

@Suite("ChannelBridgeTableTests")
struct ChannelBridgeTableTests {
    @Test func messagesArrivingWhileTheBridgeIsMadeAreHandedToItInOrder() throws {
        let setup = try DriverSetup(driver: RpmsgRawDriver(directory: "/nonexistent"), channelName: "unbound-name")
        let channel = try setup.channel()
        let table = ChannelBridgeTable<RecordingBridge>(kind: .endpointSocket)
        table.deliver(bytes("one"), for: channel)
        table.deliver(bytes("two"), for: channel)
        let bridge = RecordingBridge()
        table.insert(bridge, for: channel)
        table.deliver(bytes("three"), for: channel)
        #expect(bridge.log.all == [bytes("one"), bytes("two"), bytes("three")])

        // Held messages of a channel whose probe failed are dropped, not handed to a later bridge.
        _ = table.remove(channel)
        table.deliver(bytes("stale"), for: channel)
        table.discardEarly(for: channel)
        let next = RecordingBridge()
        table.insert(next, for: channel)
        #expect(next.log.all.isEmpty)
    }
}

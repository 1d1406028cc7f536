import AmpRpmsg
import AmpSystem
import AmpTestSupport
import Glibc
import Testing

@testable import AmpHostDrivers

@Suite("RpmsgTTYDriverTests")
struct RpmsgTTYDriverTests {
    @Test func announcedChannelGetsATerminalThatTalksToTheRemote() throws {
        let driver = RpmsgTTYDriver()
        #expect(driver.idTable == ["rpmsg-tty"])
        let setup = try DriverSetup(driver: driver, channelName: "rpmsg-tty", mtu: 40)
        let channel = try setup.channel()
        #expect(channel.driverName == "rpmsg_tty")
        let path = try #require(driver.terminalPath(forChannel: channel))
        #expect(path.hasPrefix("/dev/pts/"))
        #expect(driver.terminalPath(forChannel: "ipu.vdev0.rpmsg-tty.-1.1024") == path)

        let user = try TerminalUser(path: path)
        try user.type(Array("help\r".utf8))
        #expect(eventually { setup.link.pendingToRemote >= 1 })
        // Typed bytes go out in chunks of at most the link's MTU (40 here; a name-service message needs 40), in order.
        let typed = Array((String(repeating: "echo 0123456789 ", count: 6) + "\r").utf8)
        #expect(typed.count == 97)
        try user.type(typed)
        #expect(eventually {
            setup.link.deliverPendingToRemote()
            return setup.received.all.flatMap { $0 }.count == 5 + typed.count
        })
        #expect(setup.received.all.flatMap { $0 } == Array("help\r".utf8) + typed)
        #expect(setup.received.all.allSatisfy { $0.count <= 40 })
        #expect(setup.received.all.count >= 1 + 3)  // "help\r", then 97 bytes in at least three chunks

        try setup.remoteSends(Array("ampsoc> ".utf8))
        #expect(user.read(count: 8) == Array("ampsoc> ".utf8))

        let snapshot = try #require(driver.snapshots.first)
        #expect(snapshot.kind == .terminal)
        #expect(snapshot.path == path)
        #expect(snapshot.mtu == 40)
        #expect(snapshot.isClientConnected == nil)
        #expect(snapshot.counters.rxMessages == 1)
        #expect(snapshot.counters.txBytes == UInt64(5 + typed.count))
    }

    @Test func channelDestroyHangsUpTheTerminal() throws {
        let driver = RpmsgTTYDriver()
        let setup = try DriverSetup(driver: driver, channelName: "rpmsg-tty")
        let path = try #require(driver.terminalPath(forChannel: try setup.channel()))
        let user = try TerminalUser(path: path)
        try setup.link.remoteBus.announce("rpmsg-tty", from: setup.remote, action: .destroy)
        setup.link.deliverUntilIdle()
        var poller = pollfd(fd: user.fd, events: Int16(POLLIN), revents: 0)
        #expect(poll(&poller, 1, 1000) == 1)
        #expect(poller.revents & Int16(POLLHUP) != 0)
        #expect(driver.snapshots.isEmpty)
        #expect(driver.terminalPath(forChannel: "ipu.vdev0.rpmsg-tty.-1.1024") == nil)
    }
}

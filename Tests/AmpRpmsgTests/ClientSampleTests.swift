import Synchronization
import Testing

import AmpRpmsg
import AmpWire

@Suite("ClientSampleTests")
struct ClientSampleTests {
    /// A host with the client sample driver and a remote that announces "rpmsg-client-sample" on an echo
    /// endpoint, over an in-memory link.
    struct Setup {
        let events = RpmsgEventRecorder()
        let driver = RpmsgClientSampleDriver()
        let link: InMemoryLink
        let echo: RpmsgEndpoint
        let echoed = PayloadLog()

        init(buffersPerDirection: Int = 256, sendTimeout: Duration = .seconds(15)) throws {
            let registry = RpmsgDriverRegistry(events: events)
            try registry.register(driver)
            link = InMemoryLink(
                hostName: "ipu.vdev0", hostRegistry: registry, buffersPerDirection: buffersPerDirection,
                sendTimeout: sendTimeout)
            let echoed = self.echoed
            echo = try link.remoteBus.createEndpoint { endpoint, payload, source in
                echoed.append(payload)
                try? endpoint.sendTo(source, payload)
            }
        }

        func announce() throws {
            try link.remoteBus.announce(RpmsgClientSampleDriver.channelName, from: echo, action: .create)
        }
    }

    static let deviceName = "ipu.vdev0.rpmsg-client-sample.-1.1024"

    @Test func hundredRoundTripsAgainstAnEchoRemote() throws {
        let setup = try Setup()
        try setup.announce()
        #expect(setup.driver.progress(of: Self.deviceName) == .init())
        let delivered = setup.link.deliverUntilIdle()
        #expect(delivered == 1 + 100 + 100)  // announcement, 100 hellos, 100 echoes

        let expected =
            ["new channel: 0x400 -> 0x400!"]
            + (1...100).map { "incoming msg \($0) (src: 0x400)" }
            + ["goodbye!"]
        #expect(setup.events.driverOutput == expected)
        let outputs = setup.events.events.filter { $0.kind == "driver-output" }
        #expect(
            outputs.first
                == .driverOutput(
                    driver: "rpmsg_client_sample", channel: Self.deviceName, text: "new channel: 0x400 -> 0x400!"))
        #expect(outputs.allSatisfy {
            if case .driverOutput("rpmsg_client_sample", Self.deviceName, _) = $0 { true } else { false }
        })

        let progress = setup.driver.progress(of: Self.deviceName)
        #expect(progress.received == 100)
        #expect(progress.sent == 100)
        #expect(progress.isComplete)
        #expect(setup.driver.receivedCount == 100)
        #expect(setup.driver.isComplete)

        let payloads = setup.echoed.all
        #expect(payloads.count == 100)
        #expect(payloads.allSatisfy { $0 == hexBytes("68656c6c6f20776f726c6421") })  // "hello world!", no NUL
        #expect(setup.echo.counters.rxMessages == 100)
        #expect(setup.echo.counters.rxBytes == 1200)
        #expect(setup.echo.counters.txMessages == 101)  // the announcement went from it too

        let channel = try #require(setup.link.hostBus.channels.first)
        #expect(channel.endpoint?.counters.rxMessages == 100)
        #expect(channel.endpoint?.counters.txMessages == 100)
        #expect(setup.link.hostBus.counters.rxMessages == 101)  // the announcement too
        #expect(setup.link.hostBus.counters.txMessages == 100)
        #expect(setup.link.hostBus.counters.droppedNoRecipient == 0)
        #expect(setup.link.remoteBus.counters.droppedNoRecipient == 0)
    }

    @Test func notCompleteBeforeTheHundredthMessage() throws {
        let setup = try Setup()
        try setup.announce()
        #expect(!setup.driver.isComplete)  // nothing probed yet
        for _ in 0..<20 { setup.link.deliverPending() }
        // Pass 1 delivers the announcement (probe sends hello); then each pair of passes is one round trip.
        let progress = setup.driver.progress(of: Self.deviceName)
        #expect(progress.received == 9)
        #expect(progress.sent == 10)
        #expect(!progress.isComplete)
        #expect(!setup.driver.isComplete)
        #expect(setup.events.driverOutput.last == "incoming msg 9 (src: 0x400)")
    }

    @Test func messagesAfterTheLimitOnlySayGoodbye() throws {
        let setup = try Setup()
        try setup.announce()
        setup.link.deliverUntilIdle()
        try setup.echo.sendTo(1024, Array("extra".utf8))
        setup.link.deliverUntilIdle()
        #expect(setup.events.driverOutput.suffix(2) == ["incoming msg 101 (src: 0x400)", "goodbye!"])
        #expect(setup.driver.progress(of: Self.deviceName).sent == 100)
        #expect(setup.link.pendingToRemote == 0)
    }

    @Test func removeIsReportedWhenTheLinkGoesDown() throws {
        let setup = try Setup()
        try setup.announce()
        setup.link.deliverUntilIdle()
        setup.link.hostBus.linkDown()
        #expect(setup.events.driverOutput.last == "rpmsg sample client driver is removed")
        // Progress stays readable after the channel is gone.
        #expect(setup.driver.progress(of: Self.deviceName).received == 100)
    }

    @Test func failedHelloFailsTheProbe() throws {
        let setup = try Setup(buffersPerDirection: 1, sendTimeout: .milliseconds(20))
        try setup.announce()
        // Occupy the host's only TX buffer, so the probe's hello cannot be sent.
        let blocker = try setup.link.hostBus.createEndpoint(address: 0x2000, callback: ignore)
        try blocker.trySendTo(0x3000, [0])
        #expect(setup.link.deliverPendingToHost() == 1)
        let channel = try #require(setup.link.hostBus.channels.first)
        #expect(!channel.isBound)
        #expect(setup.link.hostBus.endpointAddresses == [53, 0x2000])
        #expect(setup.events.driverOutput.count == 2)
        #expect(setup.events.driverOutput.last?.hasPrefix("rpmsg_send failed: timedOut: ") == true)
        guard case .probeFailed(let driver, let device, let error) = setup.events.events.last else {
            Issue.record("no probe failure reported")
            return
        }
        #expect(driver == "rpmsg_client_sample")
        #expect(device == Self.deviceName)
        #expect(error.code == .timedOut)
    }
}

/// Payloads in arrival order.
final class PayloadLog: Sendable {
    private let payloads = Mutex<[[UInt8]]>([])
    func append(_ payload: [UInt8]) { payloads.withLock { $0.append(payload) } }
    var all: [[UInt8]] { payloads.withLock { $0 } }
}

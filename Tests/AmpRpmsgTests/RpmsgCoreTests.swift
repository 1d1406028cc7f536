import Foundation
import Synchronization
import Testing

import AmpRpmsg
import AmpWire

@Suite("RpmsgCoreTests")
struct RpmsgCoreTests {
    // MARK: Addresses

    @Test func dynamicAddressesStartAt1024AndAreReused() throws {
        let test = TestBus()
        let first = try test.bus.createEndpoint(callback: ignore)
        let second = try test.bus.createEndpoint(callback: ignore)
        let third = try test.bus.createEndpoint(callback: ignore)
        #expect([first.address, second.address, third.address] == [1024, 1025, 1026])
        #expect(test.bus.endpointAddresses == [53, 1024, 1025, 1026])

        second.destroy()
        #expect(second.isDestroyed)
        #expect(test.bus.endpoint(at: 1025) == nil)
        #expect(try test.bus.createEndpoint(callback: ignore).address == 1025)
        #expect(try test.bus.createEndpoint(callback: ignore).address == 1027)

        first.destroy()
        first.destroy()  // idempotent
        #expect(try test.bus.createEndpoint(callback: ignore).address == 1024)
    }

    @Test func fixedAddressesMustBeFree() throws {
        let test = TestBus()
        let fixed = try test.bus.createEndpoint(address: 2000, callback: ignore)
        #expect(fixed.address == 2000)
        #expect(test.bus.endpoint(at: 2000) === fixed)
        #expect(throws: RpmsgError.self) { try test.bus.createEndpoint(address: 2000, callback: ignore) }
        do {
            _ = try test.bus.createEndpoint(address: 2000, callback: ignore)
            Issue.record("a second endpoint at 2000 was created")
        } catch {
            #expect(error.code == .addressInUse)
        }
        // The name service holds 53.
        #expect(RpmsgCoreTests.errorCode { try test.bus.createEndpoint(address: 53, callback: ignore) } == .addressInUse)
        // Reserved addresses can be had explicitly, never through ANY.
        #expect(try test.bus.createEndpoint(address: 100, callback: ignore).address == 100)
        _ = try test.bus.createEndpoint(address: 1024, callback: ignore)
        #expect(try test.bus.createEndpoint(callback: ignore).address == 1025)
        #expect(test.bus.endpointAddresses == [53, 100, 1024, 1025, 2000])

        fixed.destroy()
        #expect(try test.bus.createEndpoint(address: 2000, callback: ignore).address == 2000)
    }

    @Test func withoutNameServiceNothingIsBoundAt53() throws {
        let test = TestBus(nameService: false)
        #expect(test.bus.endpointAddresses == [])
        #expect(try test.bus.createEndpoint(address: 53, callback: ignore).address == 53)
    }

    // MARK: Sending

    @Test func everySendVariantPassesAddressesAndWait() throws {
        let test = TestBus()
        let endpoint = try test.bus.createEndpoint(destination: 0x400, callback: ignore)
        try endpoint.send([1])
        try endpoint.sendTo(0x401, [2, 2])
        try endpoint.sendOffchannel(source: 0x500, destination: 0x402, [3, 3, 3])
        try endpoint.trySend([4])
        try endpoint.trySendTo(0x403, [5])
        try endpoint.trySendOffchannel(source: 0x501, destination: 0x404, [6])
        let fifteen = Duration.seconds(15)
        #expect(
            test.transport.sent == [
                .init(source: 1024, destination: 0x400, payload: [1], wait: fifteen),
                .init(source: 1024, destination: 0x401, payload: [2, 2], wait: fifteen),
                .init(source: 0x500, destination: 0x402, payload: [3, 3, 3], wait: fifteen),
                .init(source: 1024, destination: 0x400, payload: [4], wait: nil),
                .init(source: 1024, destination: 0x403, payload: [5], wait: nil),
                .init(source: 0x501, destination: 0x404, payload: [6], wait: nil),
            ])
        #expect(
            endpoint.counters
                == { var c = RpmsgEndpointCounters(); c.txMessages = 6; c.txBytes = 9; return c }())
        #expect(test.bus.counters.txMessages == 6)
        #expect(test.bus.counters.txBytes == 9)
        #expect(test.registry.totals.txMessages == 6)
    }

    @Test func sendTimeoutIsConfigurable() throws {
        let transport = RecordingTransport()
        let bus = RpmsgBus(transport: transport, sendTimeout: .milliseconds(250))
        #expect(bus.sendTimeout == .milliseconds(250))
        try bus.createEndpoint(destination: 7, callback: ignore).send([0])
        #expect(transport.sent.map(\.wait) == [.milliseconds(250)])
        #expect(RpmsgBus(transport: transport).sendTimeout == .seconds(15))
    }

    @Test func anyAddressIsInvalid() throws {
        let test = TestBus()
        let unaddressed = try test.bus.createEndpoint(callback: ignore)
        #expect(RpmsgCoreTests.errorCode { try unaddressed.send([1]) } == .invalidArgument)
        #expect(RpmsgCoreTests.errorCode { try unaddressed.trySend([1]) } == .invalidArgument)
        #expect(RpmsgCoreTests.errorCode { try unaddressed.sendTo(any, [1]) } == .invalidArgument)
        #expect(RpmsgCoreTests.errorCode { try unaddressed.trySendTo(any, [1]) } == .invalidArgument)
        #expect(RpmsgCoreTests.errorCode { try unaddressed.sendOffchannel(source: any, destination: 5, [1]) } == .invalidArgument)
        #expect(RpmsgCoreTests.errorCode { try unaddressed.trySendOffchannel(source: 5, destination: any, [1]) } == .invalidArgument)
        #expect(test.transport.sent.isEmpty)
        #expect(unaddressed.counters.txMessages == 0)
        #expect(test.bus.counters.txMessages == 0)
    }

    @Test func payloadBeyondMTUIsTooLarge() throws {
        let test = TestBus()
        let endpoint = try test.bus.createEndpoint(destination: 0x400, callback: ignore)
        #expect(endpoint.mtu == 496)
        #expect(test.bus.mtu == 496)
        try endpoint.send([UInt8](repeating: 0xAB, count: 496))
        #expect(RpmsgCoreTests.errorCode { try endpoint.send([UInt8](repeating: 0, count: 497)) } == .messageTooLarge)
        #expect(RpmsgCoreTests.errorCode { try endpoint.trySendTo(9, [UInt8](repeating: 0, count: 497)) } == .messageTooLarge)
        #expect(test.transport.sent.map(\.payload.count) == [496])

        let small = TestBus(mtu: 100)
        let other = try small.bus.createEndpoint(destination: 1, callback: ignore)
        #expect(other.mtu == 100)
        try other.send([UInt8](repeating: 1, count: 100))
        #expect(RpmsgCoreTests.errorCode { try other.send([UInt8](repeating: 1, count: 101)) } == .messageTooLarge)
    }

    @Test func invalidAddressIsCheckedBeforeSize() throws {
        let test = TestBus()
        let endpoint = try test.bus.createEndpoint(callback: ignore)
        #expect(RpmsgCoreTests.errorCode { try endpoint.send([UInt8](repeating: 0, count: 600)) } == .invalidArgument)
    }

    @Test func destroyedEndpointAndDownLinkFailWithNoDevice() throws {
        let test = TestBus()
        let endpoint = try test.bus.createEndpoint(destination: 0x400, callback: ignore)
        let survivor = try test.bus.createEndpoint(destination: 0x400, callback: ignore)
        endpoint.destroy()
        #expect(RpmsgCoreTests.errorCode { try endpoint.send([1]) } == .noDevice)
        #expect(RpmsgCoreTests.errorCode { try endpoint.trySendOffchannel(source: 1, destination: 2, [1]) } == .noDevice)
        #expect(RpmsgCoreTests.errorCode { try endpoint.poll() } == .noDevice)

        test.bus.linkDown()
        #expect(!test.bus.isUp)
        #expect(survivor.isDestroyed)
        #expect(RpmsgCoreTests.errorCode { try survivor.send([1]) } == .noDevice)
        #expect(RpmsgCoreTests.errorCode { try test.bus.createEndpoint(callback: ignore) } == .noDevice)
        #expect(test.bus.endpointAddresses == [])
        #expect(test.transport.sent.isEmpty)
        #expect(test.events.events == [.linkDown(link: "test.vdev0")])
        test.bus.linkDown()  // idempotent
        #expect(test.events.events.count == 1)
    }

    @Test func transportErrorsPropagateAndAreNotCounted() throws {
        let test = TestBus()
        let endpoint = try test.bus.createEndpoint(destination: 0x400, callback: ignore)
        test.transport.failSends(with: RpmsgError(.noBuffer, "full"))
        #expect(RpmsgCoreTests.errorCode { try endpoint.trySend([1]) } == .noBuffer)
        test.transport.failSends(with: RpmsgError(.timedOut, "slow"))
        #expect(RpmsgCoreTests.errorCode { try endpoint.send([1]) } == .timedOut)
        #expect(endpoint.counters.txMessages == 0)
        #expect(test.bus.counters.txMessages == 0)
    }

    @Test func pollIsNotSupportedByDefault() throws {
        let test = TestBus()
        let endpoint = try test.bus.createEndpoint(callback: ignore)
        #expect(RpmsgCoreTests.errorCode { try endpoint.poll() } == .notSupported)
    }

    // MARK: Receiving

    @Test func inboundMessagesReachTheirEndpoint() throws {
        let test = TestBus()
        let received = Mutex<[String]>([])
        let endpoint = try test.bus.createEndpoint { endpoint, payload, source in
            received.withLock { $0.append("\(endpoint.address) \(source) \(payload)") }
        }
        test.bus.receive(source: 0x400, destination: 1024, payload: [1, 2, 3])
        test.bus.receive(source: 0x401, destination: 1024, payload: [])
        #expect(received.withLock { $0 } == ["1024 1024 [1, 2, 3]", "1024 1025 []"])
        #expect(endpoint.counters.rxMessages == 2)
        #expect(endpoint.counters.rxBytes == 3)
        #expect(test.bus.counters.rxMessages == 2)
        #expect(test.bus.counters.rxBytes == 3)
        #expect(test.bus.counters.droppedNoRecipient == 0)
    }

    @Test func unknownDestinationIsCountedAndReported() throws {
        let test = TestBus()
        let other = RpmsgBus(transport: RecordingTransport(name: "other.vdev0"), registry: test.registry)
        test.bus.receive(source: 0x400, destination: 4242, payload: [9, 9])
        let endpoint = try test.bus.createEndpoint(callback: ignore)
        endpoint.destroy()
        test.bus.receive(source: 0x401, destination: endpoint.address, payload: [])
        other.receive(source: 1, destination: 2, payload: [7])

        #expect(test.bus.counters.droppedNoRecipient == 2)
        #expect(test.bus.counters.rxMessages == 2)
        #expect(other.counters.droppedNoRecipient == 1)
        #expect(test.registry.totals.droppedNoRecipient == 3)
        #expect(test.registry.totals.rxMessages == 3)
        #expect(
            test.events.events == [
                .droppedNoRecipient(link: "test.vdev0", source: 0x400, destination: 4242, length: 2),
                .droppedNoRecipient(link: "test.vdev0", source: 0x401, destination: 1024, length: 0),
                .droppedNoRecipient(link: "other.vdev0", source: 1, destination: 2, length: 1),
            ])
        #expect(test.events.events[0].text == "test.vdev0: msg received with no recipient: 2 bytes 0x400 -> 0x1092")
        #expect(test.events.events[0].kind == "dropped-no-recipient")
    }

    @Test func invalidInboundFramesAreCountedAndReported() {
        let test = TestBus()
        test.bus.reportInvalidInbound("used len 600 exceeds the 512-byte buffer")
        #expect(test.bus.counters.invalidInbound == 1)
        #expect(test.registry.totals.invalidInbound == 1)
        #expect(
            test.events.events == [
                .invalidInbound(link: "test.vdev0", reason: "used len 600 exceeds the 512-byte buffer")
            ])
    }

    @Test func callbackMaySendAndDestroyItsOwnEndpoint() throws {
        let test = TestBus()
        let endpoint = try test.bus.createEndpoint { endpoint, payload, source in
            try? endpoint.sendTo(source, payload)
            endpoint.destroy()
        }
        test.bus.receive(source: 0x400, destination: endpoint.address, payload: [1])
        test.bus.receive(source: 0x400, destination: endpoint.address, payload: [2])
        #expect(test.transport.sent == [.init(source: 1024, destination: 0x400, payload: [1], wait: .seconds(15))])
        #expect(endpoint.isDestroyed)
        #expect(test.bus.counters.droppedNoRecipient == 1)
    }

    @Test func callbackMayCreateEndpoints() throws {
        let test = TestBus()
        let created = Mutex<[UInt32]>([])
        let endpoint = try test.bus.createEndpoint { [bus = test.bus] _, _, _ in
            if let new = try? bus.createEndpoint(callback: ignore) { created.withLock { $0.append(new.address) } }
        }
        test.bus.receive(source: 1, destination: endpoint.address, payload: [])
        test.bus.receive(source: 1, destination: endpoint.address, payload: [])
        #expect(created.withLock { $0 } == [1025, 1026])
    }

    // MARK: In-memory transport

    @Test func inMemoryLinkCarriesMessagesBothWays() throws {
        let link = InMemoryLink(byteOrder: .big)
        let remoteGot = Mutex<[String]>([])
        let echo = try link.remoteBus.createEndpoint(address: 0x800) { endpoint, payload, source in
            remoteGot.withLock { $0.append("\(source): \(payload)") }
            try? endpoint.sendTo(source, payload.reversed())
        }
        let hostGot = Mutex<[String]>([])
        let host = try link.hostBus.createEndpoint(destination: echo.address) { _, payload, source in
            hostGot.withLock { $0.append("\(source): \(payload)") }
        }
        try host.send([1, 2, 3])
        #expect(link.pendingToRemote == 1)
        #expect(remoteGot.withLock { $0 }.isEmpty)  // nothing moves before delivery
        #expect(link.deliverPending() == 1)
        #expect(link.pendingToHost == 1)
        #expect(hostGot.withLock { $0 }.isEmpty)  // the answer waits for the next pass
        #expect(link.deliverUntilIdle() == 1)
        #expect(remoteGot.withLock { $0 } == ["1024: [1, 2, 3]"])
        #expect(hostGot.withLock { $0 } == ["2048: [3, 2, 1]"])
        #expect(link.hostTransport.byteOrder == .big)
    }

    @Test func inMemoryTrySendFailsWhenBuffersAreExhausted() throws {
        let link = InMemoryLink(buffersPerDirection: 2)
        let endpoint = try link.hostBus.createEndpoint(destination: 0x400, callback: ignore)
        #expect(link.hostTransport.bufferCount == 2)
        #expect(try endpoint.poll() == .writable)
        try endpoint.trySend([1])
        try endpoint.trySend([2])
        #expect(try endpoint.poll() == [])
        #expect(RpmsgCoreTests.errorCode { try endpoint.trySend([3]) } == .noBuffer)
        #expect(RpmsgCoreTests.errorCode { try endpoint.trySendTo(5, [3]) } == .noBuffer)
        #expect(RpmsgCoreTests.errorCode { try endpoint.trySendOffchannel(source: 6, destination: 5, [3]) } == .noBuffer)
        link.deliverPending()
        #expect(link.remoteBus.counters.droppedNoRecipient == 2)
        try endpoint.trySend([4])
        #expect(endpoint.counters.txMessages == 3)
    }

    @Test func inMemoryBlockingSendTimesOut() throws {
        let link = InMemoryLink(buffersPerDirection: 1, sendTimeout: .milliseconds(80))
        let endpoint = try link.hostBus.createEndpoint(destination: 0x400, callback: ignore)
        try endpoint.send([1])
        let start = ContinuousClock.now
        #expect(RpmsgCoreTests.errorCode { try endpoint.send([2]) } == .timedOut)
        #expect(ContinuousClock.now - start >= .milliseconds(80))
        #expect(link.pendingToRemote == 1)
    }

    @Test func inMemoryBlockingSendWaitsForADelivery() throws {
        let link = InMemoryLink(buffersPerDirection: 1, sendTimeout: .seconds(10))
        let endpoint = try link.hostBus.createEndpoint(destination: 0x400, callback: ignore)
        try endpoint.send([1])
        let deliverer = Thread {
            Thread.sleep(forTimeInterval: 0.05)
            link.deliverPending()
        }
        let start = ContinuousClock.now
        deliverer.start()
        try endpoint.send([2])
        #expect(ContinuousClock.now - start >= .milliseconds(50))
        #expect(ContinuousClock.now - start < .seconds(10))
        #expect(link.pendingToRemote == 1)
        #expect(endpoint.counters.txMessages == 2)
    }

    @Test func inMemoryDisconnectWakesBlockedSenders() throws {
        let link = InMemoryLink(buffersPerDirection: 1, sendTimeout: .seconds(10))
        let endpoint = try link.hostBus.createEndpoint(destination: 0x400, callback: ignore)
        try endpoint.send([1])
        let cutter = Thread {
            Thread.sleep(forTimeInterval: 0.05)
            link.disconnect()
        }
        cutter.start()
        let start = ContinuousClock.now
        #expect(RpmsgCoreTests.errorCode { try endpoint.send([2]) } == .noDevice)
        #expect(ContinuousClock.now - start < .seconds(10))
        #expect(link.pendingToRemote == 0)
        #expect(link.deliverPending() == 0)
    }

    // MARK: Helpers

    /// The code of the RpmsgError `body` throws; nil when it throws nothing (or another error).
    static func errorCode<T>(_ body: () throws -> T) -> RpmsgError.Code? {
        do {
            _ = try body()
            return nil
        } catch let error as RpmsgError {
            return error.code
        } catch {
            return nil
        }
    }
}

// Channel discovery, the handshake, messages both ways through small FIFOs (wrap-around) in both info
// layouts, back-pressure and the routing of replies, over a real segment with the remote on its own thread.

import AmpRpmsg
import AmpRpmsgSMD
import AmpSMD
import AmpSystem
import AmpTestSupport
import AmpWire
import Foundation
import Synchronization
import Testing

@Suite("SmdRpmsgTrafficTests")
struct SmdRpmsgTrafficTests {
    @Test(arguments: SmdInfoLayout.allCases)
    func discoveredChannelOpensAndItsDriverProbes(layout: SmdInfoLayout) throws {
        let driver = RecordingDriver(serving: ["smd-echo"])
        let fixture = try SmdLinkFixture(drivers: [driver])
        defer { fixture.finish() }
        try fixture.remote.announce("smd-echo", table: 1, cid: 5, fifoSize: 128, layout: layout)

        #expect(eventually { driver.probes == ["smd-echo"] })
        let channel = try #require(fixture.bus.channel(named: "smd-echo"))
        #expect(channel.destination == 0x4045)  // 0x4000 + 1 * 64 + 5
        #expect(channel.source == RpmsgConstants.addressAny)
        #expect(channel.deviceName == "test.smd.smd-echo.-1.16453")
        #expect(channel.isBound)

        let status = try fixture.status("smd-echo")
        #expect(status.table == 1 && status.cid == 5 && status.address == 0x4045)
        #expect(status.layout == layout)
        #expect(status.fifoSize == 128)
        #expect(status.maximumPayload == (layout == .byte ? 107 : 104))
        #expect(status.phase == .open)
        #expect(status.localState == .opened)
        #expect(status.remoteState == .opened)
        #expect([status.txHead, status.txTail, status.rxHead, status.rxTail] == [0, 0, 0, 0])
        #expect(status.rpmsgDevice == "test.smd.smd-echo.-1.16453")
        #expect(fixture.link.mtu == status.maximumPayload)
        #expect(fixture.link.counters.channelsOpened == 1)
        #expect(fixture.link.failure == nil)
        #expect(fixture.events.events.contains(.channelCreated(channel.info)))
    }

    @Test(arguments: SmdInfoLayout.allCases)
    func messagesFlowBothWaysAcrossTheWrap(layout: SmdInfoLayout) throws {
        let driver = RecordingDriver(serving: ["stream"])
        let fixture = try SmdLinkFixture(drivers: [driver])
        defer { fixture.finish() }
        try fixture.remote.announce("stream", cid: 2, fifoSize: 128, layout: layout)
        #expect(eventually { driver.channel != nil })
        let channel = try #require(driver.channel)

        // 40 packets of 24 to 100 bytes through a 128-byte FIFO: the ring wraps many times.
        let outbound = (0..<40).map { pattern(4 * (5 + $0 % 21), start: UInt8($0)) }
        for payload in outbound { try channel.send(payload) }
        #expect(eventually { fixture.remote.received("stream").count == outbound.count })
        #expect(fixture.remote.received("stream") == outbound)

        let inbound = (0..<40).map { pattern(4 * (1 + $0 % 26), start: UInt8(100 + $0)) }
        try fixture.remote.send(inbound, on: "stream")
        #expect(eventually { driver.messages.count == inbound.count })
        #expect(driver.payloads == inbound)
        #expect(driver.messages.allSatisfy { $0.source == 0x4002 })

        let counters = fixture.link.counters
        #expect(counters.transmitted == 40)
        #expect(counters.transmittedBytes == UInt64(outbound.reduce(0) { $0 + $1.count }))
        #expect(counters.received == 40)
        #expect(counters.receivedBytes == UInt64(inbound.reduce(0) { $0 + $1.count }))
        #expect(fixture.bus.counters.rxMessages == 40)
        #expect(fixture.bus.counters.txMessages == 40)
        #expect(fixture.remote.errors.isEmpty)
        #expect(fixture.link.failure == nil)

        // Beyond the channel's FIFO: EMSGSIZE; a word channel takes only multiples of 4.
        let status = try fixture.status("stream")
        #expect(throws: RpmsgError.self) { try channel.send(pattern(status.maximumPayload + 1)) }
        #expect(thrownCode { try fixture.link.send(source: 1024, destination: 0x4002, payload: pattern(status.maximumPayload + 4), wait: nil) } == .messageTooLarge)
        if layout == .word {
            #expect(thrownCode { try channel.send(pattern(6)) } == .invalidArgument)
        }
    }

    @Test func fullFifoBlocksTimesOutOrFailsAtOnce() throws {
        let driver = RecordingDriver(serving: ["slow"])
        let fixture = try SmdLinkFixture(drivers: [driver])
        defer { fixture.finish() }
        try fixture.remote.announce("slow", fifoSize: 128)
        #expect(eventually { driver.channel != nil })
        let channel = try #require(driver.channel)
        fixture.remote.accepting.store(false, ordering: .releasing)

        // 127 bytes of room: three 40-byte packets (20-byte header + 20) fit, the fourth does not, whether or
        // not the refusing remote has consumed the first header (then 27 bytes are free).
        let payloads = (0..<6).map { pattern(20, start: UInt8($0 * 20)) }
        for payload in payloads[0..<3] { try channel.trySend(payload) }
        #expect(thrownCode { try channel.trySend(payloads[3]) } == .noBuffer)
        #expect(thrownCode { try fixture.link.send(source: channel.localAddress, destination: 0x4000, payload: payloads[4], wait: .milliseconds(200)) } == .timedOut)
        // A blocking send with no time to wait still counts as blocked, and times out at once.
        #expect(thrownCode { try fixture.link.send(source: channel.localAddress, destination: 0x4000, payload: payloads[4], wait: .zero) } == .timedOut)

        let outcome = SendOutcome()
        let done = DispatchSemaphore(value: 0)
        let blocked = payloads[5]
        Thread {
            do throws(RpmsgError) {
                try channel.send(blocked)
                outcome.record(nil)
            } catch {
                outcome.record(error)
            }
            done.signal()
        }.start()
        usleep(100_000)
        #expect(outcome.result == nil, "the send must wait while the remote refuses")
        fixture.remote.accepting.store(true, ordering: .releasing)
        try fixture.remote.toRemote.wake()
        #expect(done.wait(timeout: .now() + 10) == .success)
        #expect(outcome.result == .some(nil))
        #expect(eventually { fixture.remote.received("slow").count == 4 })
        #expect(fixture.remote.received("slow") == [payloads[0], payloads[1], payloads[2], payloads[5]])

        let counters = fixture.link.counters
        #expect(counters.transmitted == 4)
        #expect(counters.noBuffer == 1)
        #expect(counters.blockedSends == 3)
        #expect(counters.sendTimeouts == 2)
    }

    @Test func aFreshEndpointGetsTheReplyThenTheChannelEndpointAgain() throws {
        let fixture = try SmdLinkFixture()
        defer { fixture.finish() }
        try fixture.remote.echo("svc")
        try fixture.remote.announce("svc", table: 0, cid: 9, fifoSize: 256)
        // No driver serves the channel: it appears on the bus all the same (`ampsoc call` talks to it).
        #expect(eventually { fixture.bus.channel(named: "svc") != nil })
        let channel = try #require(fixture.bus.channel(named: "svc"))
        #expect(channel.destination == 0x4009)

        let first = Inbox()
        let second = Inbox()
        let endpointA = try fixture.bus.createEndpoint(destination: channel.destination, callback: first.callback)
        let endpointB = try fixture.bus.createEndpoint(destination: channel.destination, callback: second.callback)
        try endpointA.send(Array("ping".utf8))
        #expect(eventually { first.count == 1 })
        #expect(first.all.first?.source == 0x4009)
        try endpointB.send(Array("pong".utf8))
        #expect(eventually { second.count == 1 })
        #expect(first.payloads == [Array("ping".utf8)])
        #expect(second.payloads == [Array("pong".utf8)])
        #expect(try endpointB.poll() == .writable)

        // A driver registered now binds to the channel; with the last sender gone, inbound goes to it.
        let driver = RecordingDriver(serving: ["svc"])
        try fixture.registry.register(driver)
        #expect(driver.probes == ["svc"])
        endpointA.destroy()
        endpointB.destroy()
        try fixture.remote.send([Array("unsolicited".utf8)], on: "svc")
        #expect(eventually { driver.messages.count == 1 })
        #expect(driver.messages.first?.payload == Array("unsolicited".utf8))
        #expect(driver.messages.first?.source == 0x4009)
        #expect(fixture.bus.counters.droppedNoRecipient == 0)
    }

    @Test func aDriverAnsweringFromItsCallbackKeepsUpWithAFlood() throws {
        let driver = RecordingDriver(serving: ["flood"], answers: true)
        let fixture = try SmdLinkFixture(drivers: [driver])
        defer { fixture.finish() }
        try fixture.remote.announce("flood", fifoSize: 128)
        #expect(eventually { driver.channel != nil })

        // Each answer is sent on the service thread. While the remote refuses, the first answer (80 bytes)
        // fits the 128-byte FIFO, the second blocks the service thread, which keeps pulling the remote's
        // packets into its inbox meanwhile (the remote is not stuck behind a full FIFO of its own).
        fixture.remote.accepting.store(false, ordering: .releasing)
        let inbound = (0..<60).map { pattern(60, start: UInt8($0)) }
        try fixture.remote.send(inbound, on: "flood")
        #expect(eventually { fixture.link.counters.received >= 4 })
        #expect(driver.messages.count == 2)
        #expect(fixture.link.counters.blockedSends == 1)
        #expect(fixture.remote.received("flood").isEmpty)
        fixture.remote.accepting.store(true, ordering: .releasing)
        try fixture.remote.toRemote.wake()
        #expect(eventually(timeout: .seconds(30)) { fixture.remote.received("flood").count == inbound.count })
        #expect(fixture.remote.received("flood") == inbound.map { Array($0.reversed()) })
        #expect(driver.payloads == inbound)
        #expect(driver.answerErrors.isEmpty)
    }
}

/// How a send on another thread ended: nil while it runs, then .some(nil) for success or the error.
final class SendOutcome: Sendable {
    private let state = Mutex<RpmsgError??>(nil)
    var result: RpmsgError?? { state.withLock { $0 } }
    func record(_ error: RpmsgError?) { state.withLock { $0 = .some(error) } }
}

/// The code of the RpmsgError `body` throws (nil when it does not throw one).
func thrownCode(_ body: () throws -> Void) -> RpmsgError.Code? {
    do {
        try body()
        return nil
    } catch let error as RpmsgError {
        return error.code
    } catch {
        return nil
    }
}

import AmpRpmsg
import AmpRpmsgVirtio
import AmpSystem
import AmpTestSupport
import AmpVirtio
import AmpWire
import Foundation
import Synchronization
import Testing

/// Messages both ways over real rings, with the service thread running: delivery, buffer recycling, the
/// name service with the client-sample driver, blocking and non-blocking sends.
@Suite struct VirtioRpmsgTrafficTests {
    @Test(arguments: [UInt32(1), UInt32(1 | 1 << 29)])
    func messagesFromTheRemoteReachTheirEndpointAndBuffersComeBack(dfeatures: UInt32) throws {
        let fixture = try LinkFixture(dfeatures: dfeatures)
        defer { fixture.finish() }
        let inbox = Inbox()
        _ = try fixture.bus.createEndpoint(address: 1024, callback: inbox.callback)
        // Three times more messages than receive buffers: each buffer must come back to the remote.
        for index in 0..<24 {
            let sent = try eventually {
                try fixture.remote.send(source: 0x401, destination: 1024, payload: Array("ping \(index)".utf8))
            }
            #expect(sent, "buffer \(index) never came back")
        }
        #expect(eventually { inbox.count == 24 })
        #expect(inbox.all.map { String(decoding: $0.payload, as: UTF8.self) } == (0..<24).map { "ping \($0)" })
        #expect(inbox.all.allSatisfy { $0.source == 0x401 })
        #expect(eventually { fixture.link.counters.received == 24 })
        #expect(fixture.link.postedReceiveBuffers == 8)
        #expect(fixture.link.failure == nil)
        #expect(fixture.bus.counters.rxMessages == 24)
    }

    @Test func messagesAreLentInPlaceAndTheirBuffersGoBackInBatches() throws {
        // 64 receive buffers: a pass takes at most 8 messages, and lent buffers go back 8 at a time.
        let fixture = try LinkFixture(startThread: false, num: TestSegmentLayout.wideNum)
        defer { fixture.finish() }
        let seen = StringLog()
        let link = fixture.link
        let base = UInt(bitPattern: fixture.segment.base)
        _ = try fixture.bus.createBorrowingEndpoint(address: 1024) { _, payload, _ in
            let offset = UInt(bitPattern: payload.baseAddress) &- base
            let buffers = link.receiveBuffers
            seen.append("\(String(decoding: payload, as: UTF8.self)) at 0x\(String(offset, radix: 16)) "
                + "posted \(buffers.posted) held \(buffers.held)")
        }
        for index in 0..<20 {
            #expect(try fixture.remote.send(source: 0x401, destination: 1024, payload: Array("m\(index)".utf8)))
        }
        fixture.thread.start()
        #expect(eventually { seen.all.count == 20 })
        let pool = fixture.link.layout.pool.segmentOffset
        let expected = (0..<20).map { index in
            let held = index < 16 ? 8 : 4
            return "m\(index) at 0x\(String(pool + index * 512 + 16, radix: 16)) posted \(64 - held) held \(held)"
        }
        #expect(seen.all == expected)
        // Once the service thread is idle, every buffer is posted again.
        #expect(eventually { fixture.link.receiveBuffers == (64, 0) })
        #expect(fixture.link.postedReceiveBuffers == 64)
        #expect(fixture.link.failure == nil)
        // And the remote can use all of them again.
        for index in 0..<64 {
            #expect(try fixture.remote.send(source: 0x401, destination: 1024, payload: Array("n\(index)".utf8)))
        }
        #expect(eventually { seen.all.count == 84 })
    }

    @Test func hostMessagesAreOneReadableDescriptorOfHeaderPlusPayload() throws {
        let fixture = try LinkFixture()
        defer { fixture.finish() }
        let endpoint = try fixture.bus.createEndpoint(address: 1024, destination: 0x401) { _, _, _ in }
        try endpoint.send(Array("hello".utf8))
        // The kick for vring1 (notify id 1) follows vring0's from the probe.
        #expect(fixture.remote.toRemote.takePending() == 0b11)
        let buffer = try #require(try fixture.remote.receiveQueue.takeAvailable())
        #expect(!buffer.isDeviceWritable)
        #expect(buffer.length == 21)
        #expect(buffer.address == 0x9F00_6000)  // the first transmit buffer: pool index 8
        let bytes = Array(UnsafeRawBufferPointer(start: buffer.pointer, count: 21))
        var expected = ByteWriter(count: 21, order: .host)
        expected.put(UInt32(1024), at: 0)
        expected.put(UInt32(0x401), at: 4)
        expected.put(UInt16(5), at: 12)
        expected.put(bytes: Array("hello".utf8), at: 16)
        #expect(bytes == expected.bytes)
    }

    @Test func nameServiceCreatesTheChannelAndTheClientSampleCompletes() throws {
        let driver = RpmsgClientSampleDriver()
        let fixture = try LinkFixture(drivers: [driver])
        try fixture.remote.send(
            source: 0x401, destination: 53, payload: nameServiceMessage("rpmsg-client-sample", address: 0x401))
        var echoed = 0
        let completed = try eventually(timeout: .seconds(30)) {
            for message in try fixture.remote.receive() {
                #expect(message.source == 1024)
                #expect(message.destination == 0x401)
                #expect(message.payload == Array("hello world!".utf8))
                let answered = try eventually {
                    try fixture.remote.send(source: 0x401, destination: message.source, payload: message.payload)
                }
                #expect(answered)
                echoed += 1
            }
            return driver.isComplete
        }
        #expect(completed)
        #expect(echoed == 100)
        // The channel's endpoint takes the first free dynamic address (1024).
        let channel = try #require(fixture.bus.channel(named: "rpmsg-client-sample"))
        #expect(channel.localAddress == 1024)
        #expect(channel.destination == 0x401)
        let progress = driver.progress(of: channel.deviceName)
        #expect(progress == RpmsgClientSampleDriver.Progress(received: 100, sent: 100, isComplete: true))
        let output = fixture.events.driverOutput
        #expect(output.first == "new channel: 0x400 -> 0x401!")
        #expect(output.last == "goodbye!")
        #expect(output.filter { $0.hasPrefix("incoming msg ") }.count == 100)
        let info = RpmsgChannelInfo(
            link: "test.vdev0", name: "rpmsg-client-sample", source: RpmsgConstants.addressAny, destination: 0x401)
        #expect(fixture.events.events.first == .channelCreated(info))

        fixture.finish()
        #expect(fixture.events.driverOutput.last == "rpmsg sample client driver is removed")
        #expect(fixture.events.events.contains(.channelDestroyed(info)))
        #expect(fixture.link.failure == nil)
    }

    @Test func trySendFailsWithoutBufferAndBlockingSendTimesOut() throws {
        let fixture = try LinkFixture(sendTimeout: .milliseconds(30))
        defer { fixture.finish() }
        let endpoint = try fixture.bus.createEndpoint(address: 1024, destination: 0x401) { _, _, _ in }
        for index in 0..<8 { try endpoint.trySend([UInt8(index)]) }
        do {
            try endpoint.trySend([8])
            Issue.record("a ninth trySend found a buffer")
        } catch {
            #expect(error.code == .noBuffer)
            #expect(error.message == "test.vdev0: no free TX buffer (all 8 in flight)")
        }
        do {
            try endpoint.send([8])
            Issue.record("a blocking send found a buffer")
        } catch {
            #expect(error.code == .timedOut)
        }
        let counters = fixture.link.counters
        #expect(counters.transmitted == 8)
        #expect(counters.noBuffer == 1)
        #expect(counters.sendTimeouts == 1)
        #expect(counters.blockedSends == 1)
        // Callbacks on vring1 are off again once nobody waits.
        #expect(fixture.segment.base.load(fromByteOffset: 0x3080, as: UInt16.self) == 1)
    }

    @Test(arguments: [UInt32(1), UInt32(1 | 1 << 29)])
    func blockedSenderResumesWhenTheRemoteReturnsBuffers(dfeatures: UInt32) throws {
        let eventIndex = dfeatures != 1
        let fixture = try LinkFixture(dfeatures: dfeatures)
        defer { fixture.finish() }
        let link = fixture.link
        for index in 0..<8 {
            try link.send(source: 1024, destination: 0x401, payload: [UInt8(index)], wait: nil)
        }
        let result = Mutex<String?>(nil)
        let done = DispatchSemaphore(value: 0)
        Thread {
            do throws(RpmsgError) {
                try link.send(source: 1024, destination: 0x401, payload: [8], wait: .seconds(20))
                result.withLock { $0 = "sent" }
            } catch {
                result.withLock { $0 = "\(error.code): \(error.message)" }
            }
            done.signal()
        }.start()
        #expect(eventually { link.counters.blockedSends == 1 })
        // While a sender waits, vring1 callbacks are on so the remote's used-ring update interrupts the host:
        // avail.flags cleared, or with EVENT_IDX used_event = the next used index (0).
        let requestOffset = eventIndex ? 0x3000 + 16 * 8 + 4 + 2 * 8 : 0x3080
        #expect(eventually { fixture.segment.base.load(fromByteOffset: requestOffset, as: UInt16.self) == 0 })
        let first = try fixture.remote.receive()
        #expect(first.map(\.payload) == (0..<8).map { [UInt8($0)] })
        #expect(done.wait(timeout: .now() + 20) == .success)
        #expect(result.withLock { $0 } == "sent")
        let second = try fixture.remote.receive()
        #expect(second.map(\.payload) == [[8]])
        #expect(link.counters.transmitted == 9)
        // Nobody waits any more: callbacks off again (NO_INTERRUPT, or used_event behind the consumed index 8:
        // the 0 stored while waiting already is, so it is left as it is rather than rewritten).
        let request = fixture.segment.base.load(fromByteOffset: requestOffset, as: UInt16.self)
        if eventIndex {
            #expect(VringIndex.isSuppressedBehind(event: request, index: 8), "used_event \(request)")
        } else {
            #expect(request == 1)
        }
    }

    @Test func closingTheLinkReleasesABlockedSender() throws {
        let fixture = try LinkFixture()
        let link = fixture.link
        for index in 0..<8 {
            try link.send(source: 1024, destination: 0x401, payload: [UInt8(index)], wait: nil)
        }
        let outcome = Mutex<RpmsgError?>(nil)
        let done = DispatchSemaphore(value: 0)
        Thread {
            do throws(RpmsgError) {
                try link.send(source: 1024, destination: 0x401, payload: [8], wait: .seconds(20))
            } catch {
                outcome.withLock { $0 = error }
            }
            done.signal()
        }.start()
        #expect(eventually { link.counters.blockedSends == 1 })
        fixture.finish()
        #expect(done.wait(timeout: .now() + 20) == .success)
        #expect(outcome.withLock { $0?.code } == .noDevice)
    }
}

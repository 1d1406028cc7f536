import AmpRpmsg
import AmpRpmsgVirtio
import AmpSystem
import AmpVirtio
import AmpWire
import Testing

/// The probe as Linux's virtio_rpmsg_bus does it: features, status, rings, posted receive buffers, kicks;
/// and the layout checks made before touching the segment.
@Suite struct VirtioRpmsgProbeTests {
    @Test func probePostsEveryReceiveBufferAndSetsDriverOK() throws {
        let fixture = try LinkFixture(startThread: false)
        defer { fixture.finish() }
        let remote = fixture.remote
        #expect(remote.status == 7)
        #expect(remote.guestFeatures == 1)
        #expect(fixture.link.mtu == 496)
        #expect(fixture.link.supportsNameService)
        #expect(fixture.link.postedReceiveBuffers == 8)
        #expect(fixture.link.freeTransmitBuffers == 8)
        // One kick: vring0 (notify id 0) after DRIVER_OK.
        #expect(remote.toRemote.takePending() == 0b1)
        #expect(fixture.link.counters.kicks == 1)

        let posted = try remote.takeAllPosted()
        #expect(posted.map(\.head) == Array(0..<8))
        let addresses: [UInt64] = (0..<8).map { (index: Int) -> UInt64 in 0x9F00_5000 + 512 * UInt64(index) }
        #expect(posted.map(\.address) == addresses)
        #expect(posted.allSatisfy { $0.length == 512 && $0.isDeviceWritable && $0.descriptorCount == 1 })
        // vring1 callbacks are off (avail.flags = NO_INTERRUPT at 0x3000 + 16 * 8), vring0's are on.
        #expect(fixture.segment.base.load(fromByteOffset: 0x3080, as: UInt16.self) == 1)
        #expect(fixture.segment.base.load(fromByteOffset: 0x1080, as: UInt16.self) == 0)
        // The name service is bound at 53 (VIRTIO_RPMSG_F_NS accepted).
        #expect(fixture.bus.endpointAddresses == [53])
    }

    @Test func onlyNameServiceAndEventIndexAreAccepted() throws {
        let offered: UInt32 = 1 | 1 << 5 | 1 << 28 | 1 << 29
        let fixture = try LinkFixture(dfeatures: offered, startThread: false)
        defer { fixture.finish() }
        #expect(fixture.remote.guestFeatures == 1 | 1 << 29)
        #expect(fixture.link.negotiatedFeatures == 1 | 1 << 29)
        // With EVENT_IDX, vring1 callbacks are suppressed through used_event (behind the consumed index).
        let usedEventOffset = 0x3000 + 16 * 8 + 4 + 2 * 8
        #expect(fixture.segment.base.load(fromByteOffset: usedEventOffset, as: UInt16.self) == 0xFFFF)
    }

    @Test func withoutNameServiceNoEndpointIsBoundAt53() throws {
        let fixture = try LinkFixture(dfeatures: 0, startThread: false)
        defer { fixture.finish() }
        #expect(fixture.remote.guestFeatures == 0)
        #expect(!fixture.link.supportsNameService)
        #expect(fixture.bus.endpointAddresses.isEmpty)
    }

    @Test func shutDownResetsTheDeviceAndTakesTheBusDown() throws {
        let fixture = try LinkFixture()
        let endpoint = try fixture.bus.createEndpoint(address: 1024, destination: 0x401) { _, _, _ in }
        fixture.finish()
        #expect(fixture.remote.status == 0)
        #expect(!fixture.bus.isUp)
        #expect(fixture.link.bus == nil)
        #expect(throws: RpmsgError.self) { try endpoint.send([1]) }
        do {
            try fixture.link.send(source: 1024, destination: 0x401, payload: [1], wait: nil)
            Issue.record("send after shutdown succeeded")
        } catch {
            #expect(error.code == .noDevice)
            #expect(error.message == "test.vdev0: the link is down")
        }
        #expect(fixture.events.events.last == .linkDown(link: "test.vdev0"))
    }

    @Test(arguments: [
        (TestSegmentLayout.layout(bufferSize: 48), "pool.bufferSize: 48 is outside 64...65536"),
        (TestSegmentLayout.layout(bufferSize: 1024), "pool.segmentOffset: 16384 bytes at 0x5000 do not fit the 0x8000-byte segment"),
    ])
    func layoutsThatDoNotFitAreRefused(layout: VirtioRpmsgLayout, message: String) throws {
        #expect(throws: VirtioRpmsgSetupError.self) { try layout.validate(segmentSize: TestSegmentLayout.size) }
        do {
            try layout.validate(segmentSize: TestSegmentLayout.size)
        } catch {
            #expect(error.description == message)
        }
    }

    @Test func ringParametersAreChecked() throws {
        var layout = TestSegmentLayout.layout()
        layout.receive.num = 6
        #expect(throws: VirtioRpmsgSetupError(field: "vring0.num", reason: "6 is not a power of two between 1 and 32768")) {
            try layout.validate(segmentSize: TestSegmentLayout.size)
        }
        layout = TestSegmentLayout.layout()
        layout.transmit.segmentOffset = 0x3008
        #expect(throws: VirtioRpmsgSetupError(field: "vring1.segmentOffset", reason: "0x3008 is not 16-byte aligned")) {
            try layout.validate(segmentSize: TestSegmentLayout.size)
        }
        layout = TestSegmentLayout.layout()
        layout.statusOffset = TestSegmentLayout.size
        #expect(throws: VirtioRpmsgSetupError(
            field: "status.segmentOffset", reason: "1 bytes at 0x8000 do not fit the 0x8000-byte segment")) {
            try layout.validate(segmentSize: TestSegmentLayout.size)
        }
    }

    @Test func smallerBuffersPerProfileShrinkTheMTU() throws {
        let segment = try TestSegmentLayout.makeSegment()
        let layout = TestSegmentLayout.layout(bufferSize: 256)
        let toRemote = try Doorbell(segment: segment, mailboxOffset: ControlBlock.mailboxToRemoteOffset, kind: .futex)
        let toHost = try Doorbell(segment: segment, mailboxOffset: ControlBlock.mailboxToHostOffset, kind: .futex)
        let link = try VirtioRpmsgLink(name: "small.vdev0", segment: segment, layout: layout, toRemote: toRemote, toHost: toHost)
        let bus = link.attach(registry: RpmsgDriverRegistry())
        defer { link.shutDown() }
        #expect(link.mtu == 240)
        let endpoint = try bus.createEndpoint(address: 1024, destination: 0x401) { _, _, _ in }
        #expect(throws: RpmsgError.self) { try endpoint.trySend(Array(repeating: 0, count: 241)) }
        try endpoint.trySend(Array(repeating: 7, count: 240))
        let remote = try FakeRemote(segment: segment, layout: layout, eventIndex: false)
        let posted = try remote.takeAllPosted()
        #expect(posted.map(\.length) == Array(repeating: 256, count: 8))
        let sent = try #require(try remote.receiveQueue.takeAvailable())
        #expect(sent.length == 256)
        #expect(sent.address == UInt64(0x9F00_5000 + 8 * 256))
    }
}

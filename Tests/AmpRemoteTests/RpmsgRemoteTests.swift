import AmpSystem
import AmpTestSupport
import AmpVirtio
import AmpWire
import Glibc
import Testing

/// The remote side of virtio rpmsg in real firmware processes over real shared memory, with the test playing
/// Linux's virtio_rpmsg_bus host through ``RpmsgVirtioHost``.
@Suite(.serialized) struct RpmsgRemoteTests {
    static let echoAddress = RpmsgVirtioHost.firstRemoteAddress
    static let hostAddress = RpmsgVirtioHost.hostAddress
    static let waitingSuffix = ": vdev@132 status 0x00 (DRIVER_OK not set), rings untouched, heartbeat running"
    static let readySuffix =
        ": status 0x07, features 0x00000001, vring0 da 0x9f040000 num 256 notifyid 0, vring1 da 0x9f044000 num 256 notifyid 1, mtu 496"

    // MARK: Start-up and the name service

    @Test func announcesTheEchoServiceAfterDriverOKWithTheExactNameServiceMessage() throws {
        let rpmsg = try RpmsgVirtioHost(host: try TestHost())
        try rpmsg.spawn("ampsoc-fw-echo")
        try rpmsg.postRxBuffers()
        try rpmsg.setDriverOK()

        let announcement = try #require(try rpmsg.receive())
        #expect(announcement.usedLength == 56)
        #expect(announcement.bytes == RpmsgVirtioHost.nameServiceBytes("rpmsg-echo", address: 0x400, flags: 0))
        if ByteOrder.host == .little {
            #expect(announcement.bytes.hexString
                == "00040000" + "35000000" + "00000000" + "2800" + "0000"
                + "7270" + "6d73" + "672d" + "6563" + "686f" + String(repeating: "0", count: 44) + "00040000" + "00000000")
        }
        let ns = try NameServiceMessage.parse(announcement.message.payload, order: .host)
        #expect(ns == NameServiceMessage(name: try RpmsgName("rpmsg-echo"), address: 0x400, action: .create))
        #expect(try rpmsg.receive(timeout: .milliseconds(100)) == nil)

        #expect(try rpmsg.stop() == .exited(0))
        let lines = try rpmsg.host.traceLines()
        #expect(lines.first == "ampsoc-fw-echo: boot on dsp0 (generation 5), mode copy")
        #expect(lines.contains { $0.hasPrefix("rpmsg: host driver ready after ") && $0.hasSuffix(Self.readySuffix) })
        #expect(lines.contains("rpmsg: announced \"rpmsg-echo\" (create, address 0x400)"))
        #expect(lines.suffix(2) == [
            "rpmsg: stopping: received 0, sent 1, dropped 0, malformed 0, held 0",
            "ampsoc-fw-echo: stopping after echoing 0 message(s), 0 failure(s)",
        ])
    }

    @Test func leavesTheRingsAloneBeforeDriverOKTracesTheWaitAndKeepsHeartbeating() throws {
        let rpmsg = try RpmsgVirtioHost(host: try TestHost(heartbeatMs: 10))
        try rpmsg.spawn("ampsoc-fw-echo", arguments: ["--wait-trace-ms", "100"])
        try rpmsg.postRxBuffers(kick: true)
        try rpmsg.send(to: Self.echoAddress, Array("early".utf8))
        rpmsg.setStatus(VirtioStatus([.acknowledge, .driver]).rawValue)

        #expect(try eventually { try rpmsg.host.traceLines().filter { $0.hasPrefix("rpmsg: still waiting") }.count >= 3 })
        let beat = try rpmsg.host.heartbeat()
        usleep(100_000)
        #expect(try rpmsg.host.heartbeat() >= beat + 3)
        // Nothing taken from either ring: no used entries, avail_event/flags untouched.
        #expect(try rpmsg.receive(timeout: .milliseconds(50)) == nil)
        #expect(try rpmsg.reclaimTxBuffers() == [])
        let vring0 = try rpmsg.host.segment.read(at: RpmsgVirtioHost.segmentOffset(0x9F04_0000) + 8192, count: 4)
        #expect(vring0 == [0, 0, 0, 0])
        let waits = try rpmsg.host.traceLines().filter { $0.hasPrefix("rpmsg: still waiting") }
        for line in waits {
            #expect(line.hasPrefix("rpmsg: still waiting for the host's virtio driver after "))
            #expect(line.hasSuffix(": vdev@132 status 0x03 (DRIVER_OK not set), rings untouched, heartbeat running"))
        }

        try rpmsg.setDriverOK()
        #expect(try rpmsg.expectMessage().destination == 53)
        // The message posted before DRIVER_OK is delivered now.
        let echo = try rpmsg.expectMessage()
        #expect(echo.payload == Array("early".utf8))
        #expect(echo.source == Self.echoAddress && echo.destination == Self.hostAddress)
        #expect(try rpmsg.stop() == .exited(0))
    }

    @Test func destroyingAnEndpointAnnouncesDestroyAndLaterMessagesAreDropped() throws {
        let rpmsg = try RpmsgVirtioHost(host: try TestHost())
        try rpmsg.spawn("ampsoc-fw-echo", arguments: ["--lifetime-ms", "300"])
        try rpmsg.postRxBuffers()
        try rpmsg.setDriverOK()
        #expect(try rpmsg.receive()?.bytes == RpmsgVirtioHost.nameServiceBytes("rpmsg-echo", address: 0x400, flags: 0))
        let destroy = try #require(try rpmsg.receive())
        #expect(destroy.bytes == RpmsgVirtioHost.nameServiceBytes("rpmsg-echo", address: 0x400, flags: 1))

        try rpmsg.send(to: Self.echoAddress, [1, 2, 3])
        #expect(try eventually { try rpmsg.reclaimTxBuffers().count == 1 })
        #expect(try rpmsg.receive(timeout: .milliseconds(100)) == nil)
        #expect(try rpmsg.stop() == .exited(0))
        let lines = try rpmsg.host.traceLines()
        #expect(lines.contains("rpmsg: announced \"rpmsg-echo\" (destroy, address 0x400)"))
        #expect(lines.contains("ampsoc-fw-echo: destroyed the endpoint \"rpmsg-echo\""))
        #expect(lines.contains("rpmsg: dropped a 3-byte message from 0x401 to 0x400: no endpoint at that address (1 dropped so far)"))
        #expect(lines.contains("rpmsg: stopping: received 1, sent 2, dropped 1, malformed 0, held 0"))
    }

    @Test func aHostResetDropsTheRingsAndTheServiceIsAnnouncedAgain() throws {
        let rpmsg = try RpmsgVirtioHost(host: try TestHost())
        let remote = try rpmsg.spawn("ampsoc-fw-echo", arguments: ["--mode", "hold"])
        try rpmsg.postRxBuffers()
        try rpmsg.setDriverOK()
        #expect(try rpmsg.expectMessage().destination == 53)
        try rpmsg.send(to: Self.echoAddress, Array("held".utf8))
        #expect(try rpmsg.expectMessage().payload == Array("held".utf8))

        // The host's driver goes away: status 0 and a kick, then a fresh probe on zeroed rings.
        rpmsg.setStatus(0)
        try remote.toRemote.ring(notifyID: ControlBlock.controlNotifyID)
        let reset = "rpmsg: the host reset the virtio device (status 0x00): rings released, 1 held buffer(s) forgotten, "
            + "waiting for DRIVER_OK again"
        #expect(try eventually { try rpmsg.host.traceLines().contains(reset) })
        rpmsg.resetRings()
        try rpmsg.postRxBuffers()
        try rpmsg.setDriverOK()
        #expect(try rpmsg.receive()?.bytes == RpmsgVirtioHost.nameServiceBytes("rpmsg-echo", address: 0x400, flags: 0))
        try rpmsg.send(to: Self.echoAddress, Array("release".utf8))
        #expect(try rpmsg.expectMessage().payload == Array("release".utf8))
        // Only the buffer of this session comes back; the one held before the reset is forgotten.
        var returned: [Int] = []
        #expect(try eventually {
            returned += try rpmsg.reclaimTxBuffers()
            return returned.count == 1
        })
        #expect(try rpmsg.stop() == .exited(0))
        let lines = try rpmsg.host.traceLines()
        #expect(lines.filter { $0.hasPrefix("rpmsg: host driver ready after ") }.count == 2)
        #expect(lines.contains("rpmsg-echo: released 2 held buffer(s)"))
        #expect(lines.contains("rpmsg: stopping: received 2, sent 4, dropped 0, malformed 0, held 0"))
    }

    // MARK: Echo

    @Test(arguments: [("copy", TestHost.DoorbellChoice.futex), ("zero-copy", .eventfd)])
    func echoesAThousandMessagesOfEverySize(mode: String, doorbell: TestHost.DoorbellChoice) throws {
        let rpmsg = try RpmsgVirtioHost(host: try TestHost())
        try rpmsg.spawn("ampsoc-fw-echo", arguments: ["--mode", mode], doorbell: doorbell)
        try rpmsg.postRxBuffers()
        try rpmsg.setDriverOK()
        #expect(try rpmsg.expectMessage().destination == 53)

        for index in 0..<1000 {
            let payload = (0..<(index % 497)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ index) }
            try rpmsg.send(to: Self.echoAddress, payload)
            let echo = try rpmsg.expectMessage()
            guard echo.payload == payload, echo.source == Self.echoAddress, echo.destination == Self.hostAddress,
                  echo.header.reserved == 0, echo.header.flags == 0
            else {
                Issue.record("message \(index) (\(payload.count) bytes): echo \(echo.header) with \(echo.payload.count) bytes")
                break
            }
        }
        #expect(try rpmsg.stop() == .exited(0))
        let lines = try rpmsg.host.traceLines()
        #expect(lines.suffix(2) == [
            "rpmsg: stopping: received 1000, sent 1001, dropped 0, malformed 0, held 0",
            "ampsoc-fw-echo: stopping after echoing 1000 message(s), 0 failure(s)",
        ])
    }

    @Test func echoesWithEventIndexNotificationSuppression() throws {
        let rpmsg = try RpmsgVirtioHost(host: try TestHost(), eventIndex: true)
        try rpmsg.spawn("ampsoc-fw-echo")
        try rpmsg.postRxBuffers()
        try rpmsg.setDriverOK(features: 1 | 1 << 29)
        #expect(try rpmsg.expectMessage().destination == 53)
        for index in 0..<300 {
            let payload = [UInt8](repeating: UInt8(truncatingIfNeeded: index), count: index % 64)
            try rpmsg.send(to: Self.echoAddress, payload)
            #expect(try rpmsg.expectMessage(timeout: .seconds(2)).payload == payload)
        }
        // Having drained vring1, the remote polls it while it spins (avail_event behind its index: no kicks
        // wanted), then, before it sleeps, asks for a kick at its next index.
        let availEventOffset = RpmsgVirtioHost.segmentOffset(0x9F04_4000) + rpmsg.tx.layout.availEventOffset
        func availEvent() throws -> UInt16 {
            try ByteReader(try rpmsg.host.segment.read(at: availEventOffset, count: 2), order: .host).u16(at: 0, field: "avail_event")
        }
        var event = try availEvent()
        for _ in 0..<2000 where event != 300 {
            usleep(1000)
            event = try availEvent()
        }
        #expect(event == 300)
        #expect(try rpmsg.stop() == .exited(0))
        let lines = try rpmsg.host.traceLines()
        #expect(lines.contains { $0.hasSuffix(": status 0x07, features 0x20000001 (not offered: 0x20000000), vring0 da 0x9f040000 num 256 "
            + "notifyid 0, vring1 da 0x9f044000 num 256 notifyid 1, mtu 496") })
        #expect(lines.contains("rpmsg: stopping: received 300, sent 301, dropped 0, malformed 0, held 0"))
    }

    @Test func anOversizedHeaderOrAnUnknownDestinationIsCountedTracedAndReturned() throws {
        let rpmsg = try RpmsgVirtioHost(host: try TestHost())
        try rpmsg.spawn("ampsoc-fw-echo")
        try rpmsg.postRxBuffers()
        try rpmsg.setDriverOK()
        #expect(try rpmsg.expectMessage().destination == 53)

        let first = try rpmsg.send(to: 0x999, Array("abc".utf8))
        #expect(try eventually { try rpmsg.reclaimTxBuffers() == [first] })
        let second = try rpmsg.send(to: Self.echoAddress, Array("abcd".utf8), headerLength: 100)
        #expect(try eventually { try rpmsg.reclaimTxBuffers() == [second] })
        try rpmsg.send(to: Self.echoAddress, Array("after".utf8))
        #expect(try rpmsg.expectMessage().payload == Array("after".utf8))

        #expect(try rpmsg.stop() == .exited(0))
        let lines = try rpmsg.host.traceLines()
        #expect(lines.contains("rpmsg: dropped a 3-byte message from 0x401 to 0x999: no endpoint at that address (1 dropped so far)"))
        #expect(lines.contains("rpmsg: malformed message returned unread: the message from 0x401 to 0x400 says len 100, "
            + "but its buffer (vring1 desc[1]) holds only 4 bytes after the header (1 malformed so far)"))
        #expect(lines.contains("rpmsg: stopping: received 2, sent 2, dropped 1, malformed 1, held 0"))
    }

    // MARK: Buffers

    @Test func trySendWithoutBuffersFailsAndTheAnnouncementWaitsForOne() throws {
        let rpmsg = try RpmsgVirtioHost(host: try TestHost())
        try rpmsg.spawn("ampsoc-fw-echo", arguments: ["--mode", "try"])
        try rpmsg.setDriverOK()
        #expect(try eventually { try rpmsg.host.traceLines().contains(
            "rpmsg: no transmit buffer on vring0 for the announcement of \"rpmsg-echo\"; it is sent when the host posts one") })

        try rpmsg.send(to: Self.echoAddress, Array("ping".utf8))
        let failure = "rpmsg-echo: echo of 4 bytes to 0x401 failed: rpmsg: no transmit buffer: the host has none posted on vring0 (0 sent so far)"
        #expect(try eventually { try rpmsg.host.traceLines().contains(failure) })

        try rpmsg.postRxBuffers(kick: true)
        #expect(try rpmsg.receive()?.bytes == RpmsgVirtioHost.nameServiceBytes("rpmsg-echo", address: 0x400, flags: 0))
        try rpmsg.send(to: Self.echoAddress, Array("pong".utf8))
        #expect(try rpmsg.expectMessage().payload == Array("pong".utf8))
        #expect(try rpmsg.stop() == .exited(0))
        #expect(try rpmsg.host.traceLines().last == "ampsoc-fw-echo: stopping after echoing 1 message(s), 1 failure(s)")
    }

    @Test func aBlockingSendTimesOutWhileTheHeartbeatGoesOn() throws {
        let rpmsg = try RpmsgVirtioHost(host: try TestHost(heartbeatMs: 10))
        try rpmsg.spawn("ampsoc-fw-echo", arguments: ["--send-timeout-ms", "400"])
        try rpmsg.setDriverOK()
        try rpmsg.send(to: Self.echoAddress, Array("wait".utf8))
        usleep(100_000)
        // Blocked in the send: the heartbeat still advances.
        let beat = try rpmsg.host.heartbeat()
        usleep(150_000)
        #expect(try rpmsg.host.heartbeat() >= beat + 3)
        let failure = "rpmsg-echo: echo of 4 bytes to 0x401 failed: rpmsg: send timed out after 0.4 seconds waiting for a transmit buffer on vring0"
        #expect(try eventually { try rpmsg.host.traceLines().contains(failure) })
        #expect(try rpmsg.stop() == .exited(0))
    }

    @Test func aStopRequestEndsABlockedSend() throws {
        let rpmsg = try RpmsgVirtioHost(host: try TestHost())
        try rpmsg.spawn("ampsoc-fw-echo")
        try rpmsg.setDriverOK()
        try rpmsg.send(to: Self.echoAddress, Array("wait".utf8))
        usleep(100_000)
        let start = MonotonicClock.nanoseconds()
        #expect(try rpmsg.stop() == .exited(0))
        #expect(MonotonicClock.nanoseconds() - start < 2_000_000_000)
        #expect(try rpmsg.host.traceLines().contains(
            "rpmsg-echo: echo of 4 bytes to 0x401 failed: rpmsg: send abandoned: the host asked for a stop"))
    }

    @Test func aHeldBufferGoesBackOnlyOnRelease() throws {
        let rpmsg = try RpmsgVirtioHost(host: try TestHost())
        try rpmsg.spawn("ampsoc-fw-echo", arguments: ["--mode", "hold"])
        try rpmsg.postRxBuffers()
        try rpmsg.setDriverOK()
        #expect(try rpmsg.expectMessage().destination == 53)

        let one = try rpmsg.send(to: Self.echoAddress, Array("one".utf8))
        #expect(try rpmsg.expectMessage().payload == Array("one".utf8))
        let two = try rpmsg.send(to: Self.echoAddress, Array("two".utf8))
        #expect(try rpmsg.expectMessage().payload == Array("two".utf8))
        // Both echoed, neither returned: the firmware holds them.
        #expect(try rpmsg.reclaimTxBuffers() == [])
        let release = try rpmsg.send(to: Self.echoAddress, Array("release".utf8))
        #expect(try rpmsg.expectMessage().payload == Array("release".utf8))
        var returned: [Int] = []
        #expect(try eventually {
            returned += try rpmsg.reclaimTxBuffers()
            return returned.count == 3
        })
        #expect(returned == [one, two, release])
        #expect(try rpmsg.stop() == .exited(0))
        let lines = try rpmsg.host.traceLines()
        #expect(lines.contains("rpmsg-echo: released 3 held buffer(s)"))
        #expect(lines.contains("rpmsg: stopping: received 3, sent 4, dropped 0, malformed 0, held 0"))
    }

    // MARK: A hostile host

    @Test func aTransmitBufferOutsideTheRegionsIsAFatalErrorNotATrap() throws {
        let rpmsg = try RpmsgVirtioHost(host: try TestHost())
        let remote = try rpmsg.spawn("ampsoc-fw-echo")
        try rpmsg.rx.add(address: 0xDEAD_0000, length: 512, deviceWritable: true, token: 0)
        _ = rpmsg.rx.publish()
        try rpmsg.setDriverOK()
        try expectFatalError(
            rpmsg, remote, "rpmsg: host protocol violation: vring0: desc[0].addr = 0xdead0000: 512 bytes there are outside device memory")
    }

    @Test func aReceiveBufferOutsideTheRegionsIsAFatalErrorNotATrap() throws {
        let rpmsg = try RpmsgVirtioHost(host: try TestHost())
        let remote = try rpmsg.spawn("ampsoc-fw-echo")
        try rpmsg.postRxBuffers()
        try rpmsg.setDriverOK()
        #expect(try rpmsg.expectMessage().destination == 53)
        // Inside the 32-bit space but in no region, then beyond 32 bits.
        try rpmsg.sendRawDescriptor(address: 0x1_9F09_0000, length: 20)
        try expectFatalError(
            rpmsg, remote, "rpmsg: host protocol violation: vring1: desc[0].addr = 0x19f090000: 20 bytes there are outside device memory")
    }

    @Test func aRingOutsideTheRegionsIsAFatalErrorNotATrap() throws {
        let rpmsg = try RpmsgVirtioHost(host: try TestHost())
        let remote = try rpmsg.spawn("ampsoc-fw-echo")
        var writer = ByteWriter(count: 4, order: .host)
        writer.put(UInt32(0x9F0F_F000), at: 0)
        try rpmsg.host.segment.write(writer.bytes, at: rpmsg.vdevPayloadOffset + Resource.VdevOffset.vring(1) + Resource.VringOffset.da)
        try rpmsg.setDriverOK()
        try expectFatalError(
            rpmsg, remote, "rpmsg: host protocol violation: vring1: da 0x9f0ff000: the 10246-byte ring is outside every memory region")
    }

    private func expectFatalError(_ rpmsg: RpmsgVirtioHost, _ remote: RemoteProcess, _ message: String) throws {
        #expect(try eventually { try rpmsg.host.crashRecord().reported == 1 })
        let record = try rpmsg.host.crashRecord()
        #expect(record.type == ControlBlock.CrashType.fatalError.rawValue)
        #expect(record.message == message)
        #expect(try rpmsg.host.remoteState() == ControlBlock.RemoteState.halted.rawValue)
        #expect(try rpmsg.host.traceLines().last == "crash (fatal error): \(message)")
        // Halted, not trapped: the process waits for the host.
        #expect(try remote.child.waitForExit(timeout: .milliseconds(100)) == nil)
        #expect(try remote.child.terminate(grace: .seconds(2)) == .signaled(SIGTERM))
    }

    // MARK: The other samples

    @Test func theClientSamplePeerEchoesLinuxsHundredMessages() throws {
        let rpmsg = try RpmsgVirtioHost(host: try TestHost())
        try rpmsg.spawn("ampsoc-fw-client-sample")
        try rpmsg.postRxBuffers()
        try rpmsg.setDriverOK()
        #expect(try rpmsg.receive()?.bytes == RpmsgVirtioHost.nameServiceBytes("rpmsg-client-sample", address: 0x400, flags: 0))
        // What Linux's rpmsg_client_sample does: "hello world!", then each reply again, 100 times.
        var payload = Array("hello world!".utf8)
        for _ in 0..<100 {
            try rpmsg.send(to: 0x400, payload)
            let reply = try rpmsg.expectMessage()
            #expect(reply.source == 0x400 && reply.destination == Self.hostAddress)
            payload = reply.payload
        }
        #expect(payload == Array("hello world!".utf8))
        #expect(try rpmsg.stop() == .exited(0))
        let lines = try rpmsg.host.traceLines()
        #expect(lines.filter { $0.hasPrefix("rpmsg-client-sample: message ") }
            == (1...100).map { "rpmsg-client-sample: message \($0) from 0x401 (12 bytes)" })
        #expect(lines.last == "ampsoc-fw-client-sample: stopping after echoing 100 message(s)")
    }

    @Test func theServicesFirmwarePublishesThreeServicesAndAConsole() throws {
        let rpmsg = try RpmsgVirtioHost(host: try TestHost())
        try rpmsg.spawn("ampsoc-fw-services", arguments: ["--status-ms", "50"])
        try rpmsg.postRxBuffers()
        try rpmsg.setDriverOK()
        let names = ["rpmsg-client-sample", "rpmsg-echo", "rpmsg-raw", "rpmsg-tty"]
        for (index, name) in names.enumerated() {
            #expect(try rpmsg.receive()?.bytes == RpmsgVirtioHost.nameServiceBytes(name, address: 0x400 + UInt32(index), flags: 0))
        }
        for (index, name) in names.dropLast().enumerated() {
            try rpmsg.send(to: 0x400 + UInt32(index), Array(name.utf8))
            let echo = try rpmsg.expectMessage()
            #expect(echo.payload == Array(name.utf8) && echo.source == 0x400 + UInt32(index))
        }
        // The console answers a typed command with the banner, the echoed line and the command's output.
        try rpmsg.send(to: 0x403, Array("echo hi\r".utf8))
        var console = [UInt8]()
        while !String(decoding: console, as: UTF8.self).contains("hi\r\nampsoc> ") {
            let message = try rpmsg.expectMessage()
            #expect(message.source == 0x403)
            console += message.payload
        }
        #expect(try eventually { try rpmsg.host.traceLines().contains {
            $0.hasPrefix("ampsoc-fw-services: received 4, ") && $0.hasSuffix("dropped 0; rpmsg-client-sample 1, rpmsg-echo 1, rpmsg-raw 1")
        } })
        #expect(try rpmsg.stop() == .exited(0))
        #expect(try rpmsg.host.traceLines().last == "ampsoc-fw-services: console: 1 line(s) entered")
    }

    @Test(arguments: ["ampsoc-fw-echo", "ampsoc-fw-client-sample", "ampsoc-fw-services", "ampsoc-fw-hostile"])
    func theRpmsgSamplesCarryTheSampleResourceTable(firmware: String) throws {
        let elf = try ELFFile.parse(try FileIO.readFile(try TestHost.firmwarePath(firmware)))
        guard case .present(_, let section, let bytes) = elf.resourceTableSection() else {
            Issue.record("\(firmware) has no .resource_table section")
            return
        }
        #expect(section.size == 200)
        #expect(bytes == SampleTableTests.expected.serialised(order: .host))
        if ByteOrder.host == .little { #expect(bytes.hexString == SampleTableTests.goldenHex) }
    }

    // MARK: Cleanliness

    @Test func noLeftoverSegmentOrProcess() throws {
        var name = ""
        var pid: pid_t = 0
        do {
            let rpmsg = try RpmsgVirtioHost(host: try TestHost())
            name = rpmsg.host.segment.name
            pid = try rpmsg.spawn("ampsoc-fw-services").child.pid
            try rpmsg.postRxBuffers()
            try rpmsg.setDriverOK()
            #expect(try rpmsg.receive() != nil)
            #expect(try rpmsg.stop() == .exited(0))
        }
        #expect(!segmentExists(name))
        #expect(access("/proc/\(pid)", F_OK) != 0)
    }
}

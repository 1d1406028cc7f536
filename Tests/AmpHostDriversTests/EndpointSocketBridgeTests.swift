import AmpRpmsg
import AmpSystem
import AmpTestSupport
import Glibc
import Testing

@testable import AmpHostDrivers

@Suite("EndpointSocketBridgeTests")
struct EndpointSocketBridgeTests {
    @Test func socketIsSeqpacketMode0600AndCarriesOneMessagePerReadAndWrite() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let sent = PayloadLog()
        let path = scratch.file("ipu.vdev0.rpmsg-raw.1024")
        let bridge = try EndpointSocketBridge(path: path, mtu: 496, send: sent.sender)
        defer { bridge.close() }

        var info = stat()
        #expect(lstat(path, &info) == 0)
        #expect(info.st_mode & S_IFMT == S_IFSOCK)
        #expect(info.st_mode & 0o777 == 0o600)

        let client = try UnixSocket.connect(to: path, kind: .seqpacket)
        try client.send(bytes("first"))
        try client.send([0x00, 0xff, 0x10])
        try client.send([UInt8](repeating: 0x5a, count: 496))  // exactly the MTU
        #expect(eventually { sent.count == 3 })
        #expect(sent.all == [bytes("first"), [0x00, 0xff, 0x10], [UInt8](repeating: 0x5a, count: 496)])

        bridge.deliver(bytes("from remote 1"))
        bridge.deliver(bytes("2"))
        #expect(try client.nextMessage() == bytes("from remote 1"))
        #expect(try client.nextMessage() == bytes("2"))

        let counters = bridge.counters
        #expect(counters.txMessages == 3)
        #expect(counters.txBytes == 5 + 3 + 496)
        #expect(counters.rxMessages == 2)
        #expect(counters.rxBytes == 14)
        #expect(counters.connections == 1)
        #expect(counters.dropped == 0)
        #expect(bridge.isClientConnected)
    }

    @Test func oversizeWriteIsNotSentAndIsCountedButDoesNotFailTheWrite() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let sent = PayloadLog()
        let bridge = try EndpointSocketBridge(path: scratch.file("s"), mtu: 496, send: sent.sender)
        defer { bridge.close() }
        let client = try UnixSocket.connect(to: bridge.path, kind: .seqpacket)

        // The kernel accepts the write: only the writer's SO_SNDBUF bounds a SEQPACKET write.
        #expect(try client.send([UInt8](repeating: 1, count: 497)))
        try client.send(bytes("after"))
        #expect(eventually { sent.count == 1 })
        #expect(sent.all == [bytes("after")])
        #expect(bridge.counters.oversize == 1)
        #expect(bridge.counters.txMessages == 1)
        #expect(bridge.lastError == "a client message of 497 bytes exceeds the MTU of 496 and was not sent")
    }

    @Test func emsgsizeComesOnlyFromTheWritersOwnSendBuffer() throws {
        // The finding behind the oversize rule: Linux refuses a SEQPACKET write with EMSGSIZE when it is longer
        // than the writer's SO_SNDBUF - 32. The smallest SO_SNDBUF is 4608, so writes up to 4576 bytes always
        // pass, whatever the receiving end does.
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let bridge = try EndpointSocketBridge(path: scratch.file("s"), mtu: 496, send: PayloadLog().sender)
        defer { bridge.close() }
        let client = try UnixSocket.connect(to: bridge.path, kind: .seqpacket)
        try client.setSendBufferSize(1)
        let floor = try client.sendBufferSize()
        #expect(floor == 4608)
        #expect(try client.send([UInt8](repeating: 2, count: floor - 32)))
        #expect(throws: SystemError(call: "send", subject: bridge.path, errno: EMSGSIZE)) {
            try client.send([UInt8](repeating: 2, count: floor - 31))
        }
        #expect(eventually { bridge.counters.oversize == 1 })
    }

    @Test func zeroLengthMessagePassesBothWays() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let sent = PayloadLog()
        let bridge = try EndpointSocketBridge(path: scratch.file("s"), mtu: 496, send: sent.sender)
        defer { bridge.close() }
        let client = try UnixSocket.connect(to: bridge.path, kind: .seqpacket)
        try client.send([])
        try client.send(bytes("x"))
        #expect(eventually { sent.count == 2 })
        #expect(sent.all == [[], bytes("x")])
        bridge.deliver([])
        #expect(try client.nextReceive() == .message(bytes: [], length: 0))
    }

    @Test func secondClientIsClosedAtOnceAndTheFirstStays() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let sent = PayloadLog()
        let bridge = try EndpointSocketBridge(path: scratch.file("s"), mtu: 496, send: sent.sender)
        defer { bridge.close() }
        let first = try UnixSocket.connect(to: bridge.path, kind: .seqpacket)
        #expect(eventually { bridge.isClientConnected })

        let second = try UnixSocket.connect(to: bridge.path, kind: .seqpacket)
        #expect(try second.nextReceive() == .closed)
        #expect(throws: SystemError(call: "send", subject: bridge.path, errno: EPIPE)) {
            try second.send(bytes("ignored"))
        }
        #expect(bridge.counters.rejectedClients == 1)

        try first.send(bytes("still here"))
        #expect(eventually { sent.count == 1 })
        bridge.deliver(bytes("to first"))
        #expect(try first.nextMessage() == bytes("to first"))
        #expect(sent.all == [bytes("still here")])
        #expect(bridge.counters.connections == 1)
    }

    @Test func messagesWaitForAClientUpToTheBoundThenAreDroppedAndCounted() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let bridge = try EndpointSocketBridge(path: scratch.file("s"), mtu: 496, send: PayloadLog().sender)
        defer { bridge.close() }
        #expect(EndpointSocketBridge.defaultQueueCapacity == 1024)
        for index in 0..<1030 { bridge.deliver(bytes("m\(index)")) }
        var counters = bridge.counters
        #expect(counters.queued == 1024)
        #expect(counters.dropped == 6)
        #expect(counters.rxMessages == 1024)

        let client = try UnixSocket.connect(to: bridge.path, kind: .seqpacket)
        var received: [String] = []
        while received.count < 1024, let message = try client.nextMessage() {
            received.append(String(decoding: message, as: UTF8.self))
        }
        #expect(received == (0..<1024).map { "m\($0)" })  // the oldest kept, the newest dropped
        #expect(try client.nextMessage(timeout: .milliseconds(50)) == nil)
        counters = bridge.counters
        #expect(counters.queued == 0)
        #expect(counters.dropped == 6)
    }

    @Test func aClientThatDoesNotReadFillsTheKernelBufferThenTheQueueThenDrops() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let bridge = try EndpointSocketBridge(path: scratch.file("s"), mtu: 496, queueCapacity: 16, send: PayloadLog().sender)
        defer { bridge.close() }
        let client = try UnixSocket.connect(to: bridge.path, kind: .seqpacket)
        #expect(eventually { bridge.isClientConnected })

        let total = 2000
        func message(_ index: Int) -> [UInt8] {
            var message = [UInt8](repeating: 0x41, count: 400)
            message[0] = UInt8(index & 0xff)
            message[1] = UInt8(index >> 8)
            return message
        }
        // While the kernel's socket buffer has room, each message leaves the queue at once.
        var index = 0
        var kernelFull = false
        while index < total, !kernelFull {
            bridge.deliver(message(index))
            index += 1
            kernelFull = !eventually(timeout: .milliseconds(500)) { bridge.counters.queued == 0 }
        }
        #expect(kernelFull)
        // Then the queue fills up (one message more waits inside the thread), and the rest is dropped.
        while index < total {
            bridge.deliver(message(index))
            index += 1
        }
        let counters = bridge.counters
        #expect(counters.queued == 16)
        #expect(counters.dropped > 0)

        var indices: [Int] = []
        while let message = try client.nextMessage(timeout: .milliseconds(200)) {
            #expect(message.count == 400)
            indices.append(Int(message[0]) | Int(message[1]) << 8)
        }
        #expect(indices.count + Int(counters.dropped) == total)
        #expect(indices.count > 16 + 1)  // the kernel buffered some before the queue filled
        #expect(indices == Array(0..<indices.count))  // the oldest kept, the newest dropped
        #expect(bridge.counters.rxMessages == UInt64(indices.count))
    }

    @Test func clientDisconnectAndReconnect() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let sent = PayloadLog()
        let bridge = try EndpointSocketBridge(path: scratch.file("s"), mtu: 496, send: sent.sender)
        defer { bridge.close() }

        var client: UnixSocket? = try UnixSocket.connect(to: bridge.path, kind: .seqpacket)
        try client?.send(bytes("one"))
        try client?.send(bytes("two, then gone"))
        client?.close()
        client = nil
        #expect(eventually { sent.count == 2 && bridge.counters.connections == 1 && !bridge.isClientConnected })
        #expect(sent.all == [bytes("one"), bytes("two, then gone")])

        bridge.deliver(bytes("while nobody listens"))
        #expect(bridge.counters.queued == 1)

        let again = try UnixSocket.connect(to: bridge.path, kind: .seqpacket)
        #expect(try again.nextMessage() == bytes("while nobody listens"))
        try again.send(bytes("three"))
        #expect(eventually { sent.count == 3 })
        #expect(bridge.counters.connections == 2)
        #expect(bridge.counters.rejectedClients == 0)
    }

    @Test func closeDisconnectsRemovesTheFileAndIsIdempotent() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let path = scratch.file("s")
        let bridge = try EndpointSocketBridge(path: path, mtu: 496, send: PayloadLog().sender)
        let client = try UnixSocket.connect(to: path, kind: .seqpacket)
        #expect(eventually { bridge.isClientConnected })
        bridge.deliver(bytes("a"))
        #expect(try client.nextMessage() == bytes("a"))

        bridge.close()
        #expect(try client.nextReceive() == .closed)
        #expect(access(path, F_OK) != 0)
        #expect(throws: SystemError(call: "connect", subject: path, errno: ENOENT)) {
            try UnixSocket.connect(to: path, kind: .seqpacket)
        }
        bridge.close()
        bridge.deliver(bytes("after close"))
        #expect(bridge.counters.dropped == 1)
        #expect(bridge.counters.rxMessages == 1)
    }

    @Test func staleSocketIsReplacedButALiveOneOrAFileIsNot() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let path = scratch.file("s")
        // A stale socket: bound and closed without unlinking (as after a crash).
        let stale = try UnixSocket.listen(at: path, kind: .seqpacket)
        stale.close()
        #expect(access(path, F_OK) == 0)
        let bridge = try EndpointSocketBridge(path: path, mtu: 496, send: PayloadLog().sender)
        defer { bridge.close() }
        let client = try UnixSocket.connect(to: path, kind: .seqpacket)
        bridge.deliver(bytes("fresh"))
        #expect(try client.nextMessage() == bytes("fresh"))

        let refused = SystemError(call: "bind (a process is listening on this socket)", subject: path, errno: EADDRINUSE)
        #expect(throws: refused) { try EndpointSocketBridge(path: path, mtu: 496, send: PayloadLog().sender) }

        let plain = scratch.file("plain")
        try FileIO.writeFileAtomically(bytes("data"), to: plain)
        let notSocket = SystemError(call: "bind (the path exists and is not a socket; not replaced)", subject: plain, errno: EEXIST)
        #expect(throws: notSocket) { try EndpointSocketBridge(path: plain, mtu: 496, send: PayloadLog().sender) }
        #expect(try FileIO.readFile(plain) == bytes("data"))
    }

    @Test func pathLongerThanSunPathIsRefusedNamingThePath() throws {
        let path = "/tmp/" + String(repeating: "p", count: 103)  // 108 bytes: one too many
        #expect(path.utf8.count == 108)
        let error = #expect(throws: SystemError.self) {
            try EndpointSocketBridge(path: path, mtu: 496, send: PayloadLog().sender)
        }
        #expect(error?.errno == ENAMETOOLONG)
        #expect(error?.description == "\(path): bind (a UNIX socket path holds at most 107 bytes, this one has 108): File name too long")
    }

    @Test func failedSendsAreCountedWithTheirReason() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let bridge = try EndpointSocketBridge(path: scratch.file("s"), mtu: 496) { _ throws(RpmsgError) in
            throw RpmsgError(.noDevice, "ipu.vdev0: the link is down")
        }
        defer { bridge.close() }
        let client = try UnixSocket.connect(to: bridge.path, kind: .seqpacket)
        try client.send(bytes("lost"))
        #expect(eventually { bridge.counters.sendFailures == 1 })
        #expect(bridge.counters.txMessages == 0)
        #expect(bridge.lastError == "send of 4 bytes failed: ipu.vdev0: the link is down")
    }
}

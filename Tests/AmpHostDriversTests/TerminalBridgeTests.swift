import AmpRpmsg
import AmpSystem
import AmpTestSupport
import Glibc
import Testing

@testable import AmpHostDrivers

@Suite("TerminalBridgeTests")
struct TerminalBridgeTests {
    @Test func slaveIsARawTerminalAndBytesPassUnmodified() throws {
        let sent = PayloadLog()
        let bridge = try TerminalBridge(mtu: 496, send: sent.sender)
        defer { bridge.close() }
        #expect(bridge.path.hasPrefix("/dev/pts/"))
        let user = try TerminalUser(path: bridge.path)
        #expect(isatty(user.fd) == 1)
        var settings = termios()
        #expect(tcgetattr(user.fd, &settings) == 0)
        #expect(settings.c_lflag & tcflag_t(ECHO | ICANON | ISIG) == 0)
        #expect(settings.c_oflag & tcflag_t(OPOST) == 0)
        #expect(settings.c_iflag & tcflag_t(ICRNL) == 0)

        // CR, LF, DEL, ^C and 8-bit bytes reach the remote as typed (no echo, no translation, no signal).
        let typed: [UInt8] = [0x68, 0x69, 0x0d, 0x0a, 0x7f, 0x08, 0x03, 0xff, 0x00]
        try user.type(typed)
        #expect(eventually { sent.all.flatMap { $0 } == typed })
        #expect(user.read(count: 1, timeout: .milliseconds(50)) == [])  // no echo by the terminal

        let output: [UInt8] = Array("ampsoc> ok\r\n".utf8) + [0x00, 0xfe]
        bridge.deliver(output)
        #expect(user.read(count: output.count) == output)
        #expect(bridge.counters.rxMessages == 1)
        #expect(bridge.counters.rxBytes == UInt64(output.count))
        #expect(bridge.counters.txBytes == UInt64(typed.count))
    }

    @Test func typedBytesAreSentInChunksOfAtMostTheMTU() throws {
        let sent = PayloadLog()
        let bridge = try TerminalBridge(mtu: 16, send: sent.sender)
        defer { bridge.close() }
        let user = try TerminalUser(path: bridge.path)
        let typed = (0..<100).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        try user.type(typed)
        #expect(eventually { sent.all.reduce(0) { $0 + $1.count } == 100 })
        let chunks = sent.all
        #expect(chunks.allSatisfy { !$0.isEmpty && $0.count <= 16 })
        #expect(chunks.count >= 7)  // 100 bytes in chunks of 16 at most
        #expect(chunks.flatMap { $0 } == typed)
        #expect(bridge.counters.txMessages == UInt64(chunks.count))
    }

    @Test func outputWaitsInTheTerminalWhileNoProgramHasItOpen() throws {
        let bridge = try TerminalBridge(mtu: 496, send: PayloadLog().sender)
        defer { bridge.close() }
        // No program attached: the master keeps working (the bridge holds the slave open).
        bridge.deliver(Array("boot banner\r\n".utf8))
        #expect(eventually { bridge.counters.queued == 0 })
        let user = try TerminalUser(path: bridge.path)
        #expect(user.read(count: 13) == Array("boot banner\r\n".utf8))

        // A program that comes and goes does not hang the terminal up.
        do { _ = try TerminalUser(path: bridge.path) }
        bridge.deliver(Array("still alive".utf8))
        #expect(user.read(count: 11) == Array("still alive".utf8))
        #expect(bridge.lastError == nil)
    }

    @Test func outputBeyondTheTerminalAndTheQueueIsDroppedAndCounted() throws {
        let bridge = try TerminalBridge(mtu: 496, queueCapacity: 4, send: PayloadLog().sender)
        defer { bridge.close() }
        let chunk = [UInt8](repeating: 0x2e, count: 400)
        var delivered = 0
        // Fill the terminal's input queue (nobody reads), then the bridge's queue of 4, then drop.
        while bridge.counters.dropped == 0, delivered < 1000 {
            bridge.deliver(chunk)
            delivered += 1
            eventually(timeout: .milliseconds(20)) { bridge.counters.queued == 0 }
        }
        #expect(bridge.counters.dropped == 1)
        #expect(bridge.counters.queued == 4)
        #expect(bridge.counters.rxMessages == UInt64(delivered - 1))
    }

    @Test func closeHangsUpTheTerminalAndIsIdempotent() throws {
        let bridge = try TerminalBridge(mtu: 496, send: PayloadLog().sender)
        let user = try TerminalUser(path: bridge.path)
        bridge.close()
        bridge.close()
        var poller = pollfd(fd: user.fd, events: Int16(POLLIN), revents: 0)
        #expect(poll(&poller, 1, 1000) == 1)
        #expect(poller.revents & Int16(POLLHUP) != 0)
        bridge.deliver([1])
        #expect(bridge.counters.dropped == 1)
    }
}

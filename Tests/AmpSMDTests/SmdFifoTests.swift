// The FIFO arithmetic: one byte always free, wrap-around, exact fill, packets too large.

import Testing

@testable import AmpSMD
import AmpWire

@Suite("SmdFifoTests")
struct SmdFifoTests {
    @Test func geometryAcceptsPowersOfTwoOnly() throws {
        for size in [32, 64, 1024, 8192, 1 << 30] {
            #expect(try SmdFifoGeometry(size: size).mask == size - 1)
        }
        for size in [0, 16, 31, 48, 1000, 3 << 10, 1 << 31] {
            #expect(throws: SmdError.self) { try SmdFifoGeometry(size: size) }
        }
    }

    @Test func oneByteAlwaysFree() throws {
        let fifo = try SmdFifoGeometry(size: 64)
        #expect(fifo.readable(head: 0, tail: 0) == 0)
        #expect(fifo.writable(head: 0, tail: 0) == 63)
        #expect(fifo.readable(head: 63, tail: 0) == 63)
        #expect(fifo.writable(head: 63, tail: 0) == 0)
        #expect(fifo.readable(head: 9, tail: 10) == 63)
        #expect(fifo.writable(head: 9, tail: 10) == 0)
        #expect(fifo.readable(head: 10, tail: 9) == 1)
        #expect(fifo.writable(head: 10, tail: 9) == 62)
    }

    @Test func wrapAround() throws {
        let fifo = try SmdFifoGeometry(size: 64)
        #expect(fifo.readable(head: 4, tail: 60) == 8)
        #expect(fifo.writable(head: 4, tail: 60) == 55)
        #expect(fifo.advance(60, by: 8) == 4)
        #expect(fifo.advance(63, by: 1) == 0)
        #expect(fifo.spans(at: 60, count: 8) == (60..<64, 0..<4))
        #expect(fifo.spans(at: 10, count: 8) == (10..<18, 0..<0))
        #expect(fifo.spans(at: 56, count: 8) == (56..<64, 0..<0))
        #expect(fifo.wraps(at: 60, count: 8))
        #expect(!fifo.wraps(at: 56, count: 8))
    }

    @Test func packetsTooLarge() throws {
        let fifo = try SmdFifoGeometry(size: 1024)
        #expect(fifo.largestPayload == 1003)
        #expect(fifo.fits(payloadLength: 1003))
        #expect(!fifo.fits(payloadLength: 1004))
        #expect(fifo.bounceBufferSize == 1024)
        #expect(try SmdFifoGeometry(size: 16384).bounceBufferSize == 4096)
    }

    @Test(arguments: [false, true])
    func memoryCopiesSplitAtTheEnd(wordAccess: Bool) throws {
        let fifo = try SmdFifoGeometry(size: 32)
        let storage = UnsafeMutableRawPointer.allocate(byteCount: 32, alignment: 64)
        defer { storage.deallocate() }
        storage.initializeMemory(as: UInt8.self, repeating: 0xEE, count: 32)
        let memory = SmdFifoMemory(base: storage, geometry: fifo, wordAccess: wordAccess)
        let data = pattern(12, start: 1)
        let next = data.withUnsafeBytes { memory.write($0, at: 24) }
        #expect(next == 4)
        let raw = Array(UnsafeRawBufferPointer(start: storage, count: 32))
        #expect(Array(raw[24..<32]) == Array(data[0..<8]))
        #expect(Array(raw[0..<4]) == Array(data[8..<12]))
        #expect(Array(raw[4..<24]) == [UInt8](repeating: 0xEE, count: 20))
        var back = [UInt8](repeating: 0, count: 12)
        back.withUnsafeMutableBytes { memory.read(into: $0, at: 24) }
        #expect(back == data)
    }

    @Test func exactFillThroughTheChannel() throws {
        let pair = try EdgePair()
        let (host, remote) = try pair.openChannel(name: "fill", fifoSize: 64)
        // 63 bytes writable: one packet of 20 + 43 fills the FIFO exactly.
        #expect(try host.writableBytes() == 63)
        #expect(try host.send(pattern(43)) == .sent)
        #expect(try host.writableBytes() == 0)
        #expect(try !host.isWritable())
        #expect(try host.send([1], requestWakeup: false) == .wouldBlock)
        #expect(try remote.readableBytes() == 63)
        try pair.serviceRemote()
        #expect(pair.remoteReceived["fill"] == [pattern(43)])
        #expect(try host.writableBytes() == 63)
        // 44 bytes of payload never fit a 64-byte FIFO.
        #expect(throws: SmdError.self) { try host.send(pattern(44)) }
    }
}

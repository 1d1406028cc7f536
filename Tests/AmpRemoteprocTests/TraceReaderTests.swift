// TraceReader against a real segment, with the test playing the remote runtime: text written at
// `written % len`, then `written` advanced. Incremental reads, wrap-around, lost text, a reset buffer,
// Linux's whole-buffer view, and validation of records read from the control block.

import AmpSystem
import AmpWire
import Testing

@testable import AmpRemoteproc

@Suite("TraceReaderTests")
struct TraceReaderTests {
    typealias Support = RemoteprocTestSupport

    /// A prepared segment of the standard map with trace 0 "log" (16 bytes at 0x10000000) and trace 1 "big"
    /// (0x100 bytes at 0x20000000) published.
    final class Remote {
        let segment: SharedMemorySegment
        let map: RemoteMemoryMap
        let allocation: ResourceAllocation
        var written: [UInt64] = [0, 0]

        init() throws {
            map = try Support.standardMap()
            allocation = try Support.handle(
                [Support.trace("log", da: 0x1000_0000, len: 16), Support.trace("big", da: 0x2000_0000, len: 0x100)], map: map)
            segment = try Support.segment(size: map.segmentSize)
            let image = try SegmentImage.prepare(
                segment: segment, map: map, rproc: "dsp", generation: 1, hostPid: 1, bufferSize: 512, heartbeatPeriodMs: 0)
            try image.publish(allocation)
        }

        /// Writes `text` as the runtime does, then publishes the new total.
        func emit(_ text: String, trace index: Int = 0) throws {
            let trace = allocation.traces[index]
            for byte in text.utf8 {
                try segment.write([byte], at: trace.segmentOffset + Int(written[index] % UInt64(trace.len)))
                written[index] += 1
            }
            try setWritten(written[index], trace: index)
        }

        func setWritten(_ value: UInt64, trace index: Int = 0) throws {
            written[index] = value
            var writer = ByteWriter(count: 8, order: .host)
            writer.put(value, at: 0)
            try segment.write(writer.bytes, at: ControlBlock.traceRecordOffset(index) + 8)
        }

        func reader(_ index: Int = 0) -> TraceReader { TraceReader(trace: allocation.traces[index], rproc: "dsp") }
    }

    @Test func readsNewTextIncrementally() throws {
        let remote = try Remote()
        defer { try? remote.segment.unlink() }
        var reader = remote.reader()
        #expect(try reader.readNew(from: remote.segment) == "")
        try remote.emit("hello\n")
        #expect(try reader.written(in: remote.segment) == 6)
        #expect(try reader.readNew(from: remote.segment) == "hello\n")
        #expect(reader.cursor == 6)
        #expect(try reader.readNew(from: remote.segment) == "")
        try remote.emit("abc")
        #expect(try reader.readChunk(from: remote.segment) == TraceReader.Chunk(bytes: Array("abc".utf8), lost: 0, end: 9))
        // Traces are independent.
        try remote.emit("other", trace: 1)
        var big = remote.reader(1)
        #expect(try big.readNew(from: remote.segment) == "other")
        #expect(try reader.readNew(from: remote.segment) == "")
    }

    @Test func wrapsAroundTheBuffer() throws {
        let remote = try Remote()
        defer { try? remote.segment.unlink() }
        var reader = remote.reader()
        try remote.emit("0123456789")
        #expect(try reader.readNew(from: remote.segment) == "0123456789")
        try remote.emit("ABCDEFGHIJ")  // positions 10...15, then 0...3
        #expect(try reader.readNew(from: remote.segment) == "ABCDEFGHIJ")
        #expect(try remote.segment.read(at: remote.allocation.traces[0].segmentOffset, count: 16) == Array("GHIJ456789ABCDEF".utf8))
        #expect(try reader.recentText(from: remote.segment) == "456789ABCDEFGHIJ")
        // Linux's debugfs view is the raw buffer in memory order.
        #expect(try reader.bufferText(from: remote.segment) == "GHIJ456789ABCDEF")
    }

    @Test func fallingBehindLosesTheOldestText() throws {
        let remote = try Remote()
        defer { try? remote.segment.unlink() }
        var reader = remote.reader()
        let text = "abcdefghijklmnopqrstuvwxyz0123456789ABCD"  // 40 bytes into a 16-byte buffer
        try remote.emit(text)
        let chunk = try reader.readChunk(from: remote.segment)
        #expect(chunk == TraceReader.Chunk(bytes: Array(text.utf8.suffix(16)), lost: 24, end: 40))
        #expect(chunk.text == "[lost 24 bytes]\n" + String(text.suffix(16)))
        #expect(reader.totalLost == 24 && reader.cursor == 40)
        try remote.emit("xy")
        #expect(try reader.readNew(from: remote.segment) == "xy")
        #expect(reader.totalLost == 24)
    }

    @Test func aResetBufferIsReadFromItsStart() throws {
        let remote = try Remote()
        defer { try? remote.segment.unlink() }
        var reader = remote.reader()
        try remote.emit("0123456789")
        _ = try reader.readNew(from: remote.segment)
        try remote.setWritten(0)
        try remote.emit("new\0")
        #expect(try reader.readChunk(from: remote.segment) == TraceReader.Chunk(bytes: Array("new\0".utf8), lost: 0, end: 4))
        // NUL bytes are dropped from the text; Linux's view stops at the first NUL.
        try remote.emit("more")
        #expect(try reader.readNew(from: remote.segment) == "more")
        #expect(try reader.bufferText(from: remote.segment) == "new")
    }

    @Test func readersFromTheControlBlockAreValidated() throws {
        let remote = try Remote()
        defer { try? remote.segment.unlink() }
        let reader = try TraceReader.fromControlBlock(segment: remote.segment, map: remote.map, index: 1, rproc: "dsp")
        #expect(reader.trace.da == 0x2000_0000 && reader.trace.len == 0x100 && reader.trace.segmentOffset == 0x101000)
        func message(_ index: Int) -> String? {
            Support.error { () throws(RemoteprocError) in
                try TraceReader.fromControlBlock(segment: remote.segment, map: remote.map, index: index, rproc: "dsp")
            }?.description
        }
        #expect(message(2) == "dsp: trace 2: not published (len 0 in the control block)")
        #expect(message(8) == "dsp: trace 8: the control block has traces 0 to 7")
        var writer = ByteWriter(count: 8, order: .host)
        writer.put(UInt32(0x3000_0000), at: 0)
        writer.put(UInt32(0x10), at: 4)
        try remote.segment.write(writer.bytes, at: ControlBlock.traceRecordOffset(1))
        #expect(message(1) == "dsp: trace 1: published da 0x30000000 len 0x10 is not in the memory map")
    }

    @Test func errorsNameTheRemoteFromTheSegmentName() throws {
        let remote = try Remote()
        defer { try? remote.segment.unlink() }
        let record = TraceRecord(index: 9, entryIndex: 0, entryOffset: 0, name: "log", da: 0, len: 16, segmentOffset: 0x1000)
        var reader = TraceReader(trace: record)
        let error = Support.error { () throws(RemoteprocError) in try reader.readNew(from: remote.segment) }
        let rproc = try #require(SegmentNames.parse(remote.segment.name)?.rproc)
        #expect(error?.description == "\(rproc): trace 9 'log' is not one of the control block's 8 trace records")
        // A record pointing past the segment is refused by the segment's bounds check, not read.
        let outside = TraceRecord(index: 0, entryIndex: 0, entryOffset: 0, name: "log", da: 0, len: 16, segmentOffset: remote.map.segmentSize - 8)
        var wild = TraceReader(trace: outside, rproc: "dsp")
        try remote.emit("0123456789abcdef")
        let bounds = Support.error { () throws(RemoteprocError) in try wild.readNew(from: remote.segment) }
        #expect(bounds?.code == .outOfRange)
        #expect(bounds?.description.hasPrefix("dsp: trace 0 'log': \(remote.segment.name): bounds check") == true)
    }
}

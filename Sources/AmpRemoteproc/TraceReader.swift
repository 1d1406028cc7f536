import AmpSystem
import AmpWire
import Synchronization

/// Reads one trace buffer of a running remote (docs/shared-memory.md "Trace buffers").
///
/// The runtime writes text at `written % len` in the buffer (wrapping) and then advances the control
/// block's `traces[i].written` (u64, total bytes ever written) with release order. The reader keeps a
/// cursor (the `written` value it has read up to) and on each call returns the text written since:
///
/// - behind by more than `len` bytes: the oldest text was overwritten; only the last `len` bytes are
///   returned and the rest counted as lost ("[lost N bytes]");
/// - the writer can overwrite text while it is being copied: `written` is read again afterwards and any
///   copied byte that may have been overwritten meanwhile is dropped and counted as lost;
/// - `written` going backwards (a reset buffer): the reader starts over from the buffer's oldest text.
///
/// ``bufferText(from:)`` is Linux's debugfs `traceN` view instead: the raw buffer up to its first NUL.
/// The buffer's place comes from the host's own ``TraceRecord`` (not from the segment); only `written` is
/// read from the control block, and every copy is bounds-checked by the segment.
public struct TraceReader: Sendable {
    /// The trace buffer read.
    public let trace: TraceRecord
    /// The remote's name, for errors.
    public let rproc: String
    /// The `written` value up to which text has been returned.
    public private(set) var cursor: UInt64
    /// Bytes lost so far (overwritten before they were read).
    public private(set) var totalLost: UInt64 = 0

    /// New text from one read.
    public struct Chunk: Sendable, Equatable {
        /// The bytes, oldest first.
        public var bytes: [UInt8]
        /// Bytes written since the previous read that were overwritten before they could be read.
        public var lost: UInt64
        /// The `written` value after the last byte of `bytes` (the new cursor).
        public var end: UInt64

        /// The text with NUL bytes removed, preceded by "[lost N bytes]\n" when `lost` is not 0.
        public var text: String {
            let body = String(decoding: bytes.filter { $0 != 0 }, as: UTF8.self)
            return lost == 0 ? body : "[lost \(lost) bytes]\n" + body
        }
    }

    /// A reader of `trace` from its start (`cursor` 0). `rproc` names the remote in errors; when nil, it is
    /// taken from the segment's name.
    public init(trace: TraceRecord, rproc: String? = nil, cursor: UInt64 = 0) {
        self.trace = trace
        self.rproc = rproc ?? ""
        self.cursor = cursor
    }

    /// A reader of trace `index` as published in the control block, its `da` and `len` checked against the
    /// host's `map` (for live views that have no ``ResourceAllocation`` at hand).
    public static func fromControlBlock(
        segment: SharedMemorySegment, map: RemoteMemoryMap, index: Int, rproc: String
    ) throws(RemoteprocError) -> TraceReader {
        let record = try SegmentImage.readTraceRecord(segment: segment, index: index, rproc: rproc)
        guard record.len > 0 else {
            throw RemoteprocError(rproc: rproc, code: .noEntry, message: "trace \(index): not published (len 0 in the control block)")
        }
        guard let offset = map.translate(da: record.da, count: record.len) else {
            throw RemoteprocError(
                rproc: rproc, code: .invalidArgument,
                message: "trace \(index): published da \(rprocHex(record.da)) len \(rprocHex(record.len)) is not in the memory map")
        }
        let trace = TraceRecord(
            index: index, entryIndex: -1, entryOffset: -1, name: "trace\(index)", da: record.da, len: record.len, segmentOffset: offset)
        return TraceReader(trace: trace, rproc: rproc)
    }

    // MARK: Reading

    /// The control block's `written` for this trace, loaded with acquire order.
    public func written(in segment: SharedMemorySegment) throws(RemoteprocError) -> UInt64 {
        guard (0..<ControlBlock.maxTraces).contains(trace.index) else {
            throw error(segment, "is not one of the control block's \(ControlBlock.maxTraces) trace records", code: .invalidArgument)
        }
        let offset = ControlBlock.traceRecordOffset(trace.index) + 8
        do {
            try segment.checkRange(offset: offset, count: 8)
        } catch {
            throw RemoteprocError(rproc: name(segment), system: error)
        }
        // The record is 16-byte aligned in a page-aligned mapping, so this u64 is naturally aligned.
        let word = (segment.base + offset).bindMemory(to: Atomic<UInt64>.self, capacity: 1)
        return word.pointee.load(ordering: .acquiring)
    }

    /// The bytes written since the last read (see the type's comment); advances the cursor.
    public mutating func readChunk(from segment: SharedMemorySegment) throws(RemoteprocError) -> Chunk {
        let length = UInt64(trace.len)
        guard length > 0 else { throw error(segment, "has len 0", code: .invalidArgument) }
        let written = try written(in: segment)
        var start = cursor
        var lost: UInt64 = 0
        if written < start {
            start = written > length ? written - length : 0
            lost = start
        }
        if written - start > length {
            lost += written - start - length
            start = written - length
        }
        var bytes = try readRing(segment, from: start, count: Int(written - start))
        let after = try self.written(in: segment)
        if after >= start, after - start > length {
            let damaged = Int(min(UInt64(bytes.count), after - start - length))
            bytes.removeFirst(damaged)
            lost += UInt64(damaged)
        }
        cursor = written
        totalLost &+= lost
        return Chunk(bytes: bytes, lost: lost, end: written)
    }

    /// ``readChunk(from:)`` as text (see ``Chunk/text``).
    public mutating func readNew(from segment: SharedMemorySegment) throws(RemoteprocError) -> String {
        try readChunk(from: segment).text
    }

    /// Linux's debugfs `traceN`: the whole buffer as text up to its first NUL (in buffer order, which after
    /// a wrap-around is not the order of writing).
    public func bufferText(from segment: SharedMemorySegment) throws(RemoteprocError) -> String {
        let bytes = try read(segment, at: trace.segmentOffset, count: Int(trace.len))
        return String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// The most recent text still in the buffer (up to `len` bytes), oldest first, NULs removed; does not
    /// move the cursor.
    public func recentText(from segment: SharedMemorySegment) throws(RemoteprocError) -> String {
        let length = UInt64(trace.len)
        let written = try written(in: segment)
        let start = written > length ? written - length : 0
        let bytes = try readRing(segment, from: start, count: Int(written - start))
        return String(decoding: bytes.filter { $0 != 0 }, as: UTF8.self)
    }

    // MARK: Helpers

    /// `count` (at most `len`) bytes of the ring starting at stream position `start`, wrapping at `len`.
    private func readRing(_ segment: SharedMemorySegment, from start: UInt64, count: Int) throws(RemoteprocError) -> [UInt8] {
        guard count > 0 else { return [] }
        let length = Int(trace.len)
        let position = Int(start % UInt64(length))
        let first = min(count, length - position)
        var bytes = try read(segment, at: trace.segmentOffset + position, count: first)
        if count > first { bytes += try read(segment, at: trace.segmentOffset, count: count - first) }
        return bytes
    }

    private func read(_ segment: SharedMemorySegment, at offset: Int, count: Int) throws(RemoteprocError) -> [UInt8] {
        do {
            return try segment.read(at: offset, count: count)
        } catch {
            throw RemoteprocError(rproc: name(segment), system: error, context: "trace \(trace.index) '\(trace.name)':")
        }
    }

    private func error(_ segment: SharedMemorySegment, _ reason: String, code: RemoteprocError.Code) -> RemoteprocError {
        RemoteprocError(rproc: name(segment), code: code, message: "trace \(trace.index) '\(trace.name)' \(reason)")
    }

    /// `rproc`, or the remote's name taken from the segment's name.
    private func name(_ segment: SharedMemorySegment) -> String {
        rproc.isEmpty ? (SegmentNames.parse(segment.name)?.rproc ?? segment.name) : rproc
    }
}

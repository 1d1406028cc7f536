import AmpSystem
import AmpWire
import Testing

@testable import AmpRemote

/// The trace ring writer, device-address translation and crash-message truncation, in this process.
@Suite struct TraceLogAndAddressTests {
    /// A 16-byte trace buffer at segment offset 0x1000 and its `written` counter at 0x608.
    final class TraceFixture {
        let segment: SharedMemorySegment
        let log: TraceLog

        init(initialWritten: UInt64 = 0) throws {
            let name = try SegmentNames.make(instance: "rt-trace", rproc: "r\(UInt32.random(in: 0...UInt32.max))").path
            segment = try SharedMemorySegment.create(name: name, size: 0x2000)
            let written = try SharedAtomicWord64(segment: segment, offset: 0x608)
            written.store(initialWritten)
            log = TraceLog(buffer: UnsafeMutableRawBufferPointer(start: segment.base + 0x1000, count: 16), written: written)
        }

        var buffer: String { String(decoding: (try? segment.read(at: 0x1000, count: 16)) ?? [], as: UTF8.self) }
        var written: UInt64 {
            (try? ByteReader(segment.read(at: 0x608, count: 8), order: .host).u64(at: 0, field: "written")) ?? 0
        }
    }

    @Test func appendsLinesAndWrapsAtTheEnd() throws {
        let fixture = try TraceFixture()
        fixture.log.append("abc")
        #expect(fixture.buffer == "abc\n" + String(repeating: "\0", count: 12))
        #expect(fixture.written == 4)
        fixture.log.append("0123456789")
        #expect(fixture.buffer == "abc\n0123456789\n\0")
        #expect(fixture.written == 15)
        fixture.log.append("XYZ")
        #expect(fixture.buffer == "YZ\n\n0123456789\nX")
        #expect(fixture.written == 19)
    }

    @Test func textLongerThanTheBufferKeepsItsEnd() throws {
        let fixture = try TraceFixture()
        fixture.log.append("ab")
        fixture.log.append("the quick brown fox jumps")  // 26 bytes with the newline
        #expect(fixture.written == 29)
        // The last 16 bytes of the stream, "brown fox jumps\n", start at 29 - 16 = 13, i.e. at 13 % 16.
        #expect(fixture.buffer == "wn fox jumps\nbro")
    }

    @Test func continuesFromThePublishedTotal() throws {
        let fixture = try TraceFixture(initialWritten: 14)
        fixture.log.append("hey")
        #expect(fixture.written == 18)
        #expect(fixture.buffer == "y\n" + String(repeating: "\0", count: 12) + "he")
    }

    @Test func logWithoutBufferIsUnavailable() {
        // Appending to it only notes the missing buffer on stderr (checked in RemoteRuntimeTests).
        #expect(!TraceLog().isAvailable)
    }

    @Test func translatesInsideOneRegionOnly() throws {
        let host = try TestHost()
        let map = AddressMap(base: host.segment.base, regions: [TestHost.ipcRegion, TestHost.ddrRegion])
        let base = host.segment.base
        #expect(map.translate(da: 0x9F00_0000, count: 4) == base + 0x1000)
        #expect(map.translate(da: 0x9F0F_FFFC, count: 4) == base + 0x1000 + 0xF_FFFC)
        #expect(map.translate(da: 0x9F0F_FFFD, count: 4) == nil)
        #expect(map.translate(da: 0x8000_0010, count: 0x10) == base + 0x10_1010)
        #expect(map.translate(da: 0x8001_0000, count: 1) == nil)
        #expect(map.translate(da: 0x7FFF_FFFF, count: 2) == nil)
        #expect(map.translate(da: 0xDEAD_0000, count: 4) == nil)
        #expect(map.translate(da: 0x9F00_0000, count: -1) == nil)
        #expect(map.translate(da: 0x9F00_0000, count: 1 << 33) == nil)
        #expect(map.segmentOffset(da: 0x9F08_0000, count: 0x1_0000) == 0x8_1000)
        #expect(map.region(containing: 0x8000_FFFF)?.name == "ddr")
    }

    @Test func crashMessagesAreCutAtCharacterBoundaries() {
        #expect(ControlBlockView.truncatedUTF8("aé", maxBytes: 2) == [0x61])
        #expect(ControlBlockView.truncatedUTF8("aé", maxBytes: 3) == [0x61, 0xC3, 0xA9])
        #expect(ControlBlockView.truncatedUTF8(String(repeating: "x", count: 300), maxBytes: 183).count == 183)
    }
}

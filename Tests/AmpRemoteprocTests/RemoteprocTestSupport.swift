// Helpers shared by the remoteproc memory-side tests: standard memory maps, real shared-memory segments
// with unique names (checked gone afterwards), synthetic firmware files, little-endian field reads, and the
// location of the real firmware fixtures.

import AmpProfiles
import AmpSystem
import AmpWire
import Foundation
import Glibc
import Testing

@testable import AmpRemoteproc

enum RemoteprocTestSupport {
    static let any = ResourceTable.addressAny

    /// The map most tests use:
    ///   region 0 "ram"  carveout da 0x10000000 pa 0x80000000 size 0x100000 -> segment offset 0x1000
    ///   region 1 "sram" carveout da 0x20000000 pa 0x40000000 size 0x8000   -> segment offset 0x101000
    ///   region 2 "l4"   devmem   da 0x4A000000 pa 0x4A000000 size 0x10000  -> segment offset 0x109000
    ///   segment size 0x119000
    static let standardRegions: [MemoryRegionProfile] = [
        MemoryRegionProfile(name: "ram", kind: .carveout, da: 0x1000_0000, pa: 0x8000_0000, size: 0x10_0000),
        MemoryRegionProfile(name: "sram", kind: .carveout, da: 0x2000_0000, pa: 0x4000_0000, size: 0x8000),
        MemoryRegionProfile(name: "l4", kind: .devmem, da: 0x4A00_0000, pa: 0x4A00_0000, size: 0x1_0000),
    ]

    static func standardMap() throws -> RemoteMemoryMap {
        try RemoteMemoryMap(regions: standardRegions, rproc: "dsp")
    }

    static func map(_ regions: [MemoryRegionProfile]) throws -> RemoteMemoryMap {
        try RemoteMemoryMap(regions: regions, rproc: "dsp")
    }

    /// Handles a synthetic table (no sh_addr unless given) against `map` for remote "dsp".
    static func handle(
        _ resources: [Resource], map: RemoteMemoryMap, tableAddress: UInt64? = nil, bufferSize: Int = 512,
        reserved: [MemoryAllocator.Range] = []
    ) throws(RemoteprocError) -> ResourceAllocation {
        try ResourceHandler.handle(
            table: ResourceTable(resources: resources), tableAddress: tableAddress, memoryMap: map, rproc: "dsp",
            bufferSize: bufferSize, reservedRanges: reserved)
    }

    /// The error `body` throws, or nil (recording an issue) when it does not throw.
    static func error<T>(_ body: () throws(RemoteprocError) -> T, sourceLocation: SourceLocation = #_sourceLocation) -> RemoteprocError? {
        do {
            _ = try body()
            Issue.record("expected a RemoteprocError", sourceLocation: sourceLocation)
            return nil
        } catch {
            return error
        }
    }

    // MARK: Resources

    static func carveout(_ name: String, da: UInt32, pa: UInt32 = ResourceTable.addressAny, len: UInt32) -> Resource {
        .carveout(Resource.Carveout(da: da, pa: pa, len: len, name: name))
    }

    static func devmem(_ name: String, da: UInt32, pa: UInt32, len: UInt32) -> Resource {
        .devmem(Resource.Devmem(da: da, pa: pa, len: len, name: name))
    }

    static func trace(_ name: String, da: UInt32, len: UInt32) -> Resource {
        .trace(Resource.Trace(da: da, len: len, name: name))
    }

    static func vdev(id: UInt32 = VirtioDeviceID.rpmsg, vrings: [Resource.VdevVring], config: [UInt8] = []) -> Resource {
        .vdev(Resource.VirtioDevice(id: id, notifyid: 0, dfeatures: 1, vrings: vrings, config: config))
    }

    static func vring(da: UInt32 = ResourceTable.addressAny, align: UInt32 = 4096, num: UInt32 = 256) -> Resource.VdevVring {
        Resource.VdevVring(da: da, align: align, num: num, notifyid: 0x55)
    }

    // MARK: Bytes

    /// The little-endian (host order on the machines this runs on) u32 at `offset`.
    static func u32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        (try? ByteReader(bytes, order: .host).u32(at: offset, field: "test")) ?? 0xDEAD_BEEF
    }

    static func u64(_ bytes: [UInt8], _ offset: Int) -> UInt64 {
        (try? ByteReader(bytes, order: .host).u64(at: offset, field: "test")) ?? 0xDEAD_BEEF
    }

    // MARK: Segments

    /// A new segment with a unique "/ampsoc.test-rsc..." name, filled with 0xAA so zeroing is observable.
    static func segment(size: Int) throws -> SharedMemorySegment {
        let salt = UInt32.random(in: 0...UInt32.max)
        let name = try SegmentNames.make(instance: "test-rsc", rproc: "r\(salt)").path
        let segment = try SharedMemorySegment.create(name: name, size: size)
        try segment.write([UInt8](repeating: 0xAA, count: size), at: 0)
        return segment
    }

    /// Whether /dev/shm still holds `name`.
    static func segmentExists(_ name: String) -> Bool {
        access("/dev/shm" + name, F_OK) == 0
    }

    // MARK: Files

    /// A fresh directory under the system's temporary directory.
    static func temporaryDirectory(_ label: String) throws -> String {
        let path = NSTemporaryDirectory() + "ampsoc-rsc-\(label)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Writes `bytes` to `directory/name` and returns the path.
    static func writeFile(_ bytes: [UInt8], named name: String, in directory: String) throws -> String {
        let path = directory + "/" + name
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// `<package root>/../shared/fixtures/firmware`.
    static var fixturesDirectory: String {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()  // AmpRemoteprocTests
            .deletingLastPathComponent()  // Tests
            .deletingLastPathComponent()  // package root
            .deletingLastPathComponent()
            .appendingPathComponent("shared/fixtures/firmware", isDirectory: true).path
    }

    /// Loads fixture `<name>.elf` as firmware of remote "dsp".
    static func fixture(_ name: String) throws -> FirmwareImage {
        try FirmwareImage.load(path: fixturesDirectory + "/" + name + ".elf", rproc: "dsp")
    }
}

@testable import AmpVirtio
import AmpWire
import Foundation
import Synchronization
import Testing

/// Page-aligned, zero-filled memory holding one split ring, with raw byte access for golden checks and for
/// playing a hostile peer. Native (little-endian on the test machines) byte order.
final class TestRing: @unchecked Sendable {
    let layout: VringLayout
    let base: UnsafeMutableRawPointer
    let size: Int

    init(num: Int, align: Int) throws {
        layout = try VringLayout(num: num, align: align)
        size = try layout.allocationSize()
        base = .allocate(byteCount: size, alignment: 4096)
        base.initializeMemory(as: UInt8.self, repeating: 0, count: size)
    }

    deinit { base.deallocate() }

    /// The ring's bytes (descriptor table through avail_event).
    var bytes: [UInt8] { bytes(at: 0, count: layout.totalSize) }

    func bytes(at offset: Int, count: Int) -> [UInt8] {
        Array(UnsafeRawBufferPointer(start: base + offset, count: count))
    }

    func u16(at offset: Int) -> UInt16 { base.loadUnaligned(fromByteOffset: offset, as: UInt16.self) }
    func u32(at offset: Int) -> UInt32 { base.loadUnaligned(fromByteOffset: offset, as: UInt32.self) }
    func put(_ value: UInt16, at offset: Int) { base.storeBytes(of: value, toByteOffset: offset, as: UInt16.self) }
    func put(_ value: UInt32, at offset: Int) { base.storeBytes(of: value, toByteOffset: offset, as: UInt32.self) }
    func put(_ value: UInt64, at offset: Int) { base.storeBytes(of: value, toByteOffset: offset, as: UInt64.self) }

    // Named fields, for readable tests.
    var availFlags: UInt16 { u16(at: layout.availOffset) }
    var availIdx: UInt16 { u16(at: layout.availIdxOffset) }
    var usedEvent: UInt16 { u16(at: layout.usedEventOffset) }
    var usedFlags: UInt16 { u16(at: layout.usedOffset) }
    var usedIdx: UInt16 { u16(at: layout.usedIdxOffset) }
    var availEvent: UInt16 { u16(at: layout.availEventOffset) }

    /// Plays the device: writes used.ring[slot] = {id, len}.
    func putUsedElement(slot: Int, id: UInt32, length: UInt32) {
        put(id, at: layout.usedRingOffset + 8 * slot)
        put(length, at: layout.usedRingOffset + 8 * slot + 4)
    }

    /// Plays the driver: writes desc[index].
    func putDescriptor(_ index: Int, address: UInt64, length: UInt32, flags: UInt16, next: UInt16) {
        let offset = 16 * index
        put(address, at: offset)
        put(length, at: offset + 8)
        put(flags, at: offset + 12)
        put(next, at: offset + 14)
    }
}

/// Device memory for buffers: `count` buffers of `bufferSize` bytes at device address `deviceBase`.
final class TestBufferPool: @unchecked Sendable {
    static let deviceBase: UInt64 = 0x8000_0000
    let bufferSize: Int
    let count: Int
    let base: UnsafeMutableRawPointer

    init(count: Int, bufferSize: Int = 512) {
        self.count = count
        self.bufferSize = bufferSize
        base = .allocate(byteCount: count * bufferSize, alignment: 64)
        base.initializeMemory(as: UInt8.self, repeating: 0, count: count * bufferSize)
    }

    deinit { base.deallocate() }

    /// Device address of buffer `index`.
    func address(of index: Int) -> UInt64 { Self.deviceBase + UInt64(index * bufferSize) }

    /// Pointer to buffer `index`.
    func pointer(of index: Int) -> UnsafeMutableRawPointer { base + index * bufferSize }

    /// The device's address translation: only ranges wholly inside the pool.
    func translate(_ address: UInt64, _ length: UInt32) -> UnsafeMutableRawPointer? {
        guard address >= Self.deviceBase else { return nil }
        let offset = address - Self.deviceBase
        let total = UInt64(count * bufferSize)
        guard offset <= total, UInt64(length) <= total - offset else { return nil }
        return base + Int(offset)
    }
}

/// A driver and a device over one ring, with a buffer pool.
struct QueuePair {
    let ring: TestRing
    let pool: TestBufferPool
    let driver: VirtqueueDriver
    let device: VirtqueueDevice

    /// A fresh pair; with `startIndex`, both sides start at that free-running index (internal test hooks), as
    /// if that many buffers had already made the round trip.
    init(
        num: Int = 8, align: Int = 16, eventIndex: Bool = false, startIndex: UInt16? = nil,
        driverName: String = "vring0", deviceName: String = "vring0"
    ) throws {
        ring = try TestRing(num: num, align: align)
        pool = TestBufferPool(count: num)
        driver = try VirtqueueDriver(name: driverName, ring: ring.base, num: num, align: align, eventIndex: eventIndex)
        let pool = self.pool
        device = try VirtqueueDevice(
            name: deviceName, ring: ring.base, num: num, align: align, eventIndex: eventIndex,
            translate: { pool.translate($0, $1) })
        if let startIndex {
            driver.startIndices(at: startIndex)
            device.startIndices(at: startIndex)
        }
    }

    /// `count` complete round trips of one device-writable buffer each (buffer 0, token = round number),
    /// moving both free-running indices forward by `count`.
    func roundTrips(_ count: Int) throws {
        for round in 0..<count {
            try driver.add(address: pool.address(of: 0), length: 64, deviceWritable: true, token: round)
            _ = driver.publish()
            let buffer = try #require(try device.takeAvailable())
            try device.addUsed(head: buffer.head, length: 4)
            _ = device.publishUsed()
            let used = try #require(try driver.takeUsed())
            guard used.token == round, used.length == 4 else {
                Issue.record("round \(round): got token \(used.token) length \(used.length)")
                return
            }
        }
    }
}

/// What `VirtqueueDriver.takeUsed()` returns, as an Equatable value.
struct UsedBuffer: Equatable, CustomStringConvertible {
    let token: Int
    let length: UInt32
    var description: String { "token \(token) length \(length)" }
}

extension VirtqueueDriver {
    func takeUsedBuffer() throws(VirtqueueError) -> UsedBuffer? {
        try takeUsed().map { UsedBuffer(token: $0.token, length: $0.length) }
    }
}

/// Asserts that `body` throws a `VirtqueueError` with exactly `code` and `message`.
func expectVirtqueueError<T>(
    _ code: VirtqueueError.Code, _ message: String, sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws(VirtqueueError) -> T
) {
    do {
        _ = try body()
        Issue.record("expected \(code) \"\(message)\", nothing thrown", sourceLocation: sourceLocation)
    } catch {
        #expect(error.code == code, sourceLocation: sourceLocation)
        #expect(error.message == message, sourceLocation: sourceLocation)
    }
}

/// Hands a non-Sendable value to another thread when the test guarantees exclusive use.
struct UncheckedTransfer<Value>: @unchecked Sendable {
    let value: Value
}

/// Runs `body` on a dedicated thread (spinning must not occupy the Swift concurrency pool) and returns its
/// result.
func onDedicatedThread<R: Sendable>(_ body: @escaping @Sendable () -> R) async -> R {
    await withCheckedContinuation { continuation in
        let thread = Thread { continuation.resume(returning: body()) }
        thread.stackSize = 1 << 20
        thread.start()
    }
}

import AmpVirtio
import AmpWire
import Testing

/// Split virtqueues, driver and device, over in-process memory. The tests are spread over several files as
/// extensions of this suite.
@Suite("VirtqueueTests")
struct VirtqueueTests {}

// MARK: - Golden bytes of what each side writes

extension VirtqueueTests {
    /// num 8, align 16: avail @128 (idx @130, ring @132, used_event @148), used @160 (idx @162, ring @164,
    /// avail_event @228), size 230.
    @Test("add and publish write desc, avail.ring and avail.idx byte for byte", .enabled(if: ByteOrder.host == .little))
    func driverGoldenBytes() throws {
        let pair = try QueuePair(num: 8, align: 16)
        try pair.driver.add(address: 0x8000_0200, length: 512, deviceWritable: true, token: 7)
        try pair.driver.add(address: 0x1122_3344_5566_7788, length: 16, deviceWritable: false, token: 8)

        var expected = [UInt8](repeating: 0, count: 230)
        // desc[0]: addr 0x80000200, len 512, flags WRITE, next 0.
        expected.replaceSubrange(0..<16, with: [0x00, 0x02, 0x00, 0x80, 0, 0, 0, 0, 0x00, 0x02, 0, 0, 0x02, 0x00, 0, 0])
        // desc[1]: addr 0x1122334455667788, len 16, flags 0, next 0.
        expected.replaceSubrange(
            16..<32, with: [0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0x10, 0, 0, 0, 0, 0, 0, 0])
        // avail.ring[0] = 0, avail.ring[1] = 1; avail.idx still 0: nothing is published yet.
        expected.replaceSubrange(132..<136, with: [0x00, 0x00, 0x01, 0x00])
        #expect(pair.ring.bytes == expected)

        #expect(pair.driver.publish())
        // avail.idx = 2; nothing else changed.
        expected.replaceSubrange(130..<132, with: [0x02, 0x00])
        #expect(pair.ring.bytes == expected)
        #expect(pair.driver.freeCount == 6)
        #expect(pair.driver.outstandingCount == 2)
        #expect(pair.driver.counters.added == 2)
        #expect(pair.driver.counters.notifications == 1)

        // The descriptors match AmpWire's serialisation of the same values.
        #expect(pair.ring.bytes(at: 0, count: 16)
            == VringDescriptor(address: 0x8000_0200, length: 512, flags: .write).serialized(order: .host))
    }

    @Test("addUsed and publishUsed write used.ring and used.idx byte for byte", .enabled(if: ByteOrder.host == .little))
    func deviceGoldenBytes() throws {
        let pair = try QueuePair(num: 8, align: 16)
        try pair.driver.add(address: pair.pool.address(of: 0), length: 512, deviceWritable: true, token: 7)
        try pair.driver.add(address: pair.pool.address(of: 1), length: 16, deviceWritable: false, token: 8)
        _ = pair.driver.publish()
        let before = pair.ring.bytes

        let first = try #require(try pair.device.takeAvailable())
        let second = try #require(try pair.device.takeAvailable())
        #expect(try pair.device.takeAvailable() == nil)
        #expect(first.head == 0 && first.address == 0x8000_0000 && first.length == 512 && first.isDeviceWritable)
        #expect(first.pointer == pair.pool.pointer(of: 0) && first.descriptorCount == 1 && first.writableLength == 512)
        #expect(second.head == 1 && second.address == 0x8000_0200 && second.length == 16 && !second.isDeviceWritable)
        #expect(second.writableLength == 0)
        // Taking buffers writes nothing.
        #expect(pair.ring.bytes == before)

        try pair.device.addUsed(head: 1, length: 0)
        try pair.device.addUsed(head: 0, length: 300)
        var expected = before
        expected.replaceSubrange(164..<172, with: [1, 0, 0, 0, 0, 0, 0, 0])
        expected.replaceSubrange(172..<180, with: [0, 0, 0, 0, 0x2C, 0x01, 0, 0])
        #expect(pair.ring.bytes == expected)
        #expect(pair.device.publishUsed())
        expected.replaceSubrange(162..<164, with: [0x02, 0x00])
        #expect(pair.ring.bytes == expected)

        // The driver gets them back in used order; the read-only buffer reports 0 bytes.
        #expect(try pair.driver.takeUsedBuffer() == UsedBuffer(token: 8, length: 0))
        #expect(try pair.driver.takeUsedBuffer() == UsedBuffer(token: 7, length: 300))
        #expect(try pair.driver.takeUsed() == nil)
        #expect(pair.driver.freeCount == 8)
    }

    @Test("remoteproc default ring (num 256, align 4096) uses VringLayout offsets")
    func defaultRingOffsets() throws {
        let pair = try QueuePair(num: 256, align: 4096)
        try pair.driver.add(address: 0x1234, length: 8, deviceWritable: true, token: 1)
        try pair.driver.add(address: 0x5678, length: 8, deviceWritable: true, token: 2)
        _ = pair.driver.publish()
        #expect(pair.ring.u16(at: 4098) == 2)  // avail.idx
        #expect(pair.ring.u16(at: 4100) == 0)  // avail.ring[0]
        #expect(pair.ring.u16(at: 4102) == 1)  // avail.ring[1]
        #expect(pair.ring.u32(at: 16 + 8) == 8)  // desc[1].len
        pair.ring.putUsedElement(slot: 0, id: 1, length: 5)
        pair.ring.put(UInt16(1), at: 8194)  // used.idx
        #expect(try pair.driver.takeUsedBuffer() == UsedBuffer(token: 2, length: 5))
        #expect(pair.ring.u32(at: 8196) == 1)  // used.ring[0].id
    }

    @Test("reset zeroes the whole ring and the driver's state")
    func resetZeroes() throws {
        let pair = try QueuePair(num: 8, align: 16)
        try pair.roundTrips(3)
        try pair.driver.add(address: 0x8000_0000, length: 8, deviceWritable: true, token: 99)
        _ = pair.driver.publish()
        pair.driver.disableCallbacks()
        #expect(pair.driver.outstandingTokens() == [99])
        pair.driver.reset()
        #expect(pair.ring.bytes == [UInt8](repeating: 0, count: 230))
        #expect(pair.driver.freeCount == 8 && pair.driver.outstandingCount == 0)
        #expect(pair.driver.outstandingTokens().isEmpty)
        #expect(pair.driver.counters.added == 4)  // counters survive
        // The first add after a reset takes head 0 at avail slot 0 again.
        try pair.driver.add(address: 0x8000_0000, length: 8, deviceWritable: false, token: 1)
        #expect(pair.ring.u16(at: 132) == 0 && pair.ring.u32(at: 8) == 8)
    }

    @Test("re-posting a returned buffer changes only the indices", .enabled(if: ByteOrder.host == .little))
    func repostChangesOnlyIndices() throws {
        // num 1, align 4: avail @16 (idx @18, ring @20), used @24 (idx @26, ring @28), size 38.
        let pair = try QueuePair(num: 1, align: 4)
        try pair.roundTrips(1)
        let before = pair.ring.bytes
        #expect(before[0..<16] == [0, 0, 0, 0x80, 0, 0, 0, 0, 64, 0, 0, 0, 2, 0, 0, 0])
        #expect(before[28..<36] == [0, 0, 0, 0, 4, 0, 0, 0])
        try pair.roundTrips(1)
        var expected = before
        expected[18] = 2  // avail.idx
        expected[26] = 2  // used.idx
        #expect(pair.ring.bytes == expected)
    }

    @Test("after a restart the device rewrites used elements it wrote before")
    func deviceRestartRewritesUsedElements() throws {
        let pair = try QueuePair(num: 1, align: 4)
        let usedElement = pair.ring.layout.usedRingOffset
        // Stale bytes in the used ring, as left by an earlier session: the device must not assume it wrote
        // them, even when the element it writes is all zeros.
        pair.ring.putUsedElement(slot: 0, id: 0, length: 0xAAAA_AAAA)
        try pair.driver.add(address: pair.pool.address(of: 0), length: 64, deviceWritable: true, token: 3)
        _ = pair.driver.publish()
        let buffer = try #require(try pair.device.takeAvailable())
        try pair.device.addUsed(head: buffer.head, length: 0)
        _ = pair.device.publishUsed()
        #expect(pair.ring.u32(at: usedElement + 4) == 0)
        #expect(try pair.driver.takeUsedBuffer() == UsedBuffer(token: 3, length: 0))
        try pair.roundTrips(1)
        #expect(pair.ring.u32(at: usedElement + 4) == 4)
        // Both sides restart: the driver zeroes the ring; the device's first element matches its last one.
        pair.driver.reset()
        pair.device.reset()
        try pair.roundTrips(1)
        #expect(pair.ring.u32(at: usedElement + 4) == 4)
        #expect(pair.ring.u32(at: 8) == 64)  // desc[0].len, rewritten after the driver's reset
    }

    @Test("invalid parameters are rejected, naming the queue")
    func invalidParameters() throws {
        let ring = try TestRing(num: 8, align: 16)
        expectVirtqueueError(.invalidArgument, "vringX: vring.num: 6 is not a power of two between 1 and 32768") {
            () throws(VirtqueueError) in try VirtqueueDriver(name: "vringX", ring: ring.base, num: 6, align: 16, eventIndex: false)
        }
        expectVirtqueueError(.invalidArgument, "vringX: vring.align: 0 is not a power of two between 1 and 2147483648") {
            () throws(VirtqueueError) in
            try VirtqueueDevice(name: "vringX", ring: ring.base, num: 8, align: 0, eventIndex: false, translate: { _, _ in nil })
        }
        // num 2, align 2: the used ring would start at offset 42, not 4-byte aligned.
        expectVirtqueueError(
            .invalidArgument, "vringX: vring.align = 2: the used ring at offset 42 is not 4-byte aligned"
        ) { () throws(VirtqueueError) in try VirtqueueDriver(name: "vringX", ring: ring.base, num: 2, align: 2, eventIndex: false) }
        expectVirtqueueError(.invalidArgument, "vringX: ring address 0x\(String(UInt(bitPattern: ring.base + 8), radix: 16)) is not 16-byte aligned") {
            () throws(VirtqueueError) in try VirtqueueDriver(name: "vringX", ring: ring.base + 8, num: 4, align: 16, eventIndex: false)
        }
    }
}

// MARK: - Round trips

extension VirtqueueTests {
    @Test("buffers go driver -> device -> driver with tokens, payloads and lengths")
    func roundTrip() throws {
        let pair = try QueuePair(num: 8, align: 16)
        for index in 0..<8 {
            try pair.driver.add(
                address: pair.pool.address(of: index), length: 512, deviceWritable: true, token: 100 + index)
        }
        #expect(pair.driver.freeCount == 0)
        expectVirtqueueError(.noSpace, "vring0: add: all 8 descriptors are outstanding") { () throws(VirtqueueError) in
            try pair.driver.add(address: 0x8000_0000, length: 1, deviceWritable: true, token: 0)
        }
        #expect(pair.driver.publish())

        // The device fills them and returns them in reverse order.
        var taken: [AvailableBuffer] = []
        while let buffer = try pair.device.takeAvailable() { taken.append(buffer) }
        #expect(taken.map(\.head) == Array(0..<8))
        #expect(pair.device.heldBufferCount == 8)
        for buffer in taken.reversed() {
            let text = Array("message \(buffer.head)".utf8)
            buffer.pointer.copyMemory(from: text, byteCount: text.count)
            try pair.device.addUsed(head: buffer.head, length: UInt32(text.count))
        }
        #expect(pair.device.publishUsed())
        #expect(pair.device.counters.taken == 8 && pair.device.counters.used == 8)

        var tokens: [Int] = []
        while let (token, length) = try pair.driver.takeUsed() {
            tokens.append(token)
            let index = token - 100
            let text = String(decoding: UnsafeRawBufferPointer(start: pair.pool.pointer(of: index), count: Int(length)), as: UTF8.self)
            #expect(text == "message \(index)")
        }
        #expect(tokens == Array((100..<108).reversed()))
        #expect(pair.driver.freeCount == 8 && pair.driver.counters.used == 8)

        // Freed descriptors are reused (last freed first) and the ring keeps working.
        try pair.roundTrips(20)
        #expect(!pair.driver.isBroken && !pair.device.isBroken)
    }

    @Test("caller errors do not break the queues")
    func callerErrors() throws {
        let pair = try QueuePair(num: 8, align: 16)
        expectVirtqueueError(.invalidArgument, "vring0: add: buffer length 0 (address 0x80000000)") { () throws(VirtqueueError) in
            try pair.driver.add(address: 0x8000_0000, length: 0, deviceWritable: true, token: 0)
        }
        try pair.driver.add(address: pair.pool.address(of: 0), length: 32, deviceWritable: true, token: 1)
        #expect(pair.driver.publish())
        let buffer = try #require(try pair.device.takeAvailable())
        expectVirtqueueError(.invalidArgument, "vring0: addUsed: head 3 is not held by the device") { () throws(VirtqueueError) in
            try pair.device.addUsed(head: 3, length: 0)
        }
        expectVirtqueueError(.invalidArgument, "vring0: addUsed: head 9 is not held by the device") { () throws(VirtqueueError) in
            try pair.device.addUsed(head: 9, length: 0)
        }
        expectVirtqueueError(.invalidArgument, "vring0: addUsed: length 33 exceeds the 32 bytes of head 0") {
            () throws(VirtqueueError) in try pair.device.addUsed(head: buffer.head, length: 33)
        }
        try pair.device.addUsed(head: buffer.head, length: 32)
        #expect(pair.device.publishUsed())
        #expect(try pair.driver.takeUsedBuffer() == UsedBuffer(token: 1, length: 32))
        #expect(!pair.driver.isBroken && !pair.device.isBroken)
        #expect(pair.driver.counters.violations == 0 && pair.device.counters.violations == 0)
        // Publishing with nothing new asks for no notification on either side.
        #expect(!pair.driver.publish() && !pair.device.publishUsed())
    }

    @Test("a valid chain is accepted and reported by its head")
    func chainAccepted() throws {
        let pair = try QueuePair(num: 8, align: 16)
        let ring = pair.ring
        ring.putDescriptor(4, address: pair.pool.address(of: 4), length: 16, flags: 1, next: 2)
        ring.putDescriptor(2, address: pair.pool.address(of: 2), length: 100, flags: 3, next: 6)
        ring.putDescriptor(6, address: pair.pool.address(of: 6), length: 200, flags: 2, next: 0)
        ring.put(UInt16(4), at: ring.layout.availRingOffset)
        ring.put(UInt16(1), at: ring.layout.availIdxOffset)
        let buffer = try #require(try pair.device.takeAvailable())
        #expect(buffer.head == 4 && buffer.length == 16 && !buffer.isDeviceWritable)
        #expect(buffer.descriptorCount == 3 && buffer.writableLength == 300)
        expectVirtqueueError(.invalidArgument, "vring0: addUsed: length 301 exceeds the 300 bytes of head 4") {
            () throws(VirtqueueError) in try pair.device.addUsed(head: 4, length: 301)
        }
        try pair.device.addUsed(head: 4, length: 300)
        #expect(pair.device.publishUsed())
        #expect(ring.u32(at: ring.layout.usedRingOffset) == 4 && ring.u32(at: ring.layout.usedRingOffset + 4) == 300)
    }
}

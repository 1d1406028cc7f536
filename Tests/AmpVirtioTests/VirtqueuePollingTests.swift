import AmpVirtio
import AmpWire
import Testing

// MARK: - Polling instead of notifications, and suppression stores

extension VirtqueueTests {
    @Test("awaitAvailable and awaitUsed: false after their looks when nothing comes, true as soon as it is there")
    func lingeringLooks() throws {
        let pair = try QueuePair(num: 8, align: 16)
        #expect(!pair.device.awaitAvailable(looks: 0) && !pair.device.awaitAvailable(looks: 64))
        try pair.driver.add(address: pair.pool.address(of: 0), length: 64, deviceWritable: true, token: 1)
        #expect(!pair.device.awaitAvailable(looks: 16))  // added, not published
        _ = pair.driver.publish()
        #expect(pair.device.awaitAvailable(looks: 0) && pair.device.awaitAvailable(looks: 64))
        let buffer = try #require(try pair.device.takeAvailable())
        #expect(!pair.driver.awaitUsed(looks: 64))
        try pair.device.addUsed(head: buffer.head, length: 2)
        _ = pair.device.publishUsed()
        #expect(pair.driver.awaitUsed(looks: 1))
        _ = try pair.driver.takeUsedBuffer()
        #expect(!pair.driver.awaitUsed(looks: 8))
    }

    @Test("prefetchLikelyNextUsed names the buffer published longest ago, a hint only")
    func likelyNextUsedIsTheOldestInFlight() throws {
        let pair = try QueuePair(num: 8, align: 16)
        #expect(pair.driver.prefetchLikelyNextUsed() == nil)
        for token in [10, 11, 12] {
            try pair.driver.add(address: pair.pool.address(of: token - 10), length: 64, deviceWritable: true, token: token)
        }
        // Added, not published: nothing is in flight yet.
        #expect(pair.driver.prefetchLikelyNextUsed() == nil)
        _ = pair.driver.publish()
        #expect(pair.driver.prefetchLikelyNextUsed() == 10)
        let first = try #require(try pair.device.takeAvailable())
        let second = try #require(try pair.device.takeAvailable())
        // Returned out of order: the hint was wrong, and takeUsed still reports what the device wrote.
        try pair.device.addUsed(head: second.head, length: 1)
        _ = pair.device.publishUsed()
        #expect(pair.driver.prefetchLikelyNextUsed() == 10)
        #expect(try pair.driver.takeUsedBuffer() == UsedBuffer(token: 11, length: 1))
        try pair.device.addUsed(head: first.head, length: 2)
        _ = pair.device.publishUsed()
        #expect(try pair.driver.takeUsedBuffer() == UsedBuffer(token: 10, length: 2))
        // In order again from here: the oldest in flight is token 12.
        #expect(pair.driver.prefetchLikelyNextUsed() == 12)
        let third = try #require(try pair.device.takeAvailable())
        try pair.device.addUsed(head: third.head, length: 3)
        _ = pair.device.publishUsed()
        #expect(try pair.driver.takeUsedBuffer() == UsedBuffer(token: 12, length: 3))
        #expect(pair.driver.prefetchLikelyNextUsed() == nil)
    }

    @Test("hasPendingUsed and hasPendingAvailable see published entries without a notification")
    func pendingEntriesAreVisibleToPolling() throws {
        let pair = try QueuePair(num: 8, align: 16)
        #expect(!pair.device.hasPendingAvailable)
        try pair.driver.add(address: pair.pool.address(of: 0), length: 64, deviceWritable: true, token: 7)
        // Added but not published: the device cannot know it.
        #expect(!pair.device.hasPendingAvailable)
        _ = pair.driver.publish()
        #expect(pair.device.hasPendingAvailable)
        let buffer = try #require(try pair.device.takeAvailable())
        #expect(!pair.device.hasPendingAvailable)

        #expect(!pair.driver.hasPendingUsed)
        let mark = pair.driver.consumedUsedIndex
        #expect(mark == 0)
        try pair.device.addUsed(head: buffer.head, length: 5)
        #expect(!pair.driver.hasPendingUsed && !pair.driver.usedIndexDiffers(from: mark))
        _ = pair.device.publishUsed()
        #expect(pair.driver.hasPendingUsed && pair.driver.usedIndexDiffers(from: mark))
        var spins = 0
        pair.driver.spin(untilUsedIndexLeaves: mark) {
            spins += 1
            return true
        }
        #expect(spins == 0)
        #expect(try pair.driver.takeUsedBuffer() == UsedBuffer(token: 7, length: 5))
        #expect(!pair.driver.hasPendingUsed)
        #expect(pair.driver.consumedUsedIndex == 1)
        // Nothing moves: the spin ends when `expired` says so (asked every 32 looks).
        pair.driver.spin(untilUsedIndexLeaves: 1) {
            spins += 1
            return spins == 3
        }
        #expect(spins == 3)
    }

    @Test("polling ignores an avail.idx jump that takeAvailable refuses; a look still finds the violation")
    func pollingIsAHintNotACheck() throws {
        let pair = try QueuePair(num: 8, align: 16)
        pair.ring.put(UInt16(9), at: pair.ring.layout.availIdxOffset)
        #expect(!pair.device.hasPendingAvailable)
        #expect(throws: VirtqueueError.self) { try pair.device.takeAvailable() }
        // Broken: true, so that the caller looks and gets the error again.
        #expect(pair.device.hasPendingAvailable)
    }

    @Test("suppression fields are stored only when their value changes", arguments: [false, true])
    func suppressionStoresOnlyChanges(eventIndex: Bool) throws {
        let pair = try QueuePair(num: 8, align: 16, eventIndex: eventIndex)
        let ring = pair.ring
        let driverField = eventIndex ? ring.layout.usedEventOffset : ring.layout.availOffset
        let deviceField = eventIndex ? ring.layout.availEventOffset : ring.layout.usedOffset
        pair.driver.disableCallbacks()
        pair.device.disableNotifications()
        let driverValue: UInt16 = eventIndex ? 0xFFFF : 1
        let deviceValue: UInt16 = eventIndex ? 0xFFFF : 1
        #expect(ring.u16(at: driverField) == driverValue && ring.u16(at: deviceField) == deviceValue)
        // Someone else overwrites the fields: repeating the same request does not store again...
        ring.put(UInt16(0x1234), at: driverField)
        ring.put(UInt16(0x4321), at: deviceField)
        pair.driver.disableCallbacks()
        pair.device.disableNotifications()
        #expect(ring.u16(at: driverField) == 0x1234 && ring.u16(at: deviceField) == 0x4321)
        // ...a different request does.
        #expect(!pair.driver.enableCallbacks())
        #expect(!pair.device.enableNotifications())
        #expect(ring.u16(at: driverField) == 0 && ring.u16(at: deviceField) == 0)
    }

    @Test("RawWireAccess and WireHeaderCopy use explicit offsets and byte order")
    func rawWireAccessGoldenBytes() {
        var bytes = [UInt8](repeating: 0xEE, count: 20)
        bytes.withUnsafeMutableBytes { raw in
            guard let base = raw.baseAddress else { return }
            RawWireAccess.put(UInt32(0x0102_0304), base, at: 1, order: .little)
            RawWireAccess.put(UInt32(0x0A0B_0C0D), base, at: 5, order: .big)
            RawWireAccess.put(UInt16(0x1122), base, at: 9, order: .little)
            RawWireAccess.put(UInt16(0x3344), base, at: 11, order: .big)
        }
        #expect(bytes == [0xEE, 0x04, 0x03, 0x02, 0x01, 0x0A, 0x0B, 0x0C, 0x0D, 0x22, 0x11, 0x33, 0x44,
                          0xEE, 0xEE, 0xEE, 0xEE, 0xEE, 0xEE, 0xEE])
        bytes.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return }
            #expect(RawWireAccess.u32(base, at: 1, order: .little) == 0x0102_0304)
            #expect(RawWireAccess.u32(base, at: 5, order: .big) == 0x0A0B_0C0D)
            #expect(RawWireAccess.u16(base, at: 11, order: .big) == 0x3344)
            let header = WireHeaderCopy(base + 1, count: 16)
            #expect(header.u32(at: 0, order: .little) == 0x0102_0304)
            #expect(header.u16(at: 8, order: .little) == 0x1122)
            #expect(header.bytes == Array(bytes[1..<17]))
            // A longer buffer: still exactly the first 16 bytes.
            #expect(WireHeaderCopy(base + 1, count: 19).bytes == Array(bytes[1..<17]))
            // A short buffer: only `count` bytes are copied, the rest of the copy is zero.
            let short = WireHeaderCopy(base + 1, count: 3)
            #expect(short.bytes == [0x04, 0x03, 0x02] + [UInt8](repeating: 0, count: 13))
        }
    }
}

import AmpVirtio
import AmpWire
import Testing

// MARK: - A hostile device against the driver

extension VirtqueueTests {
    /// A driver on ring "vring0" (num 8) with four device-writable 512-byte buffers published (heads 0...3,
    /// tokens 10...13) and head 4 added but not published. The test then plays the device by writing the used
    /// ring directly.
    private func driverWithBuffersInFlight() throws -> QueuePair {
        let pair = try QueuePair(num: 8, align: 16)
        for index in 0..<4 {
            try pair.driver.add(address: pair.pool.address(of: index), length: 512, deviceWritable: true, token: 10 + index)
        }
        _ = pair.driver.publish()
        try pair.driver.add(address: pair.pool.address(of: 4), length: 512, deviceWritable: true, token: 14)
        return pair
    }

    /// Asserts that the driver's queue is broken with exactly `message` and stays so.
    private func expectDriverBroken(_ pair: QueuePair, _ message: String, sourceLocation: SourceLocation = #_sourceLocation) {
        expectVirtqueueError(.protocolViolation, message, sourceLocation: sourceLocation) { () throws(VirtqueueError) in
            try pair.driver.takeUsed()
        }
        #expect(pair.driver.isBroken, sourceLocation: sourceLocation)
        #expect(pair.driver.brokenError?.message == message, sourceLocation: sourceLocation)
        // Every later call reports the same violation.
        expectVirtqueueError(.protocolViolation, message, sourceLocation: sourceLocation) { () throws(VirtqueueError) in
            try pair.driver.takeUsed()
        }
        expectVirtqueueError(.protocolViolation, message, sourceLocation: sourceLocation) { () throws(VirtqueueError) in
            try pair.driver.add(address: pair.pool.address(of: 5), length: 8, deviceWritable: true, token: 0)
        }
        #expect(!pair.driver.publish(), sourceLocation: sourceLocation)
        #expect(pair.driver.enableCallbacks(), sourceLocation: sourceLocation)
        #expect(pair.driver.counters.violations == 1, sourceLocation: sourceLocation)
        // The tokens of every buffer not returned stay recoverable.
        #expect(
            UInt64(pair.driver.outstandingTokens().count) + pair.driver.counters.used == pair.driver.counters.added,
            sourceLocation: sourceLocation)
    }

    @Test("hostile device: used id out of range")
    func usedIDOutOfRange() throws {
        let pair = try driverWithBuffersInFlight()
        pair.ring.putUsedElement(slot: 0, id: 300, length: 4)
        pair.ring.put(UInt16(1), at: pair.ring.layout.usedIdxOffset)
        expectDriverBroken(pair, "vring0: used.ring[0].id = 300: not below num 8")
    }

    @Test("hostile device: used id never posted")
    func usedIDNotOutstanding() throws {
        let pair = try driverWithBuffersInFlight()
        pair.ring.putUsedElement(slot: 0, id: 6, length: 4)
        pair.ring.put(UInt16(1), at: pair.ring.layout.usedIdxOffset)
        expectDriverBroken(pair, "vring0: used.ring[0].id = 6: descriptor 6 is not outstanding (never posted or already returned)")
    }

    @Test("hostile device: used id added but not yet published")
    func usedIDNotPublished() throws {
        let pair = try driverWithBuffersInFlight()
        pair.ring.putUsedElement(slot: 0, id: 4, length: 4)
        pair.ring.put(UInt16(1), at: pair.ring.layout.usedIdxOffset)
        expectDriverBroken(pair, "vring0: used.ring[0].id = 4: descriptor 4 is added but not yet published")
    }

    @Test("hostile device: the same id returned twice")
    func usedIDDuplicate() throws {
        let pair = try driverWithBuffersInFlight()
        pair.ring.putUsedElement(slot: 0, id: 2, length: 4)
        pair.ring.putUsedElement(slot: 1, id: 2, length: 4)
        pair.ring.put(UInt16(2), at: pair.ring.layout.usedIdxOffset)
        #expect(try pair.driver.takeUsedBuffer() == UsedBuffer(token: 12, length: 4))
        expectDriverBroken(pair, "vring0: used.ring[1].id = 2: descriptor 2 is not outstanding (never posted or already returned)")
    }

    @Test("hostile device: length beyond the posted buffer")
    func usedLengthTooLong() throws {
        let pair = try driverWithBuffersInFlight()
        pair.ring.putUsedElement(slot: 0, id: 1, length: 512)
        pair.ring.putUsedElement(slot: 1, id: 3, length: 513)
        pair.ring.put(UInt16(2), at: pair.ring.layout.usedIdxOffset)
        #expect(try pair.driver.takeUsedBuffer() == UsedBuffer(token: 11, length: 512))
        expectDriverBroken(pair, "vring0: used.ring[1].len = 513: exceeds the 512 bytes posted in descriptor 3")
    }

    @Test("hostile device: used.idx jumps by 1000")
    func usedIndexJump() throws {
        let pair = try driverWithBuffersInFlight()
        pair.ring.putUsedElement(slot: 0, id: 0, length: 4)
        pair.ring.put(UInt16(1000), at: pair.ring.layout.usedIdxOffset)
        expectDriverBroken(
            pair, "vring0: used.idx = 1000: jumps 1000 entries past the last consumed index 0, but only 4 buffers are in flight")
    }

    @Test("hostile device: used.idx moves backwards")
    func usedIndexBackwards() throws {
        let pair = try driverWithBuffersInFlight()
        pair.ring.putUsedElement(slot: 0, id: 0, length: 4)
        pair.ring.put(UInt16(1), at: pair.ring.layout.usedIdxOffset)
        #expect(try pair.driver.takeUsedBuffer() == UsedBuffer(token: 10, length: 4))
        pair.ring.put(UInt16(0), at: pair.ring.layout.usedIdxOffset)
        expectDriverBroken(
            pair, "vring0: used.idx = 0: jumps 65535 entries past the last consumed index 1, but only 3 buffers are in flight")
    }

    @Test("hostile device: the length of a read-only buffer is ignored, not trusted")
    func readOnlyLengthIgnored() throws {
        let pair = try QueuePair(num: 8, align: 16)
        try pair.driver.add(address: pair.pool.address(of: 0), length: 16, deviceWritable: false, token: 1)
        _ = pair.driver.publish()
        pair.ring.putUsedElement(slot: 0, id: 0, length: 0xFFFF_FFFF)
        pair.ring.put(UInt16(1), at: pair.ring.layout.usedIdxOffset)
        #expect(try pair.driver.takeUsedBuffer() == UsedBuffer(token: 1, length: 0))
        #expect(!pair.driver.isBroken)
    }

    @Test("hostile device: scribbling on the descriptor table and avail ring changes nothing the driver returns")
    func scribbledDescriptorsIgnored() throws {
        let pair = try QueuePair(num: 8, align: 16)
        try pair.driver.add(address: pair.pool.address(of: 0), length: 64, deviceWritable: true, token: 77)
        _ = pair.driver.publish()
        // The device rewrites desc[0] (bigger length) and the avail ring; the driver trusts its own copy.
        pair.ring.putDescriptor(0, address: 0xDEAD_0000, length: 0xFFFF_FFFF, flags: 7, next: 5)
        pair.ring.put(UInt16(5), at: pair.ring.layout.availRingOffset)
        pair.ring.putUsedElement(slot: 0, id: 0, length: 65)
        pair.ring.put(UInt16(1), at: pair.ring.layout.usedIdxOffset)
        expectDriverBroken(pair, "vring0: used.ring[0].len = 65: exceeds the 64 bytes posted in descriptor 0")
    }
}

// MARK: - A hostile driver against the device

extension VirtqueueTests {
    /// A device on ring "vring1" (num 8); the test plays the driver by writing the ring directly.
    private func hostileDriverPair() throws -> QueuePair {
        try QueuePair(num: 8, align: 16, deviceName: "vring1")
    }

    /// Offers `heads` in the available ring (from slot 0) and sets avail.idx.
    private func offer(_ pair: QueuePair, heads: [UInt16], availIdx: UInt16? = nil) {
        for (slot, head) in heads.enumerated() {
            pair.ring.put(head, at: pair.ring.layout.availRingOffset + 2 * slot)
        }
        pair.ring.put(availIdx ?? UInt16(heads.count), at: pair.ring.layout.availIdxOffset)
    }

    /// Asserts that the device's queue is broken with exactly `message` and stays so.
    private func expectDeviceBroken(_ pair: QueuePair, _ message: String, sourceLocation: SourceLocation = #_sourceLocation) {
        expectVirtqueueError(.protocolViolation, message, sourceLocation: sourceLocation) { () throws(VirtqueueError) in
            try pair.device.takeAvailable()
        }
        #expect(pair.device.isBroken && pair.device.brokenError?.message == message, sourceLocation: sourceLocation)
        expectVirtqueueError(.protocolViolation, message, sourceLocation: sourceLocation) { () throws(VirtqueueError) in
            try pair.device.takeAvailable()
        }
        expectVirtqueueError(.protocolViolation, message, sourceLocation: sourceLocation) { () throws(VirtqueueError) in
            try pair.device.addUsed(head: 0, length: 0)
        }
        #expect(!pair.device.publishUsed(), sourceLocation: sourceLocation)
        #expect(pair.device.enableNotifications(), sourceLocation: sourceLocation)
        #expect(pair.device.counters.violations == 1, sourceLocation: sourceLocation)
    }

    @Test("hostile driver: head out of range")
    func headOutOfRange() throws {
        let pair = try hostileDriverPair()
        offer(pair, heads: [9])
        expectDeviceBroken(pair, "vring1: avail.ring[0] = 9: head not below num 8")
    }

    @Test("hostile driver: head offered again while the device holds it")
    func headOfferedTwice() throws {
        let pair = try hostileDriverPair()
        pair.ring.putDescriptor(3, address: pair.pool.address(of: 3), length: 16, flags: 2, next: 0)
        offer(pair, heads: [3, 3])
        #expect(try pair.device.takeAvailable()?.head == 3)
        expectDeviceBroken(pair, "vring1: avail.ring[1] = 3: descriptor 3 is already held by the device")
    }

    @Test("hostile driver: looping chain")
    func loopingChain() throws {
        let pair = try hostileDriverPair()
        pair.ring.putDescriptor(0, address: pair.pool.address(of: 0), length: 16, flags: 1, next: 1)
        pair.ring.putDescriptor(1, address: pair.pool.address(of: 1), length: 16, flags: 1, next: 0)
        offer(pair, heads: [0])
        expectDeviceBroken(pair, "vring1: desc[1].next = 0: the chain from head 0 is longer than num 8 (a loop)")
    }

    @Test("hostile driver: descriptor linked to itself")
    func selfLinkedDescriptor() throws {
        let pair = try hostileDriverPair()
        pair.ring.putDescriptor(5, address: pair.pool.address(of: 5), length: 16, flags: 3, next: 5)
        offer(pair, heads: [5])
        expectDeviceBroken(pair, "vring1: desc[5].next = 5: the chain from head 5 is longer than num 8 (a loop)")
    }

    @Test("hostile driver: next link out of range")
    func nextOutOfRange() throws {
        let pair = try hostileDriverPair()
        pair.ring.putDescriptor(0, address: pair.pool.address(of: 0), length: 16, flags: 1, next: 0xFFFF)
        offer(pair, heads: [0])
        expectDeviceBroken(pair, "vring1: desc[0].next = 65535: not below num 8 (chain from head 0)")
    }

    @Test("hostile driver: INDIRECT descriptor")
    func indirectDescriptor() throws {
        let pair = try hostileDriverPair()
        pair.ring.putDescriptor(2, address: pair.pool.address(of: 2), length: 32, flags: 4, next: 0)
        offer(pair, heads: [2])
        expectDeviceBroken(pair, "vring1: desc[2].flags = 0x4: INDIRECT is not supported (not negotiated)")
    }

    @Test("hostile driver: INDIRECT inside a chain")
    func indirectInChain() throws {
        let pair = try hostileDriverPair()
        pair.ring.putDescriptor(2, address: pair.pool.address(of: 2), length: 32, flags: 1, next: 6)
        pair.ring.putDescriptor(6, address: pair.pool.address(of: 6), length: 32, flags: 6, next: 0)
        offer(pair, heads: [2])
        expectDeviceBroken(pair, "vring1: desc[6].flags = 0x6: INDIRECT is not supported (not negotiated)")
    }

    @Test("hostile driver: address outside device memory")
    func untranslatableAddress() throws {
        let pair = try hostileDriverPair()
        pair.ring.putDescriptor(0, address: 0xDEAD_0000, length: 512, flags: 2, next: 0)
        offer(pair, heads: [0])
        expectDeviceBroken(pair, "vring1: desc[0].addr = 0xdead0000: 512 bytes there are outside device memory")
    }

    @Test("hostile driver: a descriptor rewritten after an accepted lap is translated and checked again")
    func rewrittenDescriptorAfterAcceptedLap() throws {
        let pair = try hostileDriverPair()
        // Lap 1: head 0 points at the pool's last buffer and is accepted (its translation remembered); lap 2:
        // unchanged, it lands at the same place; lap 3: the same address with one byte more must be refused.
        pair.ring.putDescriptor(0, address: pair.pool.address(of: 7), length: 512, flags: 2, next: 0)
        for lap in 0..<2 {
            pair.ring.put(UInt16(0), at: pair.ring.layout.availRingOffset + 2 * lap)
            pair.ring.put(UInt16(lap + 1), at: pair.ring.layout.availIdxOffset)
            #expect(try pair.device.takeAvailable()?.pointer == pair.pool.pointer(of: 7))
            try pair.device.addUsed(head: 0, length: 0)
            _ = pair.device.publishUsed()
        }
        pair.ring.putDescriptor(0, address: pair.pool.address(of: 7), length: 513, flags: 2, next: 0)
        pair.ring.put(UInt16(0), at: pair.ring.layout.availRingOffset + 4)
        pair.ring.put(UInt16(3), at: pair.ring.layout.availIdxOffset)
        expectDeviceBroken(pair, "vring1: desc[0].addr = 0x80000e00: 513 bytes there are outside device memory")
    }

    @Test("hostile driver: buffer running past the end of device memory")
    func bufferPastEnd() throws {
        let pair = try hostileDriverPair()
        // The pool holds 8 buffers of 512 bytes; the last buffer plus one byte does not fit.
        pair.ring.putDescriptor(0, address: pair.pool.address(of: 7), length: 513, flags: 2, next: 0)
        offer(pair, heads: [0])
        expectDeviceBroken(pair, "vring1: desc[0].addr = 0x80000e00: 513 bytes there are outside device memory")
    }

    @Test("hostile driver: avail.idx jumps by 1000")
    func availIndexJump() throws {
        let pair = try hostileDriverPair()
        pair.ring.putDescriptor(0, address: pair.pool.address(of: 0), length: 16, flags: 2, next: 0)
        offer(pair, heads: [0], availIdx: 1000)
        expectDeviceBroken(
            pair,
            "vring1: avail.idx = 1000: jumps 1000 entries past the last consumed index 0, "
                + "but at most 8 can be outstanding (num 8, 0 not yet returned)")
    }

    @Test("hostile driver: more buffers offered than can be outstanding")
    func availIndexOverCommitted() throws {
        let pair = try hostileDriverPair()
        for index in 0..<8 {
            pair.ring.putDescriptor(index, address: pair.pool.address(of: index), length: 16, flags: 2, next: 0)
        }
        offer(pair, heads: [0, 1, 2])
        let held = try #require(try pair.device.takeAvailable())
        _ = try pair.device.takeAvailable()
        _ = try pair.device.takeAvailable()
        try pair.device.addUsed(head: held.head, length: 0)  // returned but not yet published: still counts
        // Three taken; offering eight more would make eleven outstanding.
        pair.ring.put(UInt16(11), at: pair.ring.layout.availIdxOffset)
        expectDeviceBroken(
            pair,
            "vring1: avail.idx = 11: jumps 8 entries past the last consumed index 3, "
                + "but at most 5 can be outstanding (num 8, 3 not yet returned)")
    }
}

import AmpVirtio
import AmpWire
import Testing

// MARK: - Wrap-around of the free-running indices

extension VirtqueueTests {
    @Test("avail.idx and used.idx wrap from 65535 to 0 through real round trips")
    func indicesWrap() throws {
        let pair = try QueuePair(num: 4, align: 16)
        try pair.roundTrips(65533)
        let ring = pair.ring
        #expect(ring.availIdx == 65533 && ring.usedIdx == 65533)
        // Four buffers at avail indices 65533, 65534, 65535, 0: slots 1, 2, 3, 0.
        for token in 0..<4 {
            try pair.driver.add(address: pair.pool.address(of: token), length: 16, deviceWritable: true, token: token)
        }
        // Free heads are reused first in, first out: round trip k took head k % 4, so after 65533 of them the
        // next heads are 1, 2, 3, 0, landing in slots 1, 2, 3, 0.
        #expect((0..<4).map { ring.u16(at: ring.layout.availRingOffset + 2 * $0) } == [0, 1, 2, 3])
        #expect(pair.driver.publish())
        #expect(ring.availIdx == 1)
        var heads: [UInt16] = []
        while let buffer = try pair.device.takeAvailable() {
            heads.append(buffer.head)
            try pair.device.addUsed(head: buffer.head, length: UInt32(buffer.head))
        }
        #expect(heads == [1, 2, 3, 0])
        #expect(pair.device.publishUsed())
        #expect(ring.usedIdx == 1)
        // used.ring slots 1, 2, 3, 0 hold heads 1, 2, 3, 0.
        #expect((0..<4).map { ring.u32(at: ring.layout.usedRingOffset + 8 * $0) } == [0, 1, 2, 3])
        var used: [UsedBuffer] = []
        while let buffer = try pair.driver.takeUsedBuffer() { used.append(buffer) }
        // Token t rode head (t + 1) % 4, and the device reported each head's number as its length.
        #expect(used == (0..<4).map { UsedBuffer(token: $0, length: UInt32(($0 + 1) % 4)) })
        try pair.roundTrips(5)
        #expect(ring.availIdx == 6 && ring.usedIdx == 6)
        #expect(pair.driver.counters.added == 65542 && pair.device.counters.used == 65542)
    }

    struct EventCase: Sendable, CustomStringConvertible {
        var event: UInt16
        var notify: Bool
        var description: String { "event \(event) -> \(notify)" }
    }

    /// A publish moving an index from 65534 to 1 (three entries) crosses events 65534, 65535 and 0 only.
    static let eventCases: [EventCase] = [
        EventCase(event: 65532, notify: false), EventCase(event: 65533, notify: false),
        EventCase(event: 65534, notify: true), EventCase(event: 65535, notify: true), EventCase(event: 0, notify: true),
        EventCase(event: 1, notify: false), EventCase(event: 32768, notify: false),
    ]

    @Test("need_event across the wrap: the driver's kick decision reads avail_event", arguments: eventCases)
    func driverNeedEventAcrossWrap(_ probe: EventCase) throws {
        let pair = try QueuePair(num: 4, align: 16, eventIndex: true, startIndex: 65534)
        pair.ring.put(probe.event, at: pair.ring.layout.availEventOffset)  // the device's avail_event
        for token in 0..<3 {
            try pair.driver.add(address: pair.pool.address(of: token), length: 8, deviceWritable: true, token: token)
        }
        #expect(pair.driver.publish() == probe.notify)
        #expect(pair.ring.availIdx == 1)
        #expect(pair.driver.counters.notifications == (probe.notify ? 1 : 0))
        #expect(pair.driver.counters.suppressedNotifications == (probe.notify ? 0 : 1))
    }

    @Test("need_event across the wrap: the device's interrupt decision reads used_event", arguments: eventCases)
    func deviceNeedEventAcrossWrap(_ probe: EventCase) throws {
        let pair = try QueuePair(num: 4, align: 16, eventIndex: true, startIndex: 65534)
        for token in 0..<3 {
            try pair.driver.add(address: pair.pool.address(of: token), length: 8, deviceWritable: true, token: token)
        }
        _ = pair.driver.publish()
        while let buffer = try pair.device.takeAvailable() { try pair.device.addUsed(head: buffer.head, length: 8) }
        pair.ring.put(probe.event, at: pair.ring.layout.usedEventOffset)  // the driver's used_event
        #expect(pair.device.publishUsed() == probe.notify)
        #expect(pair.ring.usedIdx == 1)
        #expect(pair.device.counters.interrupts == (probe.notify ? 1 : 0))
    }
}

// MARK: - Notification suppression

extension VirtqueueTests {
    @Test("without EVENT_IDX: NO_NOTIFY suppresses kicks, NO_INTERRUPT suppresses interrupts")
    func suppressionWithFlags() throws {
        let pair = try QueuePair(num: 4, align: 16)
        let (driver, device, ring) = (pair.driver, pair.device, pair.ring)

        device.disableNotifications()
        #expect(ring.usedFlags == 1)
        try driver.add(address: pair.pool.address(of: 0), length: 8, deviceWritable: true, token: 0)
        #expect(!driver.publish())
        #expect(device.enableNotifications())  // one buffer is already pending
        #expect(ring.usedFlags == 0)
        let first = try #require(try device.takeAvailable())
        #expect(!device.enableNotifications())
        try driver.add(address: pair.pool.address(of: 1), length: 8, deviceWritable: true, token: 1)
        #expect(driver.publish())
        let second = try #require(try device.takeAvailable())
        #expect(driver.counters.notifications == 1 && driver.counters.suppressedNotifications == 1)

        driver.disableCallbacks()
        #expect(ring.availFlags == 1)
        try device.addUsed(head: first.head, length: 1)
        #expect(!device.publishUsed())
        #expect(driver.enableCallbacks())  // one used entry is already pending
        #expect(ring.availFlags == 0)
        #expect(try driver.takeUsedBuffer() == UsedBuffer(token: 0, length: 1))
        #expect(!driver.enableCallbacks())
        try device.addUsed(head: second.head, length: 2)
        #expect(device.publishUsed())
        #expect(device.counters.interrupts == 1 && device.counters.suppressedInterrupts == 1)
        // With EVENT_IDX off, the event fields are never written.
        #expect(ring.usedEvent == 0 && ring.availEvent == 0)
    }

    @Test("with EVENT_IDX: avail_event and used_event suppress across the wrap")
    func suppressionWithEventIndex() throws {
        let pair = try QueuePair(num: 4, align: 16, eventIndex: true, startIndex: 65534)
        let (driver, device, ring, pool) = (pair.driver, pair.device, pair.ring, pair.pool)
        func add(_ token: Int) throws {
            try driver.add(address: pool.address(of: token), length: 8, deviceWritable: true, token: token)
        }

        // Kicks: the device asks for one at 65534.
        #expect(!device.enableNotifications())
        #expect(ring.availEvent == 65534)
        try add(0)
        #expect(driver.publish())  // 65534 -> 65535 crosses 65534
        try add(1)
        #expect(!driver.publish())  // 65535 -> 0: the event was already passed
        let a = try #require(try device.takeAvailable())
        let b = try #require(try device.takeAvailable())
        #expect(try device.takeAvailable() == nil)
        #expect(!device.enableNotifications())
        #expect(ring.availEvent == 0)
        try add(2)
        #expect(driver.publish())  // 0 -> 1 crosses 0
        device.disableNotifications()
        #expect(ring.availEvent == 65535)  // behind the next index to take (0)
        try add(3)
        #expect(!driver.publish())  // 1 -> 2
        let c = try #require(try device.takeAvailable())
        let d = try #require(try device.takeAvailable())
        #expect(driver.counters.notifications == 2 && driver.counters.suppressedNotifications == 2)
        // With EVENT_IDX on, the flags are never written.
        #expect(ring.usedFlags == 0 && ring.availFlags == 0)

        // Interrupts: the driver has consumed nothing yet (last used 65534).
        driver.disableCallbacks()
        #expect(ring.usedEvent == 65533)
        try device.addUsed(head: a.head, length: 1)
        try device.addUsed(head: b.head, length: 2)
        #expect(!device.publishUsed())  // 65534 -> 0 does not cross 65533
        #expect(driver.enableCallbacks())  // two used entries are already pending
        #expect(ring.usedEvent == 65534)
        #expect(try driver.takeUsedBuffer() == UsedBuffer(token: 0, length: 1))
        #expect(try driver.takeUsedBuffer() == UsedBuffer(token: 1, length: 2))
        #expect(!driver.enableCallbacks())
        #expect(ring.usedEvent == 0)
        try device.addUsed(head: c.head, length: 3)
        #expect(device.publishUsed())  // 0 -> 1 crosses 0
        #expect(try driver.takeUsedBuffer() == UsedBuffer(token: 2, length: 3))
        try device.addUsed(head: d.head, length: 4)
        #expect(!device.publishUsed())  // 1 -> 2: the driver did not re-arm
        #expect(device.counters.interrupts == 1 && device.counters.suppressedInterrupts == 2)
        #expect(ring.usedFlags == 0 && ring.availFlags == 0)
    }

    @Test("with EVENT_IDX, turning notifications off again leaves the event fields alone for 32768 entries")
    func disablingWithEventIndexStoresRarely() throws {
        let pair = try QueuePair(num: 4, align: 16, eventIndex: true)
        let (driver, device, ring) = (pair.driver, pair.device, pair.ring)
        driver.disableCallbacks()
        device.disableNotifications()
        // The driver's used_event starts at 0 (the zeroed ring): 0 is not behind the consumed index 0, so it
        // is moved to 65535; the device's avail_event is stored on its first call.
        #expect(ring.usedEvent == 65535 && ring.availEvent == 65535)
        // Round trips with notifications off on both sides: the fields stay, and nobody is notified.
        for round in 0..<1000 {
            try driver.add(address: pair.pool.address(of: 0), length: 64, deviceWritable: true, token: round)
            #expect(!driver.publish())
            let buffer = try #require(try device.takeAvailable())
            device.disableNotifications()
            try device.addUsed(head: buffer.head, length: 4)
            #expect(!device.publishUsed())
            _ = try #require(try driver.takeUsed())
            driver.disableCallbacks()
        }
        #expect(ring.usedEvent == 65535 && ring.availEvent == 65535)
        #expect(driver.counters.notifications == 0 && device.counters.interrupts == 0)
        // 32768 entries on, the values would come within reach of the peer: they are moved behind again.
        try pair.roundTrips(31768)
        device.disableNotifications()
        driver.disableCallbacks()
        #expect(ring.usedEvent == 32767 && ring.availEvent == 32767)
        // Turning them on always stores the next index, and off again moves the field behind it at once.
        #expect(!driver.enableCallbacks())
        #expect(ring.usedEvent == 32768)
        driver.disableCallbacks()
        #expect(ring.usedEvent == 32767)
        #expect(!device.enableNotifications())
        #expect(ring.availEvent == 32768)
        device.disableNotifications()
        #expect(ring.availEvent == 32767)
    }

    @Test("enableCallbacks reports used entries returned while callbacks were off", arguments: [false, true])
    func enableCallbacksRace(eventIndex: Bool) throws {
        let pair = try QueuePair(num: 4, align: 16, eventIndex: eventIndex)
        try pair.driver.add(address: pair.pool.address(of: 0), length: 8, deviceWritable: true, token: 5)
        _ = pair.driver.publish()
        pair.driver.disableCallbacks()
        #expect(!pair.driver.enableCallbacks())  // nothing pending yet
        pair.driver.disableCallbacks()
        let buffer = try #require(try pair.device.takeAvailable())
        try pair.device.addUsed(head: buffer.head, length: 8)
        // The device returned the buffer while callbacks were off, so it sends no interrupt ...
        #expect(!pair.device.publishUsed())
        // ... and re-enabling must say so, or the driver would wait forever.
        #expect(pair.driver.enableCallbacks())
        #expect(try pair.driver.takeUsedBuffer() == UsedBuffer(token: 5, length: 8))
        #expect(!pair.driver.enableCallbacks())
    }

    @Test("enableNotifications reports buffers added while notifications were off", arguments: [false, true])
    func enableNotificationsRace(eventIndex: Bool) throws {
        let pair = try QueuePair(num: 4, align: 16, eventIndex: eventIndex)
        pair.device.disableNotifications()
        try pair.driver.add(address: pair.pool.address(of: 0), length: 8, deviceWritable: false, token: 1)
        #expect(!pair.driver.publish())  // no kick
        #expect(pair.device.enableNotifications())
        #expect(try pair.device.takeAvailable()?.head == 0)
        #expect(!pair.device.enableNotifications())
    }
}

import AmpVirtio
import AmpWire
import Foundation
import Synchronization
import Testing

// MARK: - Two threads, both rings

/// Shared between the two threads of the stress test: set when one side fails, so the other stops spinning.
private final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    var isSet: Bool { flag.load(ordering: .acquiring) }
    func set() { flag.store(true, ordering: .releasing) }
}

/// Bounded spinning: counts idle rounds, yields the CPU now and then (the test machine has two vCPUs shared
/// with other work) and gives up at a deadline.
private struct IdleSpin {
    let deadline = ContinuousClock.now + .seconds(60)
    var idleRounds = 0

    /// Call after a round without progress; returns false once the deadline has passed.
    mutating func idle() -> Bool {
        idleRounds += 1
        if idleRounds % 16 == 0 { sched_yield() }
        if idleRounds % 1024 == 0, ContinuousClock.now > deadline { return false }
        return true
    }
}

extension VirtqueueTests {
    static let stressMessages = 200_000
    static let stressNum = 64

    /// The host sends sequence numbers on vring1 (read-only buffers); the remote checks each, returns the
    /// buffer and echoes the number in a writable buffer on vring0; the host checks the echoes arrive in
    /// order, exactly once each, and re-posts the buffer. Both sides poll; neither waits unboundedly.
    @Test("two threads pass 200,000 buffers through both rings without loss or duplication", .timeLimit(.minutes(2)))
    func twoThreadStress() async throws {
        let num = Self.stressNum
        let count = Self.stressMessages
        let rxRing = try TestRing(num: num, align: 4096)
        let txRing = try TestRing(num: num, align: 4096)
        // Buffers 0..<num receive (vring0), num..<2*num send (vring1).
        let pool = TestBufferPool(count: 2 * num, bufferSize: 64)
        let rxDriver = try VirtqueueDriver(name: "vring0", ring: rxRing.base, num: num, align: 4096, eventIndex: true)
        let txDriver = try VirtqueueDriver(name: "vring1", ring: txRing.base, num: num, align: 4096, eventIndex: true)
        let rxDevice = try VirtqueueDevice(
            name: "vring0", ring: rxRing.base, num: num, align: 4096, eventIndex: true, translate: { pool.translate($0, $1) })
        let txDevice = try VirtqueueDevice(
            name: "vring1", ring: txRing.base, num: num, align: 4096, eventIndex: true, translate: { pool.translate($0, $1) })
        let stop = StopFlag()

        let host = UncheckedTransfer(value: (rxDriver, txDriver))
        let remote = UncheckedTransfer(value: (rxDevice, txDevice))
        async let hostResult = onDedicatedThread {
            let result = Self.runHost(rx: host.value.0, tx: host.value.1, pool: pool, count: count, stop: stop)
            if result != nil { stop.set() }
            return result
        }
        async let remoteResult = onDedicatedThread {
            let result = Self.runRemote(rx: remote.value.0, tx: remote.value.1, count: count, stop: stop)
            if result != nil { stop.set() }
            return result
        }
        let (hostFailure, remoteFailure) = await (hostResult, remoteResult)
        #expect(hostFailure == nil)
        #expect(remoteFailure == nil)

        #expect(txDriver.counters.added == UInt64(count) && txDriver.counters.used == UInt64(count))
        #expect(rxDriver.counters.used == UInt64(count) && rxDriver.counters.added == UInt64(count + num))
        #expect(txDevice.counters.taken == UInt64(count) && rxDevice.counters.used == UInt64(count))
        #expect(txDriver.freeCount == num && rxDriver.outstandingCount == num)
        #expect(txRing.availIdx == UInt16(truncatingIfNeeded: count) && txRing.usedIdx == UInt16(truncatingIfNeeded: count))
        #expect(rxRing.usedIdx == UInt16(truncatingIfNeeded: count))
        #expect(rxDriver.counters.violations + txDriver.counters.violations == 0)
    }

    /// The host: returns nil on success or a description of the first failure.
    private static func runHost(
        rx: VirtqueueDriver, tx: VirtqueueDriver, pool: TestBufferPool, count: Int, stop: StopFlag
    ) -> String? {
        let num = rx.num
        do {
            for index in 0..<num {
                try rx.add(address: pool.address(of: index), length: 64, deviceWritable: true, token: index)
            }
            _ = rx.publish()
            var freeTX = Array(num..<(2 * num))
            var nextToSend = 0
            var nextExpected = 0
            var spin = IdleSpin()
            while nextExpected < count {
                var progress = false
                while let used = try tx.takeUsed() {
                    guard used.length == 0 else { return "host: tx buffer \(used.token) came back with length \(used.length)" }
                    freeTX.append(used.token)
                    progress = true
                }
                while nextToSend < count, let buffer = freeTX.popLast() {
                    pool.pointer(of: buffer).storeBytes(of: UInt64(nextToSend), as: UInt64.self)
                    try tx.add(address: pool.address(of: buffer), length: 8, deviceWritable: false, token: buffer)
                    nextToSend += 1
                    progress = true
                }
                _ = tx.publish()
                while let used = try rx.takeUsed() {
                    let sequence = pool.pointer(of: used.token).load(as: UInt64.self)
                    guard used.length == 8, sequence == UInt64(nextExpected) else {
                        return "host: expected echo \(nextExpected), got \(sequence) (length \(used.length))"
                    }
                    nextExpected += 1
                    try rx.add(address: pool.address(of: used.token), length: 64, deviceWritable: true, token: used.token)
                    progress = true
                }
                _ = rx.publish()
                if !progress {
                    if stop.isSet { return "host: stopped at echo \(nextExpected) because the remote failed" }
                    guard spin.idle() else { return "host: timed out waiting for echo \(nextExpected)" }
                }
            }
            // Every echo is in; reclaim the send buffers the remote returned last.
            while freeTX.count < num {
                if let used = try tx.takeUsed() {
                    freeTX.append(used.token)
                } else {
                    guard spin.idle() else { return "host: timed out reclaiming send buffers (\(freeTX.count) of \(num))" }
                }
            }
            return nil
        } catch {
            return "host: \(error)"
        }
    }

    /// The remote: returns nil on success or a description of the first failure.
    private static func runRemote(rx: VirtqueueDevice, tx: VirtqueueDevice, count: Int, stop: StopFlag) -> String? {
        do {
            var expected = 0
            var spareRX: AvailableBuffer?
            var unpublished = 0
            var spin = IdleSpin()
            while expected < count {
                if spareRX == nil { spareRX = try rx.takeAvailable() }
                if let echo = spareRX, let message = try tx.takeAvailable() {
                    let sequence = message.pointer.load(as: UInt64.self)
                    guard sequence == UInt64(expected), message.length == 8, !message.isDeviceWritable else {
                        return "remote: expected message \(expected), got \(sequence) (length \(message.length))"
                    }
                    echo.pointer.storeBytes(of: sequence, as: UInt64.self)
                    try tx.addUsed(head: message.head, length: 0)
                    try rx.addUsed(head: echo.head, length: 8)
                    spareRX = nil
                    expected += 1
                    unpublished += 1
                    if unpublished == 16 {
                        _ = tx.publishUsed()
                        _ = rx.publishUsed()
                        unpublished = 0
                    }
                } else {
                    if unpublished > 0 {
                        _ = tx.publishUsed()
                        _ = rx.publishUsed()
                        unpublished = 0
                    }
                    if stop.isSet { return "remote: stopped at message \(expected) because the host failed" }
                    guard spin.idle() else { return "remote: timed out waiting for message \(expected)" }
                }
            }
            _ = tx.publishUsed()
            _ = rx.publishUsed()
            return nil
        } catch {
            return "remote: \(error)"
        }
    }
}

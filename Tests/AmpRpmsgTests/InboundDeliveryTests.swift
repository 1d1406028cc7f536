import Foundation
import Synchronization
import Testing

import AmpRpmsg
import AmpWire

/// Payloads lent in place (RpmsgInboundDelivery, borrowing callbacks, drivers' bytes callback) and the
/// delivery's endpoint cache.
@Suite struct InboundDeliveryTests {
    @Test func borrowingCallbacksSeeTheLentBytesAndCopyingOnesGetAnArray() throws {
        let test = TestBus()
        let log = CallLog()
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: 8, alignment: 8)
        defer { storage.deallocate() }
        storage.copyBytes(from: [1, 2, 3, 4, 5, 6, 7, 8])
        let lent = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(storage)[2..<6])
        let lentAddress = UInt(bitPattern: lent.baseAddress)
        let borrowing = try test.bus.createBorrowingEndpoint(address: 1024) { endpoint, payload, source in
            let sameBytes = UInt(bitPattern: payload.baseAddress) == lentAddress
            log.append("borrow \(endpoint.address) \(source) \(Array(payload)) in place: \(sameBytes)")
        }
        _ = try test.bus.createEndpoint(address: 1025) { endpoint, payload, source in
            log.append("copy \(endpoint.address) \(source) \(payload)")
        }
        let delivery = test.bus.makeInboundDelivery()
        #expect(delivery.bus === test.bus)
        delivery.deliver(source: 0x400, destination: 1024, payload: lent)
        delivery.deliver(source: 0x401, destination: 1025, payload: lent)
        delivery.deliver(source: 0x402, destination: 1024, payload: UnsafeRawBufferPointer(start: nil, count: 0))
        #expect(log.all == [
            "borrow 1024 1024 [3, 4, 5, 6] in place: true",
            "copy 1025 1025 [3, 4, 5, 6]",
            "borrow 1024 1026 [] in place: false",
        ])
        #expect(borrowing.counters.rxMessages == 2)
        #expect(borrowing.counters.rxBytes == 4)
        #expect(test.bus.counters.rxMessages == 3)
        #expect(test.bus.counters.rxBytes == 8)
        // A copied message reaches a borrowing callback too.
        test.bus.receive(source: 0x403, destination: 1024, payload: [9])
        #expect(log.all.last == "borrow 1024 1027 [9] in place: false")
    }

    @Test func aDestroyedEndpointIsNeverCalledAndItsAddressCanBeBoundAnew() throws {
        let test = TestBus()
        let log = CallLog()
        let first = try test.bus.createEndpoint(address: 2000) { _, payload, _ in log.append("first \(payload)") }
        let delivery = test.bus.makeInboundDelivery()
        let bytes: [UInt8] = [7]
        bytes.withUnsafeBytes { delivery.deliver(source: 0x400, destination: 2000, payload: $0) }
        first.destroy()
        bytes.withUnsafeBytes { delivery.deliver(source: 0x400, destination: 2000, payload: $0) }
        let second = try test.bus.createEndpoint(address: 2000) { _, payload, _ in log.append("second \(payload)") }
        bytes.withUnsafeBytes { delivery.deliver(source: 0x400, destination: 2000, payload: $0) }
        bytes.withUnsafeBytes { delivery.deliver(source: 0x400, destination: 4242, payload: $0) }
        bytes.withUnsafeBytes { delivery.deliver(source: 0x400, destination: 2000, payload: $0) }

        #expect(log.all == ["first [7]", "second [7]", "second [7]"])
        #expect(first.counters.rxMessages == 1)
        #expect(second.counters.rxMessages == 2)
        #expect(test.bus.counters.rxMessages == 5)
        #expect(test.bus.counters.droppedNoRecipient == 2)
        #expect(test.events.events == [
            .droppedNoRecipient(link: "test.vdev0", source: 0x400, destination: 2000, length: 1),
            .droppedNoRecipient(link: "test.vdev0", source: 0x400, destination: 4242, length: 1),
        ])
    }

    @Test func driversReadInPlaceWhenTheyAskForIt() throws {
        let test = TestBus()
        let copying = RecordingDriver(name: "copying", serves: ["copy-me"])
        let reading = BytesReadingDriver()
        try test.registry.register(copying)
        try test.registry.register(reading)
        test.announce("copy-me", address: 0x400)
        test.announce("read-me", address: 0x401)
        let copyEndpoint = try #require(test.bus.channels.first { $0.name == "copy-me" }?.endpoint)
        let readEndpoint = try #require(test.bus.channels.first { $0.name == "read-me" }?.endpoint)
        let delivery = test.bus.makeInboundDelivery()
        Array("abc".utf8).withUnsafeBytes { payload in
            delivery.deliver(source: 0x400, destination: copyEndpoint.address, payload: payload)
            delivery.deliver(source: 0x401, destination: readEndpoint.address, payload: payload)
        }
        // Copied messages reach the bytes callback too.
        test.bus.receive(source: 0x401, destination: readEndpoint.address, payload: Array("de".utf8))
        #expect(copying.log.all == ["copying probe test.vdev0.copy-me.-1.1024", "copying rx test.vdev0.copy-me.-1.1024 1024 abc"])
        #expect(reading.log.all == ["bytes read-me 1025 abc", "bytes read-me 1025 de"])
    }
}

/// A driver that reads payloads in place and records which callback ran.
private final class BytesReadingDriver: RpmsgDriver {
    let name = "reading"
    let idTable = ["read-me"]
    let log = CallLog()

    func probe(_ channel: RpmsgChannel) throws(RpmsgError) {}
    func remove(_ channel: RpmsgChannel) {}

    func callback(_ channel: RpmsgChannel, payload: [UInt8], source: UInt32) {
        log.append("array \(channel.name) \(source) \(String(decoding: payload, as: UTF8.self))")
    }

    func callback(_ channel: RpmsgChannel, bytes: UnsafeRawBufferPointer, source: UInt32) {
        log.append("bytes \(channel.name) \(source) \(String(decoding: bytes, as: UTF8.self))")
    }
}

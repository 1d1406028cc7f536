import AmpRpmsg
import AmpWire
import Synchronization

/// Bytes from hex digits; spaces are ignored. Test-only: traps on malformed literals.
func hexBytes(_ digits: String) -> [UInt8] {
    let clean = Array(digits.filter { !$0.isWhitespace })
    return stride(from: 0, to: clean.count, by: 2).map { UInt8(String(clean[$0...$0 + 1]), radix: 16)! }
}

let any = RpmsgConstants.addressAny

/// A 40-byte name-service message in little-endian order.
func nameServicePayload(_ name: String, address: UInt32, flags: UInt32 = 0) -> [UInt8] {
    var writer = ByteWriter(count: 40, order: .little)
    writer.put(bytes: Array(name.utf8), at: 0)
    writer.put(address, at: 32)
    writer.put(flags, at: 36)
    return writer.bytes
}

/// An ordered log shared by test doubles, so the relative order of sends and driver calls can be checked.
final class CallLog: Sendable {
    private let entries = Mutex<[String]>([])
    func append(_ entry: String) { entries.withLock { $0.append(entry) } }
    var all: [String] { entries.withLock { $0 } }
}

/// A transport that records every send and can be told to fail; the smallest possible transport.
final class RecordingTransport: RpmsgTransport {
    struct Sent: Equatable {
        var source: UInt32
        var destination: UInt32
        var payload: [UInt8]
        var wait: Duration?
    }

    let name: String
    let mtu: Int
    let supportsNameService: Bool
    let log: CallLog?
    private let state = Mutex<(sent: [Sent], failure: RpmsgError?)>(([], nil))

    init(name: String = "test.vdev0", mtu: Int = 496, nameService: Bool = true, log: CallLog? = nil) {
        self.name = name
        self.mtu = mtu
        self.supportsNameService = nameService
        self.log = log
    }

    var sent: [Sent] { state.withLock { $0.sent } }

    /// Makes every following send throw `error` (nil: succeed again).
    func failSends(with error: RpmsgError?) { state.withLock { $0.failure = error } }

    func send(source: UInt32, destination: UInt32, payload: [UInt8], wait: Duration?) throws(RpmsgError) {
        let failure = state.withLock { state -> RpmsgError? in
            if let failure = state.failure { return failure }
            state.sent.append(Sent(source: source, destination: destination, payload: payload, wait: wait))
            return nil
        }
        if let failure { throw failure }
        log?.append("send \(source)->\(destination) \(payload.count)")
    }
}

/// A driver that records its calls ("probe <device>", "remove <device>", "rx <device> <src> <text>").
final class RecordingDriver: RpmsgDriver {
    let name: String
    let idTable: [String]
    let log: CallLog
    private let probeError = Mutex<RpmsgError?>(nil)
    /// Whether the channel's endpoint was alive when remove ran, per call.
    let endpointAliveAtRemove = Mutex<[Bool]>([])

    init(name: String, serves: [String], log: CallLog = CallLog()) {
        self.name = name
        self.idTable = serves
        self.log = log
    }

    func failProbes(with error: RpmsgError?) { probeError.withLock { $0 = error } }

    func probe(_ channel: RpmsgChannel) throws(RpmsgError) {
        log.append("\(name) probe \(channel.deviceName)")
        if let error = probeError.withLock({ $0 }) { throw error }
    }

    func remove(_ channel: RpmsgChannel) {
        let alive = channel.endpoint.map { !$0.isDestroyed } ?? false
        endpointAliveAtRemove.withLock { $0.append(alive) }
        log.append("\(name) remove \(channel.deviceName)")
    }

    func callback(_ channel: RpmsgChannel, payload: [UInt8], source: UInt32) {
        log.append("\(name) rx \(channel.deviceName) \(source) \(String(decoding: payload, as: UTF8.self))")
    }
}

/// A bus on a recording transport with a recording event sink.
struct TestBus {
    let transport: RecordingTransport
    let events = RpmsgEventRecorder()
    let registry: RpmsgDriverRegistry
    let bus: RpmsgBus

    init(name: String = "test.vdev0", mtu: Int = 496, nameService: Bool = true, log: CallLog? = nil) {
        transport = RecordingTransport(name: name, mtu: mtu, nameService: nameService, log: log)
        registry = RpmsgDriverRegistry(events: events)
        bus = RpmsgBus(transport: transport, registry: registry)
    }

    /// Delivers a name-service message as the remote would.
    func announce(_ name: String, address: UInt32, flags: UInt32 = 0) {
        bus.receive(source: address, destination: 53, payload: nameServicePayload(name, address: address, flags: flags))
    }
}

/// A callback that ignores everything.
let ignore: RpmsgEndpointCallback = { _, _, _ in }

import AmpRemoteproc
import AmpRpmsg
import AmpRpmsgVirtio
import AmpSystem
import Foundation
import Synchronization
import Testing

/// The omap4-like topology with ampsoc-fw-hostile on the ipu and ampsoc-fw-echo on the dsp, and two kinds of
/// traffic to the echo service that run for the whole scenario: ``PingPongDriver`` on the rpmsg service
/// thread (each echo triggers the next ping), and an ``EchoStream`` the main-loop thread keeps topped up
/// between slices of the main loop. The main loop's turns are counted.
final class HostileRemoteScenario {
    let topology: RpmsgTopology
    let pingPong: PingPongDriver
    /// Traffic from the main-loop thread, once ``startTraffic()`` ran.
    private(set) var stream: EchoStream?
    /// Turns of the host's main loop (its `onTick`) so far.
    private(set) var ticks = 0

    /// - Parameters:
    ///   - mode: the hostile firmware's --mode.
    ///   - recovery: whether the hostile remote is restarted after its crash.
    ///   - label: part of the instance name.
    init(mode: String, recovery: Bool, label: String) throws {
        let hostile = RpmsgTopology.product("ampsoc-fw-hostile")
        try #require(
            FileManager.default.isExecutableFile(atPath: hostile),
            "\(hostile) is not built (build every product: swift build --build-tests)")
        let driver = PingPongDriver()
        pingPong = driver
        topology = try RpmsgTopology(
            ipuFirmware: "ampsoc-fw-hostile", ipuArguments: ["--mode", mode, "--after-ms", "300", "--trigger", "message"],
            label: label
        ) { host in try host.rpmsgRegistry.register(driver) }
        try topology.rproc("ipu").recoveryEnabled = recovery
    }

    var ipu: RemoteProcessor { get throws { try topology.rproc("ipu") } }
    var dsp: RemoteProcessor { get throws { try topology.rproc("dsp") } }

    /// Runs the main loop until `condition` holds or `limit` seconds pass, topping up the echo stream before
    /// every slice. Returns whether the condition held.
    @discardableResult
    func drive(until condition: () throws -> Bool, limit: Double = 30) throws -> Bool {
        let deadline = MonotonicClock.nanoseconds() + UInt64(limit * 1e9)
        var met = try condition()
        while !met, MonotonicClock.nanoseconds() < deadline {
            try stream?.topUp()
            let slice = min(deadline, MonotonicClock.nanoseconds() + 20_000_000)
            let reason = try topology.host.run(until: slice) { self.ticks += 1 }
            #expect(reason == .deadline)
            met = try condition()
        }
        return met
    }

    /// Runs the main loop for `seconds` (traffic keeps flowing).
    func drive(for seconds: Double) throws {
        let end = MonotonicClock.nanoseconds() + UInt64(seconds * 1e9)
        try drive(until: { MonotonicClock.nanoseconds() >= end }, limit: seconds + 1)
    }

    /// Boots both remotes and waits for both channels and the first echo.
    func boot() throws {
        #expect(topology.host.bootAutomatically().isEmpty)
        #expect(try drive(until: {
            topology.channelEvents(of: "ipu").map(\.name) == ["rpmsg-hostile"]
                && topology.channelEvents(of: "dsp").map(\.name) == ["rpmsg-echo"] && pingPong.totalEchoes > 0
        }))
    }

    /// Starts the main-loop thread's stream of messages to the dsp's echo service.
    func startTraffic() throws {
        let bus = try #require(try dsp.rpmsgBuses.first)
        let echo = try #require(bus.channel(named: "rpmsg-echo"))
        stream = try EchoStream(bus: bus, destination: echo.destination)
    }

    /// An endpoint on the ipu's bus and the hostile's channel address, for talking to the hostile remote.
    func hostileEndpoint(_ callback: @escaping RpmsgEndpointCallback) throws -> (endpoint: RpmsgEndpoint, hostile: UInt32) {
        let bus = try #require(try ipu.rpmsgBuses.first)
        let channel = try #require(bus.channel(named: "rpmsg-hostile"))
        return (try bus.createEndpoint(callback: callback), channel.destination)
    }

    /// Trace lines of `rproc`, in order.
    func trace(of rproc: String) -> [String] {
        topology.events.events.compactMap { event in
            if case .trace(let name, let text) = event, name == rproc { return text }
            return nil
        }
    }

    /// Crashes of `rproc` as "type: detail".
    func crashes(of rproc: String) -> [String] {
        topology.events.events.compactMap { event in
            if case .crash(let name, let type, let detail) = event, name == rproc { return "\(type): \(detail)" }
            return nil
        }
    }

    /// Stops topping the stream up and waits until every message sent was echoed, in order.
    func drainTraffic() throws {
        let stream = try #require(stream)
        stream.stopped = true
        #expect(try drive(until: { stream.received.count == stream.sent.count }))
        #expect(stream.received == stream.sent)
    }
}

/// Messages to an echo service from the main-loop thread, a few in flight at a time, each different (a
/// counter and 0...96 filler bytes), so every echo can be matched to what was sent.
final class EchoStream {
    let endpoint: RpmsgEndpoint
    let destination: UInt32
    /// Payloads sent, in order.
    private(set) var sent: [[UInt8]] = []
    /// Once set, ``topUp()`` sends nothing more.
    var stopped = false
    private let replies = ReplyLog()
    private let window: Int

    init(bus: RpmsgBus, destination: UInt32, window: Int = 4) throws {
        self.destination = destination
        self.window = window
        let replies = self.replies
        endpoint = try bus.createEndpoint { _, payload, _ in replies.append(payload) }
    }

    /// Echoes received, in order.
    var received: [[UInt8]] { replies.all }

    /// Sends until `window` messages are unanswered.
    func topUp() throws {
        guard !stopped else { return }
        while sent.count - replies.count < window {
            let number = sent.count
            let payload = Array("stream \(number) ".utf8) + Array(repeating: UInt8(truncatingIfNeeded: number), count: number % 97)
            try endpoint.sendTo(destination, payload)
            sent.append(payload)
        }
    }
}

/// Payloads received on the rpmsg service thread, read from the test's thread.
final class ReplyLog: Sendable {
    private let payloads = Mutex<[[UInt8]]>([])

    func append(_ payload: [UInt8]) { payloads.withLock { $0.append(payload) } }
    var all: [[UInt8]] { payloads.withLock { $0 } }
    var count: Int { payloads.withLock { $0.count } }
}

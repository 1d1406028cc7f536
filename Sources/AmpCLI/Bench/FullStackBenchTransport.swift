import AmpBench
import AmpProfiles
import AmpRpmsg
import AmpSystem
import AmpWire
import Glibc

/// The "ampsoc" column of `ampsoc bench`: the whole stack between this process and a remote core. Every
/// message goes through an rpmsg endpoint (16-byte header), the host's virtio rpmsg link (a vring1 buffer,
/// the avail ring, a kick on the futex doorbell), the remote runtime's message loop (taking it, dispatching
/// it to the firmware's endpoint, returning the buffer) and, for answers, back through vring0, the doorbell
/// and the link's service thread to a host driver callback.
///
/// Started with `transport: .smd` it is the "smd" column: the same firmware, driver and measurements, with the
/// remote on SMD edge 0 (a packet per message in the channel's FIFO in SMEM, the host's SMD link instead of
/// the virtio one; the channels are created by name instead of announced, and the host endpoint sends to the
/// channel's pseudo address).
///
/// The topology (``FullStackTopology``) runs in this process: a host thread runs ``AmpRemoteproc/SoCHost``'s
/// main loop with one remote, ampsoc-fw-bench (firmware-samples/bench). A host driver
/// (``FullStackBenchDriver``) binds to its two channels; the messages are in ``FullStackBenchProtocol``.
///
/// - ``timedRoundTrips(size:count:timeLimit:)`` (what `ampsoc bench` measures): pings to "rpmsg-bench-echo",
///   each sent by the echo callback of the previous one on the link's service thread (``EchoPingPong``).
/// - ``roundTrip(size:)``: a ping with a fresh tag to "rpmsg-bench-echo"; returns once the echo (same length,
///   same tag) reached the measuring thread (the service thread hands it over through a ``ReplyMailbox``).
/// - ``stream(size:count:)``: `count` blocking sends to "rpmsg-bench-sink", then the control message; returns
///   once the sink's count arrived and equals `count`.
/// - ``idleProcessIDs``: the firmware process and this process (the host's main loop and service thread run
///   here: their wake-ups are part of what an idle topology costs).
public final class FullStackBenchTransport: BenchTransport {
    public var name: String { topology.transportName }
    /// What carries the rpmsg messages.
    public var transport: RpmsgTransportKind { topology.transport }
    public let maximumPayloadSize: Int
    public var idleProcessIDs: [pid_t] { [firmwarePID, getpid()] }
    /// The firmware process's id.
    public let firmwarePID: pid_t
    /// The topology's instance name (its segment is "/ampsoc.<instance>.<pid>-<start>.ipu").
    public var instance: String { topology.instance }

    /// How long the measuring thread spins for an answer before sleeping (with 3 or more usable CPUs only,
    /// see ``ReplyMailbox``).
    static let spinBudget: Duration = .microseconds(50)
    /// How long booting the remote may take.
    static let bootTimeout: Duration = .seconds(10)
    /// How long the firmware may take to announce both channels after boot.
    static let channelTimeout: Duration = .seconds(10)
    /// How long an answer may take before the remote is declared stuck.
    static let answerTimeout: Duration = .seconds(5)
    /// Longest sleep between two checks on the remote while waiting for an answer.
    static let waitSlice: Duration = .milliseconds(250)
    /// How long the host thread may take to tear the topology down.
    static let stopTimeout: Duration = .seconds(15)

    private let topology: FullStackTopology
    private let driver: FullStackBenchDriver
    private let echo: RpmsgEndpoint
    private let sink: RpmsgEndpoint
    private var echoesAsked: UInt64 = 0
    private var countsAsked: UInt64 = 0
    private var runsAsked: UInt64 = 0
    private var tag: UInt64 = 0
    private var ping: ByteWriter
    private var data: ByteWriter
    private var isShutDown = false

    private init(
        topology: FullStackTopology, driver: FullStackBenchDriver, firmwarePID: pid_t, echo: RpmsgEndpoint, sink: RpmsgEndpoint
    ) {
        self.topology = topology
        self.driver = driver
        self.firmwarePID = firmwarePID
        self.echo = echo
        self.sink = sink
        maximumPayloadSize = min(echo.mtu, sink.mtu)
        ping = FullStackBenchProtocol.payload(size: 16)
        data = FullStackBenchProtocol.payload(size: 16)
    }

    deinit {
        if !isShutDown { try? shutDown() }
    }

    /// Boots the topology (firmware `ampsoc-fw-bench` next to this executable, or `$AMPSOC_BENCH_FIRMWARE`),
    /// its rpmsg over `transport`, and waits until the host driver is bound to both bench channels. On failure
    /// nothing is left running. First removes the segments of ampsoc processes that died without unlinking
    /// them (as `ampsoc run` does), such as a benchmark that was killed.
    public static func start(transport: RpmsgTransportKind = .virtio) throws(BenchError) -> FullStackBenchTransport {
        let firmware = try FullStackTopology.locateFirmware(transport: transport)
        _ = try? StaleSegmentCleaner.clean()
        let driver = FullStackBenchDriver(spinBudget: spinBudget)
        let topology = try FullStackTopology(firmware: firmware, driver: driver, transport: transport)
        let pid = try topology.start(timeout: bootTimeout)
        do {
            let endpoints = try waitForChannels(driver: driver, topology: topology)
            return FullStackBenchTransport(
                topology: topology, driver: driver, firmwarePID: pid, echo: endpoints.echo, sink: endpoints.sink)
        } catch {
            try? topology.stop(timeout: stopTimeout)
            throw error
        }
    }

    /// Polls (every millisecond) until the driver holds both channels' endpoints.
    private static func waitForChannels(
        driver: FullStackBenchDriver, topology: FullStackTopology
    ) throws(BenchError) -> (echo: RpmsgEndpoint, sink: RpmsgEndpoint) {
        let deadline = MonotonicClock.nanoseconds() &+ MonotonicClock.nanoseconds(of: channelTimeout)
        while true {
            if let endpoints = driver.endpoints { return endpoints }
            try checkHealth(topology, while: "waiting for the channels")
            guard MonotonicClock.nanoseconds() < deadline else {
                throw .peerFailed(
                    transport: topology.transportName,
                    detail: describe("\(FullStackBenchProtocol.echoChannel) and \(FullStackBenchProtocol.sinkChannel) "
                        + "were not both announced within \(channelTimeout)", topology))
            }
            usleep(1000)
        }
    }

    // MARK: Messages

    public func roundTrip(size: Int) throws(BenchError) {
        try checkPayloadSize(size)
        if ping.bytes.count != size { ping = FullStackBenchProtocol.payload(size: size) }
        tag &+= 1
        ping.put(tag, at: FullStackBenchProtocol.tagOffset)
        try send(ping.bytes, on: echo, what: "a \(size)-byte ping")
        echoesAsked += 1
        try awaitAnswer(driver.echoes, target: echoesAsked, what: "the echo of a \(size)-byte ping")
        let (echoedTag, length) = driver.echoes.latest
        guard echoedTag == tag, length == size else {
            throw .protocolViolation(
                transport: name, detail: "echo of \(length) bytes with tag \(echoedTag) for a \(size)-byte ping with tag \(tag)")
        }
    }

    /// `count` round trips driven by the echo callback (``EchoPingPong``): the first ping is sent here, every
    /// later one from the callback of the previous echo, on the link's service thread.
    public func timedRoundTrips(size: Int, count: Int, timeLimit: Duration) throws(BenchError) -> [UInt64]? {
        try checkPayloadSize(size)
        guard count > 0 else { return [] }
        let run = driver.pingPong
        do {
            try run.start(on: echo, size: size, count: count, timeLimit: timeLimit, firstTag: tag &+ 1)
        } catch {
            try Self.checkHealth(topology, while: "sending the first \(size)-byte ping")
            throw .peerFailed(transport: name, detail: Self.describe("sending the first \(size)-byte ping failed: \(error.message)", topology))
        }
        runsAsked += 1
        do {
            try awaitAnswer(
                run.done, target: runsAsked, timeout: Self.answerTimeout + timeLimit,
                what: "the end of \(count) round trips of \(size) bytes")
        } catch {
            run.abandon()
            throw error
        }
        let result = run.result
        tag = result.lastTag
        if let failure = result.failure {
            throw .protocolViolation(transport: name, detail: failure)
        }
        return result.samples
    }

    public func stream(size: Int, count: Int) throws(BenchError) {
        try checkPayloadSize(size)
        try sendData(size: size, count: count)
        let counted = try sinkCount()
        guard UInt64(counted) == UInt64(count) else {
            throw .protocolViolation(transport: name, detail: "the sink counted \(counted) messages, \(count) were sent")
        }
    }

    /// Sends `count` data messages of `size` bytes to the sink (blocking sends), without asking for the count.
    func sendData(size: Int, count: Int) throws(BenchError) {
        if data.bytes.count != size { data = FullStackBenchProtocol.payload(size: size) }
        let bytes = data.bytes
        for _ in 0..<count {
            try send(bytes, on: sink, what: "a \(size)-byte data message")
        }
    }

    /// Sends the control message and returns the sink's answer: the data messages since the last one.
    func sinkCount() throws(BenchError) -> UInt32 {
        try send(FullStackBenchProtocol.control, on: sink, what: "the control message")
        countsAsked += 1
        try awaitAnswer(driver.counts, target: countsAsked, what: "the sink's count")
        let (counted, length) = driver.counts.latest
        guard length == FullStackBenchProtocol.countReplyLength, let value = UInt32(exactly: counted) else {
            throw .protocolViolation(
                transport: name, detail: "count reply of \(length) bytes; \(FullStackBenchProtocol.countReplyLength) expected")
        }
        return value
    }

    /// One blocking send; `what` (built only on failure) names the message in the error. When the host has
    /// reported a crash (which it does before it takes the link down), that is the error.
    private func send(_ payload: [UInt8], on endpoint: RpmsgEndpoint, what: @autoclosure () -> String) throws(BenchError) {
        do {
            try endpoint.send(payload)
        } catch {
            try Self.checkHealth(topology, while: "sending \(what())")
            throw .peerFailed(transport: name, detail: Self.describe("sending \(what()) failed: \(error.message)", topology))
        }
    }

    /// Waits for the `target`-th answer in `mailbox`, checking on the remote between sleeps; `what` (built only
    /// on failure) names the answer in the error.
    private func awaitAnswer(
        _ mailbox: ReplyMailbox, target: UInt64, timeout: Duration = answerTimeout, what: @autoclosure () -> String
    ) throws(BenchError) {
        let start = MonotonicClock.nanoseconds()
        let limit = MonotonicClock.nanoseconds(of: timeout)
        while !mailbox.wait(untilPosted: target, slice: Self.waitSlice) {
            try Self.checkHealth(topology, while: "waiting for \(what())")
            guard MonotonicClock.nanoseconds() &- start < limit else {
                throw .peerFailed(transport: name, detail: Self.describe("no answer within \(timeout) (\(what()))", topology))
            }
        }
    }

    /// Throws if the host reported a crash or an error, or its main loop failed.
    private static func checkHealth(_ topology: FullStackTopology, while doing: String) throws(BenchError) {
        if let failure = topology.runFailure {
            throw .peerFailed(transport: topology.transportName, detail: "\(failure) (\(doing))")
        }
        let problems = topology.events.problems
        if !problems.isEmpty {
            throw .peerFailed(transport: topology.transportName, detail: describe("\(problems.joined(separator: "; ")) (\(doing))", topology))
        }
    }

    /// `detail`, with the firmware's latest trace lines when there are any.
    private static func describe(_ detail: String, _ topology: FullStackTopology) -> String {
        let trace = topology.events.recentTrace.suffix(3)
        return trace.isEmpty ? detail : "\(detail); latest firmware trace: \(trace.joined(separator: " | "))"
    }

    // MARK: Shutting down

    /// Stops the host thread (which stops the firmware, reaps it and unlinks the segment) and waits for it.
    /// Throws if it did not end in time, or the remote crashed or the host reported an error meanwhile.
    public func shutDown() throws(BenchError) {
        guard !isShutDown else { return }
        isShutDown = true
        try topology.stop(timeout: Self.stopTimeout)
        let problems = topology.events.problems
        if !problems.isEmpty {
            throw .peerFailed(transport: name, detail: problems.joined(separator: "; "))
        }
    }
}

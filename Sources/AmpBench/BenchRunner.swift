import AmpSystem
import Glibc

/// Runs every measurement of `ampsoc bench` on every column and assembles a ``BenchReport``.
///
/// Every column's transport (and so its peer processes) is started first: raw shared memory, SOCK_SEQPACKET,
/// then the full ampsoc stack over virtio and over SMD, each when a factory for it is given. Then each
/// measurement (round trips at 16 and 496 bytes, throughput at 16 and 496 bytes) runs in
/// ``BenchConfiguration/rounds`` rounds; a round measures every column in turn with its share of the work
/// (``BenchConfiguration/perRound``), starting with a different column each round. Samples and streaming
/// windows add up over the rounds, so a slow spell of the machine (another virtual machine on the same host,
/// a burst of interrupts) weighs on every column alike, and the ratios between columns stay fair. Columns
/// that are not being measured sit idle: their peers sleep on a doorbell or a socket, so they never compete
/// for the CPUs. Finally the baselines and the SMD column are shut down, the virtio full stack's idle CPU use
/// is measured with its processes alone, and it is shut down too. A column that cannot start or fails mid-way
/// ends the run with its error, after every started transport has been shut down; so does a stop request
/// (``stopRequest``), which is looked at before every step.
public struct BenchRunner {
    /// Starts a column's transport (and its peer processes); the runner shuts it down when done.
    public typealias TransportFactory = () throws(BenchError) -> any BenchTransport

    /// Iterations and windows.
    public var configuration: BenchConfiguration
    /// The "raw" column.
    public var raw: TransportFactory = { () throws(BenchError) -> any BenchTransport in try RawSharedMemoryTransport.start() }
    /// The "seqpacket" column.
    public var seqpacket: TransportFactory = { () throws(BenchError) -> any BenchTransport in try SeqpacketTransport.start() }
    /// The "ampsoc" column (rpmsg over virtio over the doorbell); nil until the full stack provides one, and
    /// then the report's `ampsoc` values and the idle CPU figure are nil.
    public var fullStack: TransportFactory?
    /// The "smd" column (the same full stack with the remote on an SMD edge); nil when not measured, and then
    /// the report's `smd` values are nil.
    public var smd: TransportFactory?
    /// Asked before every step (starting a column, one column's share of a measurement, the idle window): a
    /// signal number ends the run with ``BenchError/interrupted(signal:)``, after every started column was
    /// shut down. Steps are time-capped (about a second, the idle window 2 s), so a stop takes effect soon.
    public var stopRequest: () -> Int32? = { nil }

    public init(configuration: BenchConfiguration, fullStack: TransportFactory? = nil, smd: TransportFactory? = nil) {
        self.configuration = configuration
        self.fullStack = fullStack
        self.smd = smd
    }

    /// A started column and what its measurements have gathered so far.
    final class Column {
        let transport: any BenchTransport
        /// Round-trip samples per payload size, over all rounds.
        var samples: [Int: [UInt64]] = [:]
        /// Streamed messages and nanoseconds per payload size, over all rounds.
        var windows: [Int: (messages: Int, nanoseconds: UInt64)] = [:]
        var isShutDown = false

        init(transport: any BenchTransport) {
            self.transport = transport
        }

        func latency(_ size: Int) throws(BenchError) -> LatencySummary {
            try BenchMeasurement.latencySummary(of: samples[size] ?? [], transport: transport)
        }

        func throughput(_ size: Int) -> ThroughputSummary {
            let window = windows[size] ?? (0, 0)
            return ThroughputSummary(messages: window.messages, payloadSize: size, nanoseconds: window.nanoseconds)
        }

        /// Shuts the transport down once (later calls do nothing).
        func shutDown() throws(BenchError) {
            guard !isShutDown else { return }
            isShutDown = true
            try transport.shutDown()
        }
    }

    /// Measures all columns. `progress` receives one line per step as it starts.
    public func run(progress: (String) -> Void = { _ in }) throws(BenchError) -> BenchReport {
        let start = MonotonicClock.nanoseconds()
        progress("starting the columns")
        var started: [Column] = []
        func begin(_ factory: TransportFactory) throws(BenchError) -> Column {
            try checkStopRequest()
            let column = Column(transport: try factory())
            started.append(column)
            return column
        }
        do {
            let rawColumn = try begin(raw)
            let seqpacketColumn = try begin(seqpacket)
            let ampsocColumn = try fullStack.map { factory throws(BenchError) in try begin(factory) }
            let smdColumn = try smd.map { factory throws(BenchError) in try begin(factory) }
            try measure(started, progress: progress)
            func comparison<Value: Equatable & Sendable>(
                _ figure: (Column) throws(BenchError) -> Value
            ) throws(BenchError) -> BenchComparison<Value> {
                BenchComparison(
                    ampsoc: try ampsocColumn.map(figure), raw: try figure(rawColumn), seqpacket: try figure(seqpacketColumn),
                    smd: try smdColumn.map(figure))
            }
            let roundTrip16 = try comparison { column throws(BenchError) in try column.latency(16) }
            let roundTrip496 = try comparison { column throws(BenchError) in try column.latency(496) }
            let throughput16 = try comparison { $0.throughput(16) }
            let throughput496 = try comparison { $0.throughput(496) }
            var idleCPUPercent: Double?
            if let ampsocColumn {
                // The other columns' processes and threads go first, so that only the topology is measured.
                for column in started where column !== ampsocColumn { try column.shutDown() }
                idleCPUPercent = try idlePercent(of: ampsocColumn.transport)
            }
            for column in started { try column.shutDown() }
            return BenchReport(
                roundTrip16: roundTrip16, roundTrip496: roundTrip496, throughput16: throughput16,
                throughput496: throughput496, idleCPUPercent: idleCPUPercent, usableCPUs: CPUAffinity.usableCPUCount(),
                elapsedSeconds: Double(MonotonicClock.nanoseconds() &- start) / 1e9)
        } catch {
            for column in started { try? column.shutDown() }
            throw error
        }
    }

    /// The payload sizes measured: the report's rows (``BenchReport``'s 16-byte and 496-byte metrics).
    static let payloadSizes = [16, 496]

    /// Every measurement in rounds, into the columns' samples and windows.
    private func measure(_ columns: [Column], progress: (String) -> Void) throws(BenchError) {
        let share = configuration.perRound
        let rounds = max(1, configuration.rounds)
        for size in Self.payloadSizes {
            progress("round trips of \(size) bytes, \(rounds) round(s)")
            try inRounds(columns, rounds: rounds) { column throws(BenchError) in
                let samples = try BenchMeasurement.roundTripSamples(column.transport, size: size, configuration: share)
                column.samples[size, default: []].append(contentsOf: samples)
            }
        }
        for size in Self.payloadSizes {
            progress("one-way streams of \(size) bytes, \(rounds) round(s)")
            try inRounds(columns, rounds: rounds) { column throws(BenchError) in
                let window = try BenchMeasurement.throughputWindow(column.transport, size: size, configuration: share)
                let sum = column.windows[size] ?? (0, 0)
                column.windows[size] = (sum.messages + window.messages, sum.nanoseconds &+ window.nanoseconds)
            }
        }
    }

    /// Runs `body` on every column, `rounds` times; round r starts with column r (modulo the count), so no
    /// column always goes first after the others' peers fell asleep.
    private func inRounds(_ columns: [Column], rounds: Int, _ body: (Column) throws(BenchError) -> Void) throws(BenchError) {
        for round in 0..<rounds {
            for offset in 0..<columns.count {
                try checkStopRequest()
                try body(columns[(round + offset) % columns.count])
            }
        }
    }

    /// Throws ``BenchError/interrupted(signal:)`` when ``stopRequest`` names a signal.
    private func checkStopRequest() throws(BenchError) {
        if let signal = stopRequest() { throw .interrupted(signal: signal) }
    }

    /// CPU use of `transport`'s idle topology (nil when it names no processes).
    private func idlePercent(of transport: any BenchTransport) throws(BenchError) -> Double? {
        let pids = transport.idleProcessIDs
        guard !pids.isEmpty else { return nil }
        // Let the doorbells' spinning and any deferred work settle before the window opens.
        BenchSys.sleep(nanoseconds: 100_000_000)
        try checkStopRequest()
        return try CPUUsageMeter.percentOfOneCore(pids: pids, window: configuration.idleWindow)
    }
}

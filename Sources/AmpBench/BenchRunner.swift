import AmpSystem
import Glibc

/// Runs every measurement of `ampsoc bench` on every column and assembles a ``BenchReport``.
///
/// Columns run one after another, each with its own peer process, so they never compete for the CPUs:
/// raw shared memory, then SOCK_SEQPACKET, then the full ampsoc stack over virtio and then over SMD, each when
/// a factory for it is given. Per column: round trips at 16 and 496 bytes, then throughput at 16 and 496
/// bytes, then (the virtio full stack only) the idle topology's CPU use. A column that cannot start or fails mid-way ends the run with its error.
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

    public init(configuration: BenchConfiguration, fullStack: TransportFactory? = nil, smd: TransportFactory? = nil) {
        self.configuration = configuration
        self.fullStack = fullStack
        self.smd = smd
    }

    /// The figures of one column.
    struct Column {
        var roundTrip16: LatencySummary
        var roundTrip496: LatencySummary
        var throughput16: ThroughputSummary
        var throughput496: ThroughputSummary
        var idleCPUPercent: Double?
    }

    /// Measures all columns. `progress` receives one line per column as it starts.
    public func run(progress: (String) -> Void = { _ in }) throws(BenchError) -> BenchReport {
        let start = MonotonicClock.nanoseconds()
        progress("measuring raw shared memory")
        let rawColumn = try measure(raw, idle: false)
        progress("measuring SOCK_SEQPACKET")
        let seqpacketColumn = try measure(seqpacket, idle: false)
        var ampsocColumn: Column?
        if let fullStack {
            progress("measuring the ampsoc stack")
            ampsocColumn = try measure(fullStack, idle: true)
        }
        var smdColumn: Column?
        if let smd {
            progress("measuring the ampsoc stack over SMD")
            smdColumn = try measure(smd, idle: false)
        }
        func comparison<Value: Equatable & Sendable>(_ figure: (Column) -> Value) -> BenchComparison<Value> {
            BenchComparison(
                ampsoc: ampsocColumn.map(figure), raw: figure(rawColumn), seqpacket: figure(seqpacketColumn),
                smd: smdColumn.map(figure))
        }
        return BenchReport(
            roundTrip16: comparison(\.roundTrip16), roundTrip496: comparison(\.roundTrip496),
            throughput16: comparison(\.throughput16), throughput496: comparison(\.throughput496),
            idleCPUPercent: ampsocColumn?.idleCPUPercent,
            usableCPUs: CPUAffinity.usableCPUCount(),
            elapsedSeconds: Double(MonotonicClock.nanoseconds() &- start) / 1e9)
    }

    /// Starts a transport, measures it, and shuts it down (also when a measurement fails).
    func measure(_ factory: TransportFactory, idle: Bool) throws(BenchError) -> Column {
        let transport = try factory()
        let column: Column
        do {
            column = try measure(transport, idle: idle)
        } catch {
            try? transport.shutDown()
            throw error
        }
        try transport.shutDown()
        return column
    }

    /// The measurements of one running transport.
    func measure(_ transport: any BenchTransport, idle: Bool) throws(BenchError) -> Column {
        let roundTrip16 = try BenchMeasurement.roundTrips(transport, size: 16, configuration: configuration)
        let roundTrip496 = try BenchMeasurement.roundTrips(transport, size: 496, configuration: configuration)
        let throughput16 = try BenchMeasurement.throughput(transport, size: 16, configuration: configuration)
        let throughput496 = try BenchMeasurement.throughput(transport, size: 496, configuration: configuration)
        var idleCPUPercent: Double?
        let pids = transport.idleProcessIDs
        if idle, !pids.isEmpty {
            // Let the doorbells' spinning and any deferred work settle before the window opens.
            BenchSys.sleep(nanoseconds: 100_000_000)
            idleCPUPercent = try CPUUsageMeter.percentOfOneCore(pids: pids, window: configuration.idleWindow)
        }
        return Column(
            roundTrip16: roundTrip16, roundTrip496: roundTrip496, throughput16: throughput16,
            throughput496: throughput496, idleCPUPercent: idleCPUPercent)
    }
}

import AmpSystem

/// How long and how often each measurement runs.
public struct BenchConfiguration: Equatable, Sendable {
    /// Untimed round trips before the timed ones (page faults, caches, the CPU leaving its idle state).
    public var roundTripWarmup: Int
    /// Timed round trips per transport and size.
    public var roundTripIterations: Int
    /// Cap on the timed round trips of one transport and size: a slow machine stops early with fewer samples.
    public var roundTripTimeLimit: Duration
    /// Messages per ``BenchTransport/stream(size:count:)`` call in the throughput measurement.
    public var streamBatch: Int
    /// Minimum length of the timed throughput window per transport and size (whole batches are sent).
    public var throughputDuration: Duration
    /// Window over which an idle topology's CPU use is measured.
    public var idleWindow: Duration
    /// The payload sizes measured (the report has a row for 16 and for 496 bytes).
    public var payloadSizes: [Int]

    public init(
        roundTripWarmup: Int, roundTripIterations: Int, roundTripTimeLimit: Duration, streamBatch: Int,
        throughputDuration: Duration, idleWindow: Duration, payloadSizes: [Int] = [16, 496]
    ) {
        self.roundTripWarmup = roundTripWarmup
        self.roundTripIterations = roundTripIterations
        self.roundTripTimeLimit = roundTripTimeLimit
        self.streamBatch = streamBatch
        self.throughputDuration = throughputDuration
        self.idleWindow = idleWindow
        self.payloadSizes = payloadSizes
    }

    /// `ampsoc bench`: 20,000 round trips after 2,000 warm-up ones, ~1 s of streaming, 2 s idle window.
    /// About 10 s for the two baselines on a 2-vCPU machine; well under 60 s in the worst case (time limits).
    public static let standard = BenchConfiguration(
        roundTripWarmup: 2_000, roundTripIterations: 20_000, roundTripTimeLimit: .seconds(4), streamBatch: 8_192,
        throughputDuration: .seconds(1), idleWindow: .seconds(2))

    /// `ampsoc bench --quick` (tests): a tenth of the work; the numbers are noisier.
    public static let quick = BenchConfiguration(
        roundTripWarmup: 200, roundTripIterations: 2_000, roundTripTimeLimit: .seconds(1), streamBatch: 2_048,
        throughputDuration: .milliseconds(150), idleWindow: .milliseconds(500))
}

/// The timing code every transport shares: per-iteration timestamps for round trips, a timed window of whole
/// batches for throughput. Clock: ``MonotonicClock`` (CLOCK_MONOTONIC through the vDSO, ~20-50 ns a read).
public enum BenchMeasurement {
    /// `configuration.roundTripWarmup` untimed round trips, then up to `roundTripIterations` timed ones (fewer if
    /// `roundTripTimeLimit` runs out), each timed on its own: by the transport when it drives its round trips
    /// itself (``BenchTransport/timedRoundTrips(size:count:timeLimit:)``), otherwise here, around every
    /// ``BenchTransport/roundTrip(size:)`` call.
    public static func roundTrips(
        _ transport: any BenchTransport, size: Int, configuration: BenchConfiguration
    ) throws(BenchError) -> LatencySummary {
        try transport.checkPayloadSize(size)
        let samples: [UInt64]
        if try transport.timedRoundTrips(size: size, count: configuration.roundTripWarmup, timeLimit: configuration.roundTripTimeLimit) != nil {
            samples = try transport.timedRoundTrips(
                size: size, count: configuration.roundTripIterations, timeLimit: configuration.roundTripTimeLimit) ?? []
        } else {
            samples = try callerTimedRoundTrips(transport, size: size, configuration: configuration)
        }
        guard let summary = LatencySummary(nanoseconds: samples) else {
            throw .protocolViolation(transport: transport.name, detail: "no round trip completed")
        }
        return summary
    }

    /// Warm-up, then the timed round trips, each timed around one ``BenchTransport/roundTrip(size:)`` call.
    private static func callerTimedRoundTrips(
        _ transport: any BenchTransport, size: Int, configuration: BenchConfiguration
    ) throws(BenchError) -> [UInt64] {
        for _ in 0..<configuration.roundTripWarmup {
            try transport.roundTrip(size: size)
        }
        var samples = [UInt64]()
        samples.reserveCapacity(configuration.roundTripIterations)
        let start = MonotonicClock.nanoseconds()
        let limit = MonotonicClock.nanoseconds(of: configuration.roundTripTimeLimit)
        var before = start
        for _ in 0..<configuration.roundTripIterations {
            try transport.roundTrip(size: size)
            let after = MonotonicClock.nanoseconds()
            samples.append(after &- before)
            if after &- start >= limit { break }
            before = after
        }
        return samples
    }

    /// One untimed batch, then whole batches of `configuration.streamBatch` messages until at least
    /// `throughputDuration` has passed; the rate is messages delivered over the time until the peer had them all.
    public static func throughput(
        _ transport: any BenchTransport, size: Int, configuration: BenchConfiguration
    ) throws(BenchError) -> ThroughputSummary {
        try transport.checkPayloadSize(size)
        let batch = max(1, configuration.streamBatch)
        try transport.stream(size: size, count: batch)
        let duration = MonotonicClock.nanoseconds(of: configuration.throughputDuration)
        let start = MonotonicClock.nanoseconds()
        var messages = 0
        var elapsed: UInt64 = 0
        repeat {
            try transport.stream(size: size, count: batch)
            messages += batch
            elapsed = MonotonicClock.nanoseconds() &- start
        } while elapsed < duration
        return ThroughputSummary(messages: messages, payloadSize: size, nanoseconds: elapsed)
    }
}

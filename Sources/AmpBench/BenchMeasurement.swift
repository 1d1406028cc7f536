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
    /// Rounds per measurement in ``BenchRunner``: each round measures every column in turn, with its share of
    /// the iterations, time limit and streaming window (and the whole warm-up), so a slow spell of the machine falls on all
    /// columns alike instead of on whichever column ran then.
    public var rounds: Int

    public init(
        roundTripWarmup: Int, roundTripIterations: Int, roundTripTimeLimit: Duration, streamBatch: Int,
        throughputDuration: Duration, idleWindow: Duration, rounds: Int = 1
    ) {
        self.roundTripWarmup = roundTripWarmup
        self.roundTripIterations = roundTripIterations
        self.roundTripTimeLimit = roundTripTimeLimit
        self.streamBatch = streamBatch
        self.throughputDuration = throughputDuration
        self.idleWindow = idleWindow
        self.rounds = rounds
    }

    /// This configuration's share for one of ``rounds`` rounds: iterations, time limit and streaming window
    /// divided by the number of rounds (at least one iteration each). The warm-up is not divided: every round
    /// starts with a topology that sat idle while the other columns ran, whose threads must first wake up
    /// and settle on their CPUs.
    public var perRound: BenchConfiguration {
        let count = max(1, rounds)
        var share = self
        share.roundTripIterations = max(1, roundTripIterations / count)
        share.roundTripTimeLimit = roundTripTimeLimit / count
        share.throughputDuration = throughputDuration / count
        share.rounds = 1
        return share
    }

    /// `ampsoc bench`: 20,000 round trips after 2,000 warm-up ones, ~1 s of streaming, 2 s idle window, each
    /// measurement in 5 rounds. About 10 s for the two baselines on a 2-vCPU machine; well under 60 s in the
    /// worst case (time limits).
    public static let standard = BenchConfiguration(
        roundTripWarmup: 2_000, roundTripIterations: 20_000, roundTripTimeLimit: .seconds(4), streamBatch: 8_192,
        throughputDuration: .seconds(1), idleWindow: .seconds(2), rounds: 5)

    /// `ampsoc bench --quick` (tests): a tenth of the work, in 2 rounds; the numbers are noisier.
    public static let quick = BenchConfiguration(
        roundTripWarmup: 200, roundTripIterations: 2_000, roundTripTimeLimit: .seconds(1), streamBatch: 2_048,
        throughputDuration: .milliseconds(150), idleWindow: .milliseconds(500), rounds: 2)
}

/// The timing code every transport shares: per-iteration timestamps for round trips, a timed window of whole
/// batches for throughput. Clock: ``MonotonicClock`` (CLOCK_MONOTONIC through the vDSO, ~20-50 ns a read).
public enum BenchMeasurement {
    /// `configuration.roundTripWarmup` untimed round trips, then up to `roundTripIterations` timed ones (fewer if
    /// `roundTripTimeLimit` runs out), each timed on its own: by the transport when it drives its round trips
    /// itself (``BenchTransport/timedRoundTrips(size:count:timeLimit:)``, one run whose first samples are the
    /// warm-up), otherwise here, around every ``BenchTransport/roundTrip(size:)`` call.
    public static func roundTrips(
        _ transport: any BenchTransport, size: Int, configuration: BenchConfiguration
    ) throws(BenchError) -> LatencySummary {
        try latencySummary(of: roundTripSamples(transport, size: size, configuration: configuration), transport: transport)
    }

    /// The samples of ``roundTrips(_:size:configuration:)`` (nanoseconds, one per timed round trip), for callers
    /// that merge several runs before summarising.
    public static func roundTripSamples(
        _ transport: any BenchTransport, size: Int, configuration: BenchConfiguration
    ) throws(BenchError) -> [UInt64] {
        try transport.checkPayloadSize(size)
        // A transport that times itself runs warm-up and timed round trips as one run, the warm-up's samples
        // dropped: a pause between the two would let its threads fall asleep, and the timed run would start
        // with wake-ups (and the scheduler's placement of the woken threads) instead of warm.
        let warmup = configuration.roundTripWarmup
        if let samples = try transport.timedRoundTrips(
            size: size, count: warmup + configuration.roundTripIterations, timeLimit: configuration.roundTripTimeLimit)
        {
            return Array(samples.dropFirst(warmup))
        }
        return try callerTimedRoundTrips(transport, size: size, configuration: configuration)
    }

    /// The median and p99 of `samples`; an error naming `transport` when there are none.
    public static func latencySummary(of samples: [UInt64], transport: any BenchTransport) throws(BenchError) -> LatencySummary {
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
        let window = try throughputWindow(transport, size: size, configuration: configuration)
        return ThroughputSummary(messages: window.messages, payloadSize: size, nanoseconds: window.nanoseconds)
    }

    /// The messages and the nanoseconds of ``throughput(_:size:configuration:)``'s timed window, for callers
    /// that add up several windows before computing the rate.
    public static func throughputWindow(
        _ transport: any BenchTransport, size: Int, configuration: BenchConfiguration
    ) throws(BenchError) -> (messages: Int, nanoseconds: UInt64) {
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
        return (messages, elapsed)
    }
}

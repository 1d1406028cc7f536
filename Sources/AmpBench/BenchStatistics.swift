/// Order statistics for latency samples.
///
/// - Median: the middle value of the sorted samples; for an even count, the mean of the two middle values.
/// - Percentile p (0 < p <= 100), nearest-rank: the smallest sample such that at least p% of all samples are
///   less than or equal to it, i.e. `sorted[ceil(p / 100 * n) - 1]`. It is always one of the samples, so a p99
///   over 20,000 round trips is the 19,800th fastest one.
public enum BenchStatistics {
    /// The median of `values` (any order), nil when empty.
    public static func median(_ values: [Double]) -> Double? {
        median(sorted: values.sorted())
    }

    /// The nearest-rank `percent`-th percentile of `values` (any order); nil when empty or `percent` is
    /// outside (0, 100].
    public static func percentile(_ percent: Double, of values: [Double]) -> Double? {
        percentile(percent, sorted: values.sorted())
    }

    /// ``median(_:)`` of values already sorted ascending.
    public static func median(sorted: [Double]) -> Double? {
        let count = sorted.count
        guard count > 0 else { return nil }
        if count % 2 == 1 { return sorted[count / 2] }
        return (sorted[count / 2 - 1] + sorted[count / 2]) / 2
    }

    /// ``percentile(_:of:)`` of values already sorted ascending.
    public static func percentile(_ percent: Double, sorted: [Double]) -> Double? {
        guard !sorted.isEmpty, percent > 0, percent <= 100 else { return nil }
        // The tiny relative shave keeps decimal percentages exact: 99.9% of 1000 is rank 999, although
        // 99.9 / 100 * 1000 computes as 999.0000000000001 in binary floating point.
        let exactRank = percent / 100 * Double(sorted.count)
        let rank = Int((exactRank - exactRank * 1e-12).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }
}

/// Round-trip latency of one transport and payload size, in microseconds.
public struct LatencySummary: Equatable, Sendable {
    /// Median round trip.
    public var medianMicroseconds: Double
    /// 99th percentile (nearest rank).
    public var p99Microseconds: Double
    /// Fastest round trip.
    public var minimumMicroseconds: Double
    /// How many timed round trips the figures come from (warm-up excluded).
    public var samples: Int

    public init(medianMicroseconds: Double, p99Microseconds: Double, minimumMicroseconds: Double, samples: Int) {
        self.medianMicroseconds = medianMicroseconds
        self.p99Microseconds = p99Microseconds
        self.minimumMicroseconds = minimumMicroseconds
        self.samples = samples
    }

    /// Summarises per-round-trip durations in nanoseconds; nil when there are none.
    public init?(nanoseconds: [UInt64]) {
        let sorted = nanoseconds.sorted().map { Double($0) / 1000 }
        guard let median = BenchStatistics.median(sorted: sorted),
              let p99 = BenchStatistics.percentile(99, sorted: sorted), let minimum = sorted.first
        else { return nil }
        self.init(medianMicroseconds: median, p99Microseconds: p99, minimumMicroseconds: minimum, samples: sorted.count)
    }
}

/// One-way throughput of one transport and payload size.
public struct ThroughputSummary: Equatable, Sendable {
    /// Messages delivered per second.
    public var messagesPerSecond: Double
    /// Payload megabytes (10^6 bytes) delivered per second.
    public var megabytesPerSecond: Double
    /// Messages delivered in the timed window.
    public var messages: Int
    /// Length of the timed window in seconds.
    public var seconds: Double

    /// The rates of `messages` of `payloadSize` bytes delivered in `nanoseconds` (at least 1 ns is assumed).
    public init(messages: Int, payloadSize: Int, nanoseconds: UInt64) {
        let seconds = Double(max(nanoseconds, 1)) / 1e9
        self.messages = messages
        self.seconds = seconds
        messagesPerSecond = Double(messages) / seconds
        megabytesPerSecond = Double(messages) * Double(payloadSize) / seconds / 1e6
    }
}

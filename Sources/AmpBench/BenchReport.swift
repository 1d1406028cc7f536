/// One metric measured on every column: the full ampsoc stack over virtio and over SMD (nil when not
/// measured) and the two baselines measured in the same run.
public struct BenchComparison<Value: Equatable & Sendable>: Equatable, Sendable {
    /// The full stack over virtio (rpmsg header, vring, doorbell); nil when not measured.
    public var ampsoc: Value?
    /// Raw shared memory with the same doorbell.
    public var raw: Value
    /// AF_UNIX SOCK_SEQPACKET socket pair.
    public var seqpacket: Value
    /// The full stack over SMD (rpmsg endpoint, SMD channel FIFOs in SMEM, doorbell); nil when not measured.
    public var smd: Value?

    public init(ampsoc: Value?, raw: Value, seqpacket: Value, smd: Value? = nil) {
        self.ampsoc = ampsoc
        self.raw = raw
        self.seqpacket = seqpacket
        self.smd = smd
    }
}

/// Everything `ampsoc bench` measured.
public struct BenchReport: Equatable, Sendable {
    /// Round-trip latency, 16-byte payload.
    public var roundTrip16: BenchComparison<LatencySummary>
    /// Round-trip latency, 496-byte payload.
    public var roundTrip496: BenchComparison<LatencySummary>
    /// One-way throughput, 16-byte payload.
    public var throughput16: BenchComparison<ThroughputSummary>
    /// One-way throughput, 496-byte payload.
    public var throughput496: BenchComparison<ThroughputSummary>
    /// CPU use of the idle ampsoc topology (the virtio one) in percent of one core; nil when not measured.
    public var idleCPUPercent: Double?
    /// CPUs this process could run on (spinning doorbells only spin with more than one).
    public var usableCPUs: Int
    /// Wall-clock time of the whole run, in seconds.
    public var elapsedSeconds: Double

    public init(
        roundTrip16: BenchComparison<LatencySummary>, roundTrip496: BenchComparison<LatencySummary>,
        throughput16: BenchComparison<ThroughputSummary>, throughput496: BenchComparison<ThroughputSummary>,
        idleCPUPercent: Double?, usableCPUs: Int, elapsedSeconds: Double
    ) {
        self.roundTrip16 = roundTrip16
        self.roundTrip496 = roundTrip496
        self.throughput16 = throughput16
        self.throughput496 = throughput496
        self.idleCPUPercent = idleCPUPercent
        self.usableCPUs = usableCPUs
        self.elapsedSeconds = elapsedSeconds
    }
}

/// One target of the benchmark issue, checked against a report.
public struct BenchTargetCheck: Equatable, Sendable {
    /// What ``value`` counts.
    public enum Unit: Equatable, Sendable {
        /// A ratio of two columns ("1.50x").
        case ratio
        /// Percent of one core ("0.40%").
        case percentOfCore
    }

    /// What is required, e.g. "round trip 16 B <= 2x raw ping-pong".
    public var requirement: String
    /// What ``value`` counts.
    public var unit: Unit
    /// The measured ratio or percentage; nil when a number is missing.
    public var value: Double?
    /// Whether the target is met; nil when it could not be measured.
    public var passed: Bool?
}

/// The targets (all about the virtio "ampsoc" column; the SMD column has none): round trips at most 2x the raw ping-pong; one-way 496-byte throughput at least 8x
/// SOCK_SEQPACKET and at least 50% of the raw ring; an idle topology below 2% of one core.
public enum BenchTargets {
    /// Largest allowed ampsoc/raw round-trip ratio (medians).
    public static let maximumRoundTripRatio = 2.0
    /// Smallest allowed ampsoc/seqpacket one-way 496-byte ratio (messages per second).
    public static let minimumSeqpacketThroughputRatio = 8.0
    /// Smallest allowed ampsoc/raw one-way 496-byte ratio (messages per second).
    public static let minimumRawThroughputRatio = 0.5
    /// Largest allowed idle CPU use, in percent of one core (exclusive).
    public static let maximumIdleCPUPercent = 2.0

    /// `numerator / denominator` when both exist and the denominator is positive.
    public static func ratio(_ numerator: Double?, _ denominator: Double?) -> Double? {
        guard let numerator, let denominator, denominator > 0, numerator.isFinite, denominator.isFinite else { return nil }
        return numerator / denominator
    }

    /// The five checks, in the order the issue lists them.
    public static func evaluate(_ report: BenchReport) -> [BenchTargetCheck] {
        func check(
            _ requirement: String, _ value: Double?, unit: BenchTargetCheck.Unit = .ratio, _ test: (Double) -> Bool
        ) -> BenchTargetCheck {
            BenchTargetCheck(requirement: requirement, unit: unit, value: value, passed: value.map(test))
        }
        let rtt16 = ratio(report.roundTrip16.ampsoc?.medianMicroseconds, report.roundTrip16.raw.medianMicroseconds)
        let rtt496 = ratio(report.roundTrip496.ampsoc?.medianMicroseconds, report.roundTrip496.raw.medianMicroseconds)
        let versusSeqpacket = ratio(
            report.throughput496.ampsoc?.messagesPerSecond, report.throughput496.seqpacket.messagesPerSecond)
        let versusRaw = ratio(report.throughput496.ampsoc?.messagesPerSecond, report.throughput496.raw.messagesPerSecond)
        return [
            check("round trip 16 B <= 2x raw ping-pong", rtt16) { $0 <= maximumRoundTripRatio },
            check("round trip 496 B <= 2x raw ping-pong", rtt496) { $0 <= maximumRoundTripRatio },
            check("one-way 496 B >= 8x SOCK_SEQPACKET", versusSeqpacket) { $0 >= minimumSeqpacketThroughputRatio },
            check("one-way 496 B >= 50% of raw ring", versusRaw) { $0 >= minimumRawThroughputRatio },
            check("idle topology < 2% of one core", report.idleCPUPercent, unit: .percentOfCore) { $0 < maximumIdleCPUPercent },
        ]
    }
}

import AmpJSON
import Testing

@testable import AmpBench
@testable import AmpCLI

/// Targets, text and JSON of made-up reports (no processes, exact values).
extension BenchTests {
    static func latency(_ median: Double, _ p99: Double) -> LatencySummary {
        LatencySummary(medianMicroseconds: median, p99Microseconds: p99, minimumMicroseconds: median / 2, samples: 100)
    }

    /// `rate` messages a second of `size` bytes (one second's worth).
    static func throughput(_ rate: Int, _ size: Int) -> ThroughputSummary {
        ThroughputSummary(messages: rate, payloadSize: size, nanoseconds: 1_000_000_000)
    }

    /// A report with every column: targets 1, 3 and 5 pass, 2 and 4 fail.
    static let fullReport = BenchReport(
        roundTrip16: BenchComparison(ampsoc: latency(3, 5), raw: latency(2, 3), seqpacket: latency(20, 40)),
        roundTrip496: BenchComparison(ampsoc: latency(6, 9), raw: latency(2.5, 4), seqpacket: latency(21, 44)),
        throughput16: BenchComparison(ampsoc: throughput(2_000_000, 16), raw: throughput(5_000_000, 16), seqpacket: throughput(500_000, 16)),
        throughput496: BenchComparison(ampsoc: throughput(1_000_000, 496), raw: throughput(4_000_000, 496), seqpacket: throughput(100_000, 496)),
        idleCPUPercent: 0.4, usableCPUs: 2, elapsedSeconds: 12.34)

    /// The same baselines without the ampsoc column.
    static var baselineReport: BenchReport {
        var report = fullReport
        report.roundTrip16.ampsoc = nil
        report.roundTrip496.ampsoc = nil
        report.throughput16.ampsoc = nil
        report.throughput496.ampsoc = nil
        report.idleCPUPercent = nil
        return report
    }

    @Test func targetsWithEveryNumber() {
        let checks = BenchTargets.evaluate(Self.fullReport)
        #expect(checks.map(\.requirement) == [
            "round trip 16 B <= 2x raw ping-pong", "round trip 496 B <= 2x raw ping-pong",
            "one-way 496 B >= 8x SOCK_SEQPACKET", "one-way 496 B >= 50% of raw ring", "idle topology < 2% of one core",
        ])
        #expect(checks.map(\.value) == [1.5, 2.4, 10, 0.25, 0.4])
        #expect(checks.map(\.passed) == [true, false, true, false, true])
        #expect(checks.map(\.unit) == [.ratio, .ratio, .ratio, .ratio, .percentOfCore])
    }

    @Test func targetsWithoutTheAmpsocColumnAreNotJudged() {
        let checks = BenchTargets.evaluate(Self.baselineReport)
        #expect(checks.count == 5)
        #expect(checks.allSatisfy { $0.value == nil && $0.passed == nil })
        #expect(BenchTargets.ratio(nil, 2) == nil)
        #expect(BenchTargets.ratio(3, 0) == nil)
        #expect(BenchTargets.ratio(3, 2) == 1.5)
    }

    @Test func textWithEveryNumber() {
        let lines = BenchReportText.render(Self.fullReport).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines[0] == "ampsoc bench: 2 usable CPUs, baselines measured in this run (12.3 s)")
        #expect(lines.contains("  16 B     3.00 / 5.00        2.00 / 3.00        20.00 / 40.00      1.50x       0.15x       10.00x"))
        #expect(lines.contains("  496 B    1.00M  496.0       4.00M  1984.0      100.0k  49.6       0.25x       10.00x      40.00x"))
        #expect(lines.contains("  round trip 16 B <= 2x raw ping-pong   1.50x PASS"))
        #expect(lines.contains("  round trip 496 B <= 2x raw ping-pong  2.40x FAIL"))
        #expect(lines.contains("  one-way 496 B >= 8x SOCK_SEQPACKET    10.00x PASS"))
        #expect(lines.contains("  one-way 496 B >= 50% of raw ring      0.25x FAIL"))
        #expect(lines.contains("  idle topology < 2% of one core        0.40% PASS"))
        #expect(!lines.contains { $0.contains("n/a") })
        #expect(!lines.contains { $0.hasSuffix(" ") })
    }

    @Test func textWithoutTheAmpsocColumn() {
        let lines = BenchReportText.render(Self.baselineReport).split(separator: "\n").map(String.init)
        #expect(lines.contains("  16 B     n/a                2.00 / 3.00        20.00 / 40.00      n/a         n/a         10.00x"))
        #expect(lines.contains("  round trip 16 B <= 2x raw ping-pong   n/a"))
        #expect(lines.contains("  idle topology < 2% of one core        n/a"))
        #expect(!lines.contains { $0.contains("PASS") || $0.contains("FAIL") })
        #expect(lines.last == "The ampsoc column needs the full rpmsg/virtio transport, which this build does not measure yet.")
    }

    @Test func jsonOfMadeUpReports() {
        let full = BenchCommand.json(Self.fullReport).encoded()
        #expect(full == #"{"rtt16":{"ampsoc":3,"raw":2,"seqpacket":20},"rtt496":{"ampsoc":6,"raw":2.5,"seqpacket":21},"#
            + #""tput16":{"ampsoc":2000000,"raw":5000000,"seqpacket":500000},"#
            + #""tput496":{"ampsoc":1000000,"raw":4000000,"seqpacket":100000},"idleCpuPercent":0.4}"#)
        let baselines = BenchCommand.json(Self.baselineReport).encoded()
        #expect(baselines == #"{"rtt16":{"ampsoc":null,"raw":2,"seqpacket":20},"rtt496":{"ampsoc":null,"raw":2.5,"seqpacket":21},"#
            + #""tput16":{"ampsoc":null,"raw":5000000,"seqpacket":500000},"#
            + #""tput496":{"ampsoc":null,"raw":4000000,"seqpacket":100000},"idleCpuPercent":null}"#)
        var rounded = Self.baselineReport
        rounded.roundTrip16.raw.medianMicroseconds = 1.23456
        rounded.throughput16.raw.messagesPerSecond = 123.6
        let text = BenchCommand.json(rounded).encoded()
        #expect(text.contains(#""rtt16":{"ampsoc":null,"raw":1.235,"#))
        #expect(text.contains(#""tput16":{"ampsoc":null,"raw":124,"#))
    }
}

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

    /// A report with every column: targets 1, 3 and 5 pass, 2 and 4 fail (the smd column has no targets).
    static let fullReport = BenchReport(
        roundTrip16: BenchComparison(ampsoc: latency(3, 5), raw: latency(2, 3), seqpacket: latency(20, 40), smd: latency(4, 8)),
        roundTrip496: BenchComparison(ampsoc: latency(6, 9), raw: latency(2.5, 4), seqpacket: latency(21, 44), smd: latency(5, 10)),
        throughput16: BenchComparison(
            ampsoc: throughput(2_000_000, 16), raw: throughput(5_000_000, 16), seqpacket: throughput(500_000, 16),
            smd: throughput(1_000_000, 16)),
        throughput496: BenchComparison(
            ampsoc: throughput(1_000_000, 496), raw: throughput(4_000_000, 496), seqpacket: throughput(100_000, 496),
            smd: throughput(800_000, 496)),
        idleCPUPercent: 0.4, usableCPUs: 2, elapsedSeconds: 12.34)

    /// The same baselines without the ampsoc and smd columns.
    static var baselineReport: BenchReport {
        var report = withoutSmd(fullReport)
        report.roundTrip16.ampsoc = nil
        report.roundTrip496.ampsoc = nil
        report.throughput16.ampsoc = nil
        report.throughput496.ampsoc = nil
        report.idleCPUPercent = nil
        return report
    }

    /// `report` without the smd column.
    static func withoutSmd(_ report: BenchReport) -> BenchReport {
        var report = report
        report.roundTrip16.smd = nil
        report.roundTrip496.smd = nil
        report.throughput16.smd = nil
        report.throughput496.smd = nil
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

    @Test func targetsIgnoreTheSmdColumn() {
        #expect(BenchTargets.evaluate(Self.withoutSmd(Self.fullReport)) == BenchTargets.evaluate(Self.fullReport))
        var slowerSmd = Self.fullReport
        slowerSmd.roundTrip16.smd = Self.latency(400, 800)
        slowerSmd.throughput496.smd = Self.throughput(1, 496)
        #expect(BenchTargets.evaluate(slowerSmd) == BenchTargets.evaluate(Self.fullReport))
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
        #expect(lines.contains(
            "  payload  ampsoc             raw shm            seqpacket          smd                "
                + "ampsoc/raw  ampsoc/seqp seqp/raw    smd/raw     smd/seqp"))
        #expect(lines.contains(
            "  payload  ampsoc             raw shm            seqpacket          smd                "
                + "ampsoc/raw  ampsoc/seqp raw/seqp    smd/raw     smd/seqp"))
        #expect(lines.contains(
            "  16 B     3.00 / 5.00        2.00 / 3.00        20.00 / 40.00      4.00 / 8.00        "
                + "1.50x       0.15x       10.00x      2.00x       0.20x"))
        #expect(lines.contains(
            "  496 B    1.00M  496.0       4.00M  1984.0      100.0k  49.6       800.0k  396.8      "
                + "0.25x       10.00x      40.00x      0.20x       8.00x"))
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
        #expect(lines.contains(
            "  16 B     n/a                2.00 / 3.00        20.00 / 40.00      n/a                "
                + "n/a         n/a         10.00x      n/a         n/a"))
        #expect(lines.contains("  round trip 16 B <= 2x raw ping-pong   n/a"))
        #expect(lines.contains("  idle topology < 2% of one core        n/a"))
        #expect(!lines.contains { $0.contains("PASS") || $0.contains("FAIL") })
        #expect(lines.last == "The ampsoc column needs the full rpmsg/virtio transport, which this build does not measure yet.")
    }

    @Test func jsonOfMadeUpReports() {
        let full = BenchReportJSON.json(Self.fullReport).encoded()
        #expect(full == #"{"rtt16":{"ampsoc":3,"raw":2,"seqpacket":20,"smd":4},"rtt496":{"ampsoc":6,"raw":2.5,"seqpacket":21,"smd":5},"#
            + #""tput16":{"ampsoc":2000000,"raw":5000000,"seqpacket":500000,"smd":1000000},"#
            + #""tput496":{"ampsoc":1000000,"raw":4000000,"seqpacket":100000,"smd":800000},"idleCpuPercent":0.4}"#)
        let baselines = BenchReportJSON.json(Self.baselineReport).encoded()
        #expect(baselines == #"{"rtt16":{"ampsoc":null,"raw":2,"seqpacket":20,"smd":null},"#
            + #""rtt496":{"ampsoc":null,"raw":2.5,"seqpacket":21,"smd":null},"#
            + #""tput16":{"ampsoc":null,"raw":5000000,"seqpacket":500000,"smd":null},"#
            + #""tput496":{"ampsoc":null,"raw":4000000,"seqpacket":100000,"smd":null},"idleCpuPercent":null}"#)
        var rounded = Self.fullReport
        rounded.roundTrip16.raw.medianMicroseconds = 1.23456
        rounded.roundTrip16.smd?.medianMicroseconds = 7.65432
        rounded.throughput16.raw.messagesPerSecond = 123.6
        rounded.throughput16.smd?.messagesPerSecond = 99.4
        let text = BenchReportJSON.json(rounded).encoded()
        #expect(text.contains(#""rtt16":{"ampsoc":3,"raw":1.235,"seqpacket":20,"smd":7.654}"#))
        #expect(text.contains(#""tput16":{"ampsoc":2000000,"raw":124,"seqpacket":500000,"smd":99}"#))
    }
}

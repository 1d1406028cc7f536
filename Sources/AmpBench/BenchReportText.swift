/// The human-readable form of a ``BenchReport`` (what `ampsoc bench` prints without `--json`): a round-trip
/// table, a throughput table (columns ampsoc, raw shm, seqpacket, smd, then the ratios), and the targets (about
/// the virtio "ampsoc" column) with PASS/FAIL where both numbers exist. Values not measured (the full-stack
/// columns when no transport was given) print as "n/a", and so does every ratio that needs them.
public enum BenchReportText {
    /// Width of the label column and of each value column.
    static let labelWidth = 9
    static let valueWidth = 19
    static let ratioWidth = 12

    /// The whole report, lines joined with "\n" (no trailing newline).
    public static func render(_ report: BenchReport) -> String {
        var lines = [
            "ampsoc bench: \(report.usableCPUs) usable CPU\(report.usableCPUs == 1 ? "" : "s"), "
                + "baselines measured in this run (\(BenchFormat.fixed(report.elapsedSeconds, digits: 1)) s)",
            "",
            "Round trip, median / p99 in microseconds (lower is better)",
            header(["ampsoc/raw", "ampsoc/seqp", "seqp/raw", "smd/raw", "smd/seqp"]),
        ]
        for (size, row) in [(16, report.roundTrip16), (496, report.roundTrip496)] {
            let median = { (summary: LatencySummary?) in summary?.medianMicroseconds }
            lines.append(line(
                "\(size) B", values: [row.ampsoc, row.raw, row.seqpacket, row.smd].map { $0.map(latencyText) },
                ratios: [
                    BenchTargets.ratio(median(row.ampsoc), median(row.raw)),
                    BenchTargets.ratio(median(row.ampsoc), median(row.seqpacket)),
                    BenchTargets.ratio(median(row.seqpacket), median(row.raw)),
                    BenchTargets.ratio(median(row.smd), median(row.raw)),
                    BenchTargets.ratio(median(row.smd), median(row.seqpacket)),
                ]))
        }
        lines += [
            "", "One way, messages/s and MB/s (higher is better)",
            header(["ampsoc/raw", "ampsoc/seqp", "raw/seqp", "smd/raw", "smd/seqp"]),
        ]
        for (size, row) in [(16, report.throughput16), (496, report.throughput496)] {
            let rate = { (summary: ThroughputSummary?) in summary?.messagesPerSecond }
            lines.append(line(
                "\(size) B", values: [row.ampsoc, row.raw, row.seqpacket, row.smd].map { $0.map(throughputText) },
                ratios: [
                    BenchTargets.ratio(rate(row.ampsoc), rate(row.raw)),
                    BenchTargets.ratio(rate(row.ampsoc), rate(row.seqpacket)),
                    BenchTargets.ratio(rate(row.raw), rate(row.seqpacket)),
                    BenchTargets.ratio(rate(row.smd), rate(row.raw)),
                    BenchTargets.ratio(rate(row.smd), rate(row.seqpacket)),
                ]))
        }
        lines += ["", "Targets"]
        let checks = BenchTargets.evaluate(report)
        let width = (checks.map(\.requirement.count).max() ?? 0) + 2
        for check in checks {
            lines.append("  " + pad(check.requirement, width) + targetText(check))
        }
        if report.roundTrip16.ampsoc == nil {
            lines += ["", "The ampsoc column needs the full rpmsg/virtio transport, which this build does not measure yet."]
        }
        return lines.map(trimmingTrailingSpaces).joined(separator: "\n")
    }

    private static func trimmingTrailingSpaces(_ line: String) -> String {
        var line = Substring(line)
        while line.last == " " { line = line.dropLast() }
        return String(line)
    }

    /// "1.23 / 4.56" (median / p99, microseconds).
    static func latencyText(_ summary: LatencySummary) -> String {
        "\(BenchFormat.fixed(summary.medianMicroseconds, digits: 2)) / \(BenchFormat.fixed(summary.p99Microseconds, digits: 2))"
    }

    /// "1.23M 19.7" (messages/s with a k/M suffix, MB/s).
    static func throughputText(_ summary: ThroughputSummary) -> String {
        "\(BenchFormat.rate(summary.messagesPerSecond))  \(BenchFormat.fixed(summary.megabytesPerSecond, digits: 1))"
    }

    /// "1.53x PASS", "0.40% FAIL", or "n/a".
    static func targetText(_ check: BenchTargetCheck) -> String {
        guard let value = check.value, let passed = check.passed else { return "n/a" }
        let number = BenchFormat.fixed(value, digits: 2) + (check.unit == .percentOfCore ? "%" : "x")
        return number + (passed ? " PASS" : " FAIL")
    }

    private static func header(_ ratioNames: [String]) -> String {
        "  " + pad("payload", labelWidth) + ["ampsoc", "raw shm", "seqpacket", "smd"].map { pad($0, valueWidth) }.joined()
            + ratioNames.map { pad($0, ratioWidth) }.joined()
    }

    private static func line(_ label: String, values: [String?], ratios: [Double?]) -> String {
        let valueText = values.map { pad($0 ?? "n/a", valueWidth) }.joined()
        let ratioText = ratios.map { pad($0.map { BenchFormat.fixed($0, digits: 2) + "x" } ?? "n/a", ratioWidth) }.joined()
        return "  " + pad(label, labelWidth) + valueText + ratioText
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }
}

/// Number formatting without Foundation (the peer links this module and should start fast).
public enum BenchFormat {
    /// `value` rounded to `digits` decimals (0...6), e.g. fixed(3.14159, digits: 2) == "3.14"; "n/a" when
    /// not finite.
    public static func fixed(_ value: Double, digits: Int) -> String {
        guard value.isFinite else { return "n/a" }
        let places = min(max(digits, 0), 6)
        var scale: Double = 1
        for _ in 0..<places { scale *= 10 }
        let scaled = (abs(value) * scale).rounded()
        guard scaled < 9e18 else { return "\(value)" }
        let integer = UInt64(scaled)
        let divisor = UInt64(scale)
        let sign = value < 0 && integer != 0 ? "-" : ""
        let whole = String(integer / divisor)
        guard places > 0 else { return sign + whole }
        let fraction = String(integer % divisor)
        return sign + whole + "." + String(repeating: "0", count: places - fraction.count) + fraction
    }

    /// A rate with a k (10^3) or M (10^6) suffix: 1_234_567 -> "1.23M", 45_678 -> "45.7k", 950 -> "950".
    public static func rate(_ value: Double) -> String {
        if value >= 1e6 { return fixed(value / 1e6, digits: 2) + "M" }
        if value >= 1e3 { return fixed(value / 1e3, digits: 1) + "k" }
        return fixed(value, digits: 0)
    }
}

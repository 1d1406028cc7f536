import AmpBench
import AmpJSON

/// `ampsoc bench [--json] [--quick]`: host<->remote latency and throughput over the full stack
/// (``FullStackBenchTransport``: an in-process host and a remote running ampsoc-fw-bench) beside baselines
/// measured in the same run (raw shared memory with the same doorbell, a SOCK_SEQPACKET socket pair), with the
/// ratios the targets are stated in, and the idle topology's CPU use. What is measured and how is in
/// docs/benchmark.md.
enum BenchCommand {
    static var spec: CommandSpec {
        CommandSpec(
            name: "bench",
            summary: "Measure round-trip latency and one-way throughput against same-run baselines.",
            discussion: """
                Columns: "ampsoc" (the full stack: rpmsg header, vring, doorbell, with a remote core running \
                ampsoc-fw-bench, next to this executable or at $AMPSOC_BENCH_FIRMWARE), "raw" (shared memory \
                with the same doorbell: ping-pong slots for round trips, an SPSC ring of 512-byte slots for \
                throughput), and "seqpacket" (an AF_UNIX SOCK_SEQPACKET socket pair); the baselines talk to \
                ampsoc-bench-peer, next to this executable. Round trips: median and p99 of 20,000 timed \
                iterations at 16 and 496 bytes. Throughput: messages per second and MB/s over about a second. \
                Idle: CPU use of the ampsoc topology over 2 s without traffic. Targets: round trip <= 2x raw; \
                one-way 496 B >= 8x seqpacket and >= 50% of raw; idle topology below 2% of one core. Missed \
                targets are reported, not an error. Takes about 10 s on a 2-CPU machine (release build); every \
                measurement is time-capped, so a run stays well under 60 s.
                """,
            options: [
                .flag("json", help: "Print one JSON object (the format is in docs/benchmark.md) instead of the tables."),
                .flag("quick", help: "A tenth of the iterations (for tests); noisier numbers."),
            ],
            run: run)
    }

    static func run(_ invocation: Invocation) throws(CommandError) -> ExitCode {
        let json = invocation.arguments.has("json")
        let configuration: BenchConfiguration = invocation.arguments.has("quick") ? .quick : .standard
        let report: BenchReport
        do {
            let runner = BenchRunner(configuration: configuration) { () throws(BenchError) -> any BenchTransport in
                try FullStackBenchTransport.start()
            }
            report = try runner.run { step in
                if !json { invocation.console.err("ampsoc bench: \(step)...") }
            }
        } catch {
            throw CommandError("bench: \(error.description)")
        }
        if json {
            invocation.console.out(Self.json(report).encoded(pretty: true))
        } else {
            invocation.console.out(BenchReportText.render(report))
        }
        return .success
    }

    /// `{"rtt16", "rtt496", "tput16", "tput496": {"ampsoc", "raw", "seqpacket"}, "idleCpuPercent"}`:
    /// round trips as median microseconds (to the nanosecond), throughput as whole messages per second, idle
    /// CPU as percent of one core (two decimals); null where not measured.
    static func json(_ report: BenchReport) -> JSONValue {
        func latency(_ row: BenchComparison<LatencySummary>) -> JSONValue {
            columns(row.ampsoc?.medianMicroseconds, row.raw.medianMicroseconds, row.seqpacket.medianMicroseconds, decimals: 3)
        }
        func throughput(_ row: BenchComparison<ThroughputSummary>) -> JSONValue {
            columns(row.ampsoc?.messagesPerSecond, row.raw.messagesPerSecond, row.seqpacket.messagesPerSecond, decimals: 0)
        }
        var object = JSONObject()
        object["rtt16"] = latency(report.roundTrip16)
        object["rtt496"] = latency(report.roundTrip496)
        object["tput16"] = throughput(report.throughput16)
        object["tput496"] = throughput(report.throughput496)
        object["idleCpuPercent"] = number(report.idleCPUPercent, decimals: 2)
        return .object(object)
    }

    private static func columns(_ ampsoc: Double?, _ raw: Double, _ seqpacket: Double, decimals: Int) -> JSONValue {
        var object = JSONObject()
        object["ampsoc"] = number(ampsoc, decimals: decimals)
        object["raw"] = number(raw, decimals: decimals)
        object["seqpacket"] = number(seqpacket, decimals: decimals)
        return .object(object)
    }

    /// `value` rounded to `decimals` places, or null when absent or not finite (JSON cannot carry NaN).
    private static func number(_ value: Double?, decimals: Int) -> JSONValue {
        guard let value, value.isFinite else { return .null }
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        return .double((value * scale).rounded() / scale)
    }
}

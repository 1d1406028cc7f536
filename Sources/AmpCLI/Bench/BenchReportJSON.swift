// The JSON form of `ampsoc bench --json` (docs/benchmark.md, "Output"): one object,
//   {"rtt16", "rtt496", "tput16", "tput496": {"ampsoc", "raw", "seqpacket", "smd"}, "idleCpuPercent"}
// in this key order. Round trips are median microseconds rounded to the nanosecond (3 decimals), throughput is
// messages per second rounded to a whole number, idle CPU is percent of one core (2 decimals, the virtio
// topology); null where not measured or not finite.

import AmpBench
import AmpJSON

/// Encodes a ``BenchReport`` as the `--json` object of `ampsoc bench` (format above).
enum BenchReportJSON {
    /// The whole report as one JSON object.
    static func json(_ report: BenchReport) -> JSONValue {
        func latency(_ row: BenchComparison<LatencySummary>) -> JSONValue {
            columns(row.ampsoc?.medianMicroseconds, row.raw.medianMicroseconds, row.seqpacket.medianMicroseconds,
                    row.smd?.medianMicroseconds, decimals: 3)
        }
        func throughput(_ row: BenchComparison<ThroughputSummary>) -> JSONValue {
            columns(row.ampsoc?.messagesPerSecond, row.raw.messagesPerSecond, row.seqpacket.messagesPerSecond,
                    row.smd?.messagesPerSecond, decimals: 0)
        }
        var object = JSONObject()
        object["rtt16"] = latency(report.roundTrip16)
        object["rtt496"] = latency(report.roundTrip496)
        object["tput16"] = throughput(report.throughput16)
        object["tput496"] = throughput(report.throughput496)
        object["idleCpuPercent"] = number(report.idleCPUPercent, decimals: 2)
        return .object(object)
    }

    private static func columns(_ ampsoc: Double?, _ raw: Double, _ seqpacket: Double, _ smd: Double?, decimals: Int) -> JSONValue {
        var object = JSONObject()
        object["ampsoc"] = number(ampsoc, decimals: decimals)
        object["raw"] = number(raw, decimals: decimals)
        object["seqpacket"] = number(seqpacket, decimals: decimals)
        object["smd"] = number(smd, decimals: decimals)
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

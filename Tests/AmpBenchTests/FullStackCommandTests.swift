import AmpJSON
import AmpSystem
import Glibc
import Testing

/// `ampsoc bench` with the full-stack columns, run as a separate process as a user runs it: every "ampsoc"
/// and "smd" value is a finite positive number, the idle figure is measured, and the remotes it started are
/// gone.
extension BenchTests {
    @Test func jsonHasNumbersForTheFullStack() throws {
        let result = try BenchTestSupport.run(try BenchTestSupport.executable("ampsoc"), ["bench", "--json", "--quick"])
        #expect(result.status == .exited(0))
        #expect(result.standardError.isEmpty)
        guard case .object(let object) = try JSONValue.parse(result.standardOutput) else {
            Issue.record("not a JSON object: \(result.standardOutput)")
            return
        }
        #expect(object.keys == ["rtt16", "rtt496", "tput16", "tput496", "idleCpuPercent"])
        for key in ["rtt16", "rtt496", "tput16", "tput496"] {
            guard case .object(let columns)? = object[key] else {
                Issue.record("\(key) is not an object")
                continue
            }
            #expect(columns.keys == ["ampsoc", "raw", "seqpacket", "smd"], "\(key)")
            for column in ["ampsoc", "raw", "seqpacket", "smd"] {
                let number = try #require(Self.number(columns[column]), "\(key).\(column) is not a number")
                #expect(number.isFinite && number > 0, "\(key).\(column) = \(number)")
            }
        }
        let idle = try #require(Self.number(object["idleCpuPercent"]), "idleCpuPercent is not a number")
        #expect(idle.isFinite && idle >= 0)
        #expect(try BenchTestSupport.segments(createdBy: result.pid).isEmpty)
        #expect(BenchTestSupport.benchPeers(startedBy: result.pid).isEmpty)
        #expect(Self.benchFirmware(hostedBy: result.pid).isEmpty)
    }

    @Test func textShowsTheFullStackColumnAndItsTargets() throws {
        let result = try BenchTestSupport.run(try BenchTestSupport.executable("ampsoc"), ["bench", "--quick"])
        #expect(result.status == .exited(0))
        #expect(result.standardError == "ampsoc bench: starting the columns...\n"
            + "ampsoc bench: round trips of 16 bytes, 2 round(s)...\nampsoc bench: round trips of 496 bytes, 2 round(s)...\n"
            + "ampsoc bench: one-way streams of 16 bytes, 2 round(s)...\nampsoc bench: one-way streams of 496 bytes, 2 round(s)...\n")
        let lines = result.standardOutput.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("ampsoc bench: ") == true)
        #expect(lines.contains("Round trip, median / p99 in microseconds (lower is better)"))
        #expect(lines.contains("One way, messages/s and MB/s (higher is better)"))
        #expect(lines.contains { $0.hasPrefix("  one-way 496 B >= 8x SOCK_SEQPACKET") })
        let rows = lines.filter { $0.hasPrefix("  16 B ") || $0.hasPrefix("  496 B ") }
        #expect(rows.count == 4)
        // Every row starts with a measured ampsoc value ("12.34 / 56.78" or "123.4k  5.6") and has a measured
        // smd value (the fourth value column); no "n/a" is left anywhere (all columns and ratios exist).
        for row in rows {
            let ampsoc = row.dropFirst(2 + 9).prefix { $0 != " " }
            #expect(Double(ampsoc.filter { $0 != "k" && $0 != "M" }) != nil, "\(row)")
            let smd = row.dropFirst(2 + 9 + 3 * 19).prefix { $0 != " " }
            #expect(Double(smd.filter { $0 != "k" && $0 != "M" }) != nil, "\(row)")
        }
        #expect(lines.filter { $0.hasPrefix("  payload ") && $0.hasSuffix("smd/raw     smd/seqp") }.count == 2)
        #expect(!result.standardOutput.contains("n/a"))
        #expect(!result.standardOutput.contains("does not measure yet"))
        let targets = lines.drop { $0 != "Targets" }.dropFirst()
        #expect(targets.count == 5)
        for target in targets {
            #expect(target.hasSuffix(" PASS") || target.hasSuffix(" FAIL"), "\(target)")
        }
        #expect(try BenchTestSupport.segments(createdBy: result.pid).isEmpty)
        #expect(BenchTestSupport.benchPeers(startedBy: result.pid).isEmpty)
        #expect(Self.benchFirmware(hostedBy: result.pid).isEmpty)
    }

    @Test func missingBenchFirmwareFailsWithExitOne() throws {
        let missing = "/nonexistent/ampsoc-fw-bench"
        let result = try BenchTestSupport.run(
            try BenchTestSupport.executable("ampsoc"), ["bench", "--json", "--quick"],
            environment: ["AMPSOC_BENCH_FIRMWARE": missing])
        #expect(result.status == .exited(1))
        #expect(result.standardOutput.isEmpty)
        #expect(result.standardError == "error: bench: ampsoc (rpmsg over virtio) peer: firmware ampsoc-fw-bench not found at "
            + "\(missing) (build it with 'swift build', or set AMPSOC_BENCH_FIRMWARE)\n")
        #expect(try BenchTestSupport.segments(createdBy: result.pid).isEmpty)
    }

    /// Pids of running ampsoc-fw-bench processes whose host (AMPSOC_HOST_PID in their environment) is `host`.
    static func benchFirmware(hostedBy host: pid_t) -> [pid_t] {
        guard let directory = opendir("/proc") else { return [] }
        defer { closedir(directory) }
        var found: [pid_t] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard let pid = pid_t(name), let words = BenchTestSupport.commandLine(of: pid),
                words.first?.hasSuffix("ampsoc-fw-bench") == true,
                let environment = try? FileIO.readFile("/proc/\(pid)/environ", limit: 1 << 20)
            else { continue }
            let variables = environment.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            if variables.contains("AMPSOC_HOST_PID=\(host)") { found.append(pid) }
        }
        return found
    }
}

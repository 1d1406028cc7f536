import AmpJSON
import AmpSystem
import Testing

/// `ampsoc bench` run as a separate process, as a user runs it.
extension BenchTests {
    @Test func jsonOutputHasExactlyTheDocumentedKeys() throws {
        let result = try BenchTestSupport.run(try BenchTestSupport.executable("ampsoc"), ["bench", "--json", "--quick"])
        #expect(result.status == .exited(0))
        #expect(result.standardError.isEmpty)
        let value = try JSONValue.parse(result.standardOutput)
        guard case .object(let object) = value else {
            Issue.record("not a JSON object: \(result.standardOutput)")
            return
        }
        #expect(object.keys == ["rtt16", "rtt496", "tput16", "tput496", "idleCpuPercent"])
        for key in ["rtt16", "rtt496", "tput16", "tput496"] {
            guard case .object(let columns)? = object[key] else {
                Issue.record("\(key) is not an object")
                continue
            }
            #expect(columns.keys == ["ampsoc", "raw", "seqpacket"], "\(key)")
            for column in ["ampsoc", "raw", "seqpacket"] {
                let number = try #require(Self.number(columns[column]), "\(key).\(column) is not a number")
                #expect(number.isFinite && number > 0, "\(key).\(column) = \(number)")
            }
        }
        switch object["idleCpuPercent"] {
        case .null?: break
        case let other?:
            let number = try #require(Self.number(other), "idleCpuPercent is neither null nor a number")
            #expect(number.isFinite && number >= 0)
        case nil: Issue.record("idleCpuPercent missing")
        }
        // Nothing left behind: no segment created by that process, no peer it started.
        #expect(try BenchTestSupport.segments(createdBy: result.pid).isEmpty)
        #expect(BenchTestSupport.benchPeers(startedBy: result.pid).isEmpty)
    }

    @Test func textOutputShowsTheTables() throws {
        let result = try BenchTestSupport.run(try BenchTestSupport.executable("ampsoc"), ["bench", "--quick"])
        #expect(result.status == .exited(0))
        #expect(result.standardError.hasPrefix("ampsoc bench: measuring raw shared memory...\nampsoc bench: measuring SOCK_SEQPACKET...\n"))
        let lines = result.standardOutput.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("ampsoc bench: ") == true)
        #expect(lines.contains("Round trip, median / p99 in microseconds (lower is better)"))
        #expect(lines.contains("One way, messages/s and MB/s (higher is better)"))
        #expect(!lines.contains { $0.hasPrefix("  16 B     n/a ") })
        #expect(lines.contains { $0.hasPrefix("  one-way 496 B >= 8x SOCK_SEQPACKET") })
        #expect(try BenchTestSupport.segments(createdBy: result.pid).isEmpty)
        #expect(BenchTestSupport.benchPeers(startedBy: result.pid).isEmpty)
    }

    @Test func missingPeerExecutableFailsWithExitOne() throws {
        let missing = "/nonexistent/ampsoc-bench-peer"
        let result = try BenchTestSupport.run(
            try BenchTestSupport.executable("ampsoc"), ["bench", "--json", "--quick"],
            environment: ["AMPSOC_BENCH_PEER": missing])
        #expect(result.status == .exited(1))
        #expect(result.standardOutput.isEmpty)
        #expect(result.standardError == "error: bench: benchmark peer executable not found at \(missing) "
            + "(build it with 'swift build', or set AMPSOC_BENCH_PEER)\n")
    }

    static func number(_ value: JSONValue?) -> Double? {
        switch value {
        case .int(let integer)?: Double(integer)
        case .uint(let integer)?: Double(integer)
        case .double(let double)?: double
        default: nil
        }
    }
}

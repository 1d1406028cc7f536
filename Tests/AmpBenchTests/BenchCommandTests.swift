import AmpJSON
import AmpSystem
import Testing

/// `ampsoc bench` run as a separate process, as a user runs it: failure paths (the successful runs are in
/// FullStackCommandTests).
extension BenchTests {
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

import AmpJSON
import AmpSystem
import Glibc
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

    /// A stop signal in the middle of the measurements: the run ends at the next step with one error line and
    /// exit 1, and shuts every column down on the way (the remotes stopped and reaped, the baselines' peers gone,
    /// no segment left in /dev/shm); killed instead, it would leave its remotes' segments behind.
    @Test(arguments: [SIGTERM, SIGINT])
    func stopSignalShutsEveryColumnDownAndFailsWithExitOne(signal: Int32) throws {
        let result = try BenchTestSupport.run(
            try BenchTestSupport.executable("ampsoc"), ["bench", "--quick"],
            signal: .init(signal: signal, marker: "round trips of 16 bytes"))
        #expect(result.status == .exited(1))
        #expect(result.standardOutput.isEmpty)
        let name = signal == SIGTERM ? "SIGTERM" : "SIGINT"
        #expect(result.standardError.hasSuffix(
            "...\nerror: bench: interrupted by signal \(signal) (\(name)); every column was shut down\n"), "\(result.standardError)")
        #expect(try BenchTestSupport.segments(createdBy: result.pid).isEmpty)
        #expect(BenchTestSupport.benchPeers(startedBy: result.pid).isEmpty)
        #expect(Self.benchFirmware(hostedBy: result.pid).isEmpty)
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

import AmpBench
import Glibc
import Testing

/// The runner's rounds, with transports that only record what is asked of them (no peer processes).
extension BenchTests {
    /// A column that answers at once and writes down every call, in one log shared by all columns.
    final class RecordingTransport: BenchTransport {
        let name: String
        let log: CallLog
        var shutDowns = 0
        var failOnStream = false
        init(_ name: String, log: CallLog) {
            self.name = name
            self.log = log
        }
        var maximumPayloadSize: Int { 496 }
        func roundTrip(size: Int) throws(BenchError) { log.calls.append("\(name) rtt\(size)") }
        func stream(size: Int, count: Int) throws(BenchError) {
            if failOnStream { throw .peerFailed(transport: name, detail: "stream refused") }
            log.calls.append("\(name) stream\(size)x\(count)")
        }
        var idleProcessIDs: [pid_t] { [] }
        func shutDown() throws(BenchError) { shutDowns += 1 }
    }

    final class CallLog {
        var calls: [String] = []
    }

    static let roundsConfiguration = BenchConfiguration(
        roundTripWarmup: 6, roundTripIterations: 30, roundTripTimeLimit: .seconds(30), streamBatch: 10,
        throughputDuration: .nanoseconds(1), idleWindow: .milliseconds(1), rounds: 3)

    @Test func perRoundSharesDivideTheWork() {
        let share = Self.roundsConfiguration.perRound
        #expect(share.roundTripWarmup == 6 && share.roundTripIterations == 10 && share.rounds == 1)
        #expect(share.roundTripTimeLimit == .seconds(10))
        let tiny = BenchConfiguration(
            roundTripWarmup: 1, roundTripIterations: 2, roundTripTimeLimit: .seconds(1), streamBatch: 1,
            throughputDuration: .seconds(1), idleWindow: .seconds(1), rounds: 4).perRound
        #expect(tiny.roundTripWarmup == 1 && tiny.roundTripIterations == 1 && tiny.throughputDuration == .milliseconds(250))
    }

    @Test func everyColumnIsMeasuredInEveryRoundStartingWithAnotherOneEachTime() throws {
        let log = CallLog()
        let columns = ["raw", "seqpacket", "ampsoc", "smd"].map { RecordingTransport($0, log: log) }
        var runner = BenchRunner(
            configuration: Self.roundsConfiguration,
            fullStack: { () throws(BenchError) -> any BenchTransport in columns[2] },
            smd: { () throws(BenchError) -> any BenchTransport in columns[3] })
        runner.raw = { () throws(BenchError) -> any BenchTransport in columns[0] }
        runner.seqpacket = { () throws(BenchError) -> any BenchTransport in columns[1] }
        var steps: [String] = []
        let report = try runner.run { steps.append($0) }
        #expect(steps == [
            "starting the columns", "round trips of 16 bytes, 3 round(s)", "round trips of 496 bytes, 3 round(s)",
            "one-way streams of 16 bytes, 3 round(s)", "one-way streams of 496 bytes, 3 round(s)",
        ])
        // Round trips of 16 bytes: per round, each column gets 6 warm-up and 10 timed round trips, and round r
        // starts with column r.
        let firstColumns = stride(from: 0, to: 3 * 4 * 16, by: 16).map { log.calls[$0].split(separator: " ")[0] }
        #expect(firstColumns == ["raw", "seqpacket", "ampsoc", "smd", "seqpacket", "ampsoc", "smd", "raw", "ampsoc", "smd", "raw", "seqpacket"])
        // The samples of the three rounds are summarised together.
        for comparison in [report.roundTrip16, report.roundTrip496] {
            #expect([comparison.raw, comparison.seqpacket, comparison.ampsoc, comparison.smd].map { $0?.samples } == [30, 30, 30, 30])
        }
        // Each round streams an untimed batch and at least one timed one; the timed messages add up.
        let streams496 = log.calls.filter { $0 == "raw stream496x10" }.count
        #expect(streams496 >= 6)
        #expect(report.throughput496.raw.messages == (streams496 - 3) * 10)
        #expect(columns.allSatisfy { $0.shutDowns == 1 })
        #expect(report.idleCPUPercent == nil)  // the recording transport names no processes
    }

    @Test func aColumnThatFailsShutsEveryStartedColumnDown() throws {
        let log = CallLog()
        let columns = ["raw", "seqpacket", "ampsoc"].map { RecordingTransport($0, log: log) }
        columns[2].failOnStream = true
        var runner = BenchRunner(
            configuration: Self.roundsConfiguration,
            fullStack: { () throws(BenchError) -> any BenchTransport in columns[2] })
        runner.raw = { () throws(BenchError) -> any BenchTransport in columns[0] }
        runner.seqpacket = { () throws(BenchError) -> any BenchTransport in columns[1] }
        #expect(throws: BenchError.self) { try runner.run() }
        #expect(columns.allSatisfy { $0.shutDowns == 1 })
    }

    @Test func aStopRequestEndsTheRunAtTheNextStepAndShutsEveryStartedColumnDown() throws {
        let log = CallLog()
        let columns = ["raw", "seqpacket", "ampsoc"].map { RecordingTransport($0, log: log) }
        var runner = BenchRunner(
            configuration: Self.roundsConfiguration,
            fullStack: { () throws(BenchError) -> any BenchTransport in columns[2] })
        runner.raw = { () throws(BenchError) -> any BenchTransport in columns[0] }
        runner.seqpacket = { () throws(BenchError) -> any BenchTransport in columns[1] }
        // Asked before each of the three columns starts, then before each column's share of a round: the sixth
        // question comes before the full stack's first round trips.
        var questions = 0
        runner.stopRequest = {
            questions += 1
            return questions == 6 ? SIGTERM : nil
        }
        #expect(throws: BenchError.interrupted(signal: SIGTERM)) { try runner.run() }
        #expect(questions == 6)
        #expect(log.calls == Array(repeating: "raw rtt16", count: 16) + Array(repeating: "seqpacket rtt16", count: 16))
        #expect(columns.allSatisfy { $0.shutDowns == 1 })
        #expect(BenchError.interrupted(signal: SIGTERM).description
            == "interrupted by signal 15 (SIGTERM); every column was shut down")
    }
}

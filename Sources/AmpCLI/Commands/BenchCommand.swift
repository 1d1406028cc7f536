import AmpBench
import AmpJSON
import AmpSystem
import Glibc

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
                ampsoc-fw-bench, next to this executable or at $AMPSOC_BENCH_FIRMWARE), "smd" (the same \
                firmware with its remote on an SMD edge instead of virtio), "raw" (shared memory \
                with the same doorbell: ping-pong slots for round trips, an SPSC ring of 512-byte slots for \
                throughput), and "seqpacket" (an AF_UNIX SOCK_SEQPACKET socket pair); the baselines talk to \
                ampsoc-bench-peer, next to this executable. Round trips: median and p99 of 20,000 timed \
                iterations at 16 and 496 bytes. Throughput: messages per second and MB/s over about a second. \
                Idle: CPU use of the ampsoc topology over 2 s without traffic. Targets: round trip <= 2x raw; \
                one-way 496 B >= 8x seqpacket and >= 50% of raw; idle topology below 2% of one core. Missed \
                targets are reported, not an error. Takes about 11 s on a 2-CPU machine (release build); every \
                measurement is time-capped, so a run stays well under 60 s. SIGINT, SIGTERM or SIGHUP stop \
                it at the next step (within about a second): every column is shut down (remotes stopped, \
                peers gone, shared memory unlinked) and it exits 1.
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
        // The stop signals are blocked before any thread or child exists (threads inherit the mask; children get
        // it reset) and read from a signalfd between steps, so a Ctrl-C shuts the columns down instead of
        // killing this process with its remotes' segments still in /dev/shm.
        let signals: SignalFD
        do {
            signals = try SignalFD(signals: [SIGINT, SIGTERM, SIGHUP])
        } catch {
            throw CommandError("bench: \(error.description)")
        }
        let report: BenchReport
        do {
            var runner = BenchRunner(
                configuration: configuration,
                fullStack: { () throws(BenchError) -> any BenchTransport in try FullStackBenchTransport.start() },
                smd: { () throws(BenchError) -> any BenchTransport in try FullStackBenchTransport.start(transport: .smd) })
            runner.stopRequest = { (try? signals.readPending())?.first }
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

    /// The `--json` object (``BenchReportJSON``): `{"rtt16", "rtt496", "tput16", "tput496": {"ampsoc", "raw",
    /// "seqpacket", "smd"}, "idleCpuPercent"}`.
    static func json(_ report: BenchReport) -> JSONValue {
        BenchReportJSON.json(report)
    }
}

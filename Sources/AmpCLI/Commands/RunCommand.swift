import AmpProfiles
import AmpRemoteproc
import AmpSystem
import Glibc

/// `ampsoc run [PROFILE]`: boot an emulated SoC and keep it running until a signal or `--duration`.
enum RunCommand {
    static let defaultProfile = "soc-profiles/omap4.json"

    static var spec: CommandSpec {
        CommandSpec(
            name: "run",
            summary: "Boot the remote processors of a SoC profile and run until SIGINT/SIGTERM or --duration.",
            discussion: """
                Each remote processor is loaded like Linux's remoteproc loads firmware (resource table, carveouts, \
                vrings, trace buffers) into its own shared-memory segment and started as its own process. Crashes \
                (process exit, fatal error or MMU fault reported by the firmware, watchdog) are detected and \
                recovered unless the profile disables recovery. On exit every firmware process is stopped and every \
                shared-memory segment removed; segments left by a host that was killed are removed at the next start.
                A remote processor that cannot boot (missing or malformed firmware, resources that do not fit its \
                memory map) is reported on stderr and the others keep running; the exit status is then 1.
                """,
            positionals: [PositionalSpec("PROFILE", help: "SoC profile (JSON). Default: \(defaultProfile).", optional: true)],
            options: [
                .value("duration", "SECONDS", help: "Shut down cleanly after this many seconds."),
                .value("events", "FORMAT", help: "Event output: 'text' (default, readable log lines) or 'json' (one object a line)."),
                .value("name", "NAME", help: "Instance name (default: the profile's SoC name)."),
                .value("coredump-dir", "DIR", help: "Where coredumps are written (default: $TMPDIR/ampsoc-coredumps or /tmp/ampsoc-coredumps)."),
            ],
            run: run)
    }

    static func run(_ invocation: Invocation) throws(CommandError) -> ExitCode {
        let arguments = invocation.arguments
        let profilePath = arguments.positional("PROFILE") ?? defaultProfile
        let duration = try arguments.seconds("duration")
        let format = arguments.value("events") ?? "text"
        guard format == "text" || format == "json" else {
            throw .usage("invalid value '\(format)' for --events: expected 'text' or 'json'", command: arguments.commandPath)
        }
        let profile: SoCProfile
        do {
            profile = try ProfileDecoder.load(path: profilePath)
        } catch {
            throw CommandError(error.description)
        }
        let environment = ProcessEnvironment.current()
        let coredumpDirectory = arguments.value("coredump-dir")
            ?? ((environment["TMPDIR"].map { $0 + "/" } ?? "/tmp/") + "ampsoc-coredumps")
        let sink: HostEventSink = format == "json"
            ? JSONLinesEventSink(console: invocation.console) : TextLogEventSink(console: invocation.console)

        do {
            // Block the stop signals before anything else so they arrive through the signalfd, and never kill
            // the host half-way through cleaning up.
            let signals = try SignalFD(signals: [SIGINT, SIGTERM, SIGHUP])
            signal(SIGPIPE, SIG_IGN)
            for removed in try StaleSegmentCleaner.clean() {
                sink.emit(.info(rproc: nil, message: "removed stale shared-memory segment \(removed)"))
            }
            let host = try SoCHost(
                profile: profile, instance: arguments.value("name"), sink: sink,
                coredumpDirectory: coredumpDirectory, environment: environment)
            defer { host.tearDown() }
            let failures = host.bootAutomatically()
            let deadline = duration.map { MonotonicClock.nanoseconds() + UInt64($0 * 1e9) }
            let reason = try host.run(until: deadline, signals: signals)
            if case .signal(let number) = reason {
                sink.emit(.info(rproc: nil, message: "received signal \(number), shutting down"))
            }
            return failures.isEmpty ? .success : .failure
        } catch {
            throw CommandError("host: \(error.description)")
        }
    }
}

/// The process environment as a dictionary.
enum ProcessEnvironment {
    static func current() -> [String: String] {
        var result = [String: String]()
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            pointer += 1
        }
        return result
    }
}

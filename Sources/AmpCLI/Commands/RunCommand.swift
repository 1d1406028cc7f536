import AmpControl
import AmpProfiles
import AmpRemoteproc
import AmpSoC
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
        if let name = arguments.value("name") {
            do {
                try InstanceName.validate(name)
            } catch {
                throw .usage("invalid value for --name: \(error.message)", command: arguments.commandPath)
            }
        }
        let profile: SoCProfile
        do {
            profile = try ProfileDecoder.load(path: profilePath)
        } catch {
            throw CommandError(error.description)
        }
        let name = arguments.value("name") ?? InstanceName.sanitized(profile.name)
        let environment = ProcessEnvironment.current()
        var options = SoCOptions(name: name)
        options.environment = environment
        options.coredumpDirectory = arguments.value("coredump-dir")  // nil: EmulatedSoC's default
        let sink: HostEventSink = format == "json"
            ? JSONLinesEventSink(console: invocation.console) : TextLogEventSink(console: invocation.console)

        // Block the stop signals before anything else (before any thread exists, so every thread inherits the
        // mask) so they arrive through the signalfd, and never kill the host half-way through cleaning up.
        let signals: SignalFD
        do {
            signals = try SignalFD(signals: [SIGINT, SIGTERM, SIGHUP])
            signal(SIGPIPE, SIG_IGN)
            for removed in try StaleSegmentCleaner.clean(ownInstance: name) {
                sink.emit(.info(rproc: nil, message: "removed stale shared-memory segment \(removed)"))
            }
        } catch {
            throw CommandError("host: \(error.description)")
        }
        let instance: InstanceLock
        do {
            instance = try InstanceLock.acquire(name: name, runtime: try RuntimeDirectory.resolve(environment: environment))
        } catch {
            throw CommandError(error.message)
        }
        defer { instance.release() }
        options.socketDirectory = instance.endpointDirectory
        return try serve(profile: profile, options: options, sink: sink, instance: instance, signals: signals, duration: duration)
    }

    /// Builds the SoC on this thread, serves its control socket, boots it and runs its main loop until a
    /// signal or the duration; stops the server, the SoC and every client thread on every path.
    private static func serve(
        profile: SoCProfile, options: SoCOptions, sink: HostEventSink, instance: InstanceLock, signals: SignalFD,
        duration: Double?
    ) throws(CommandError) -> ExitCode {
        let soc: EmulatedSoC
        do {
            soc = try EmulatedSoC(profile: profile, options: options, sink: sink)
        } catch {
            throw CommandError("host: \(error.message)")
        }
        let server: ControlServer
        do {
            server = try ControlServer(soc: soc, instance: instance)
        } catch {
            soc.close()
            throw CommandError(error.message)
        }
        server.start()
        defer {
            server.beginStop()
            soc.close()
            server.finish()
        }
        sink.emit(.info(rproc: nil, message: "instance \(instance.name): control socket \(server.socketPath)"))
        let failures = soc.bootAutomatically()
        let deadline = duration.map { MonotonicClock.nanoseconds() + UInt64($0 * 1e9) }
        do {
            let reason = try soc.run(until: deadline, signals: signals)
            if case .signal(let number) = reason {
                sink.emit(.info(rproc: nil, message: "received signal \(number), shutting down"))
            }
        } catch {
            throw CommandError("host: \(error.message)")
        }
        return failures.isEmpty ? .success : .failure
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

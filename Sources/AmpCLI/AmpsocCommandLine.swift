/// Entry point of the `ampsoc` command line: the command tree, dispatch, and the mapping of failures to
/// messages on stderr and exit statuses.
public enum AmpsocCommandLine {
    /// The version printed by `ampsoc --version`.
    public static let version = "0.1.0"

    /// The root of the command tree.
    public static var root: CommandSpec {
        CommandSpec(
            name: "ampsoc",
            summary: "Emulate an asymmetric-multiprocessing SoC on one Linux machine: Linux-style remoteproc and rpmsg "
                + "on the host, each remote core its own process over shared memory.",
            discussion: "Firmware and resource tables are byte-compatible with Linux remoteproc and OpenAMP.",
            subcommands: [
                InspectCommand.spec, RunCommand.spec, BenchCommand.spec,
                // Verbs that drive a running instance through its control socket.
                LsCommand.spec, RprocCommand.spec, TraceCommand.spec, ResourcesCommand.spec, VringCommand.spec,
                WaitCommand.spec, MessageCommands.sendSpec, MessageCommands.recvSpec, MessageCommands.callSpec,
                EptCommand.spec, EventsCommand.spec,
            ],
            exitCodes: ExitCode.allCases)
    }

    /// Runs the command line with `arguments` (without the program name) and returns the exit status.
    public static func main(_ arguments: [String], console: Console = .standard) -> Int32 {
        if arguments == ["--version"] {
            console.out("ampsoc \(version)")
            return ExitCode.success.rawValue
        }
        do {
            switch try ArgumentParser.parse(arguments, root: root) {
            case .help(let spec, let path):
                console.out(HelpFormatter.help(for: spec, path: path))
                return ExitCode.success.rawValue
            case .run(let spec, let parsed):
                guard let run = spec.run else { return ExitCode.usage.rawValue }
                return try run(Invocation(arguments: parsed, console: console)).rawValue
            }
        } catch {
            console.err("error: \(error.message)")
            if let command = error.helpCommand {
                console.err("See '\(command) --help'.")
            }
            return error.exitCode.rawValue
        }
    }
}

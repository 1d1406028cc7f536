import AmpJSON
import AmpSystem

/// `ampsoc rproc NAME ACTION [VALUE]`: the lifecycle controls Linux offers in sysfs and debugfs.
enum RprocCommand {
    static let actions = ["start", "stop", "recover", "firmware", "crash", "recovery", "coredump"]
    static let crashKinds = ["mmufault", "watchdog", "fatal"]
    static let recoveryModes = ["enabled", "disabled"]
    static let coredumpModes = ["disabled", "enabled", "inline"]

    static var spec: CommandSpec {
        CommandSpec(
            name: "rproc",
            summary: "Start, stop, recover or crash a remote processor, or set its firmware, recovery or coredump mode.",
            discussion: """
                As Linux's /sys/class/remoteproc/remoteprocN files and debugfs:
                  rproc NAME start                            boot it (fails with EBUSY when it is not offline)
                  rproc NAME stop                             shut it down (fails when it is not running or crashed)
                  rproc NAME recover                          recover a crashed processor now
                  rproc NAME firmware PATH                    firmware for the next boot (only while offline)
                  rproc NAME crash mmufault|watchdog|fatal    make the firmware crash that way
                  rproc NAME recovery enabled|disabled        automatic recovery after a crash
                  rproc NAME coredump disabled|enabled|inline coredump mode
                Prints nothing on success.
                """ + "\n\n" + ControlCommandSupport.exitStatusText,
            positionals: [
                PositionalSpec("NAME", help: "The remote processor (as 'ampsoc ls' shows it)."),
                PositionalSpec("ACTION", help: "What to do.", choices: actions),
                PositionalSpec("VALUE", help: "PATH for firmware; the kind for crash; the mode for recovery and coredump.", optional: true),
            ],
            options: [ControlCommandSupport.nameOption],
            run: run)
    }

    static func run(_ invocation: Invocation) throws(CommandError) -> ExitCode {
        let arguments = invocation.arguments
        let rproc = try arguments.required("NAME")
        let action = try arguments.required("ACTION")
        let value = arguments.positional("VALUE")
        var request: JSONObject = ["rproc": .string(rproc)]
        switch action {
        case "start", "stop", "recover":
            if let value { throw .usage("unexpected argument '\(value)' for '\(action)'", command: arguments.commandPath) }
        case "firmware":
            guard let value else { throw .usage("missing argument PATH for 'firmware'", command: arguments.commandPath) }
            request["path"] = .string(absolute(value))
        case "crash":
            request["kind"] = .string(try choice(value, crashKinds, for: action, arguments))
        case "recovery":
            request["mode"] = .string(try choice(value, recoveryModes, for: action, arguments))
        default:
            request["mode"] = .string(try choice(value, coredumpModes, for: action, arguments))
        }
        try ControlCommandSupport.request(invocation, action, request)
        return .success
    }

    private static func choice(_ value: String?, _ choices: [String], for action: String, _ arguments: ParsedArguments) throws(CommandError) -> String {
        let list = choices.joined(separator: ", ")
        guard let value else { throw .usage("missing argument VALUE for '\(action)': one of \(list)", command: arguments.commandPath) }
        guard choices.contains(value) else {
            throw .usage("invalid VALUE '\(value)' for '\(action)': expected one of \(list)", command: arguments.commandPath)
        }
        return value
    }

    /// The instance resolves relative paths from its own working directory: send absolute ones. A bare name
    /// (no "/") stays as it is: the instance searches it like the profile's firmware names.
    private static func absolute(_ path: String) -> String {
        guard !path.hasPrefix("/"), path.contains("/"), let directory = FileIO.currentDirectory() else { return path }
        return directory + "/" + path
    }
}

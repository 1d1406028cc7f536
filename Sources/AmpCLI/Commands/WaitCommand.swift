import AmpJSON

/// `ampsoc wait channel NAME` and `ampsoc wait state RPROC STATE`: block until something is true.
enum WaitCommand {
    static let states = ["offline", "suspended", "running", "crashed", "deleted", "attached", "detached"]

    static var spec: CommandSpec {
        CommandSpec(
            name: "wait",
            summary: "Wait until an rpmsg channel exists or a remote processor is in a state.",
            subcommands: [channelSpec, stateSpec])
    }

    static var channelSpec: CommandSpec {
        CommandSpec(
            name: "channel",
            summary: "Wait until an rpmsg channel called NAME exists (announced by a remote).",
            discussion: "Prints nothing (the channel with --json) and exits 0 once it exists; exits 1 after --timeout.\n\n"
                + ControlCommandSupport.exitStatusText,
            positionals: [PositionalSpec("NAME", help: "The channel name, e.g. rpmsg-echo.")],
            options: [
                ControlCommandSupport.rprocOption, ControlCommandSupport.timeoutOption(default: 10),
                ControlCommandSupport.nameOption, ControlCommandSupport.jsonOption,
            ],
            run: waitChannel)
    }

    static var stateSpec: CommandSpec {
        CommandSpec(
            name: "state",
            summary: "Wait until remote processor RPROC is in STATE.",
            discussion: "Prints nothing (the processor with --json) and exits 0 once it is; exits 1 after --timeout, "
                + "naming the state it is in.\n\n" + ControlCommandSupport.exitStatusText,
            positionals: [
                PositionalSpec("RPROC", help: "The remote processor."),
                PositionalSpec("STATE", help: "The state to wait for.", choices: states),
            ],
            options: [
                ControlCommandSupport.timeoutOption(default: 10), ControlCommandSupport.nameOption,
                ControlCommandSupport.jsonOption,
            ],
            run: waitState)
    }

    static func waitChannel(_ invocation: Invocation) throws(CommandError) -> ExitCode {
        let timeout = try ControlCommandSupport.timeout(invocation, default: 10)
        let request = ControlCommandSupport.withRproc(invocation, [
            "name": .string(try invocation.arguments.required("NAME")), "timeout": .double(timeout.seconds),
        ])
        let result = try ControlCommandSupport.request(invocation, "wait-channel", request, timeout: timeout.replyWait)
        if invocation.arguments.has("json") { ControlCommandSupport.printJSON(invocation, result) }
        return .success
    }

    static func waitState(_ invocation: Invocation) throws(CommandError) -> ExitCode {
        let timeout = try ControlCommandSupport.timeout(invocation, default: 10)
        let request: JSONObject = [
            "rproc": .string(try invocation.arguments.required("RPROC")),
            "state": .string(try invocation.arguments.required("STATE")), "timeout": .double(timeout.seconds),
        ]
        let result = try ControlCommandSupport.request(invocation, "wait-state", request, timeout: timeout.replyWait)
        if invocation.arguments.has("json") { ControlCommandSupport.printJSON(invocation, result) }
        return .success
    }
}

import AmpJSON

/// `ampsoc ls`: the remote processors, channels and created endpoints of a running instance.
enum LsCommand {
    static var spec: CommandSpec {
        CommandSpec(
            name: "ls",
            summary: "List a running instance's remote processors, rpmsg channels and created endpoints.",
            discussion: """
                Remote processors with their state, crash count, pid, recovery and coredump settings and firmware; \
                rpmsg channels with their remote processor, transport, name, source and destination addresses, bound \
                host driver, received and sent message counts, and endpoint socket or terminal path; endpoints made \
                with 'ampsoc ept create' with their socket path.
                """ + "\n\n" + ControlCommandSupport.exitStatusText,
            options: [ControlCommandSupport.nameOption, ControlCommandSupport.jsonOption],
            run: run)
    }

    static func run(_ invocation: Invocation) throws(CommandError) -> ExitCode {
        let result = try ControlCommandSupport.request(invocation, "ls")
        if invocation.arguments.has("json") {
            ControlCommandSupport.printJSON(invocation, result)
        } else {
            for line in ControlTextRendering.list(result) { invocation.console.out(line) }
        }
        return .success
    }
}

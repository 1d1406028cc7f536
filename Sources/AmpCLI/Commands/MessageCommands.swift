import AmpControl
import AmpJSON

/// `ampsoc send`, `ampsoc recv`, `ampsoc call`: messages to and from a channel's service.
enum MessageCommands {
    static let channelArgument = PositionalSpec("CHANNEL", help: "The channel name, e.g. rpmsg-echo.")
    static let dataArgument = PositionalSpec("DATA", help: "The payload: text (sent as UTF-8), or hex digits with --hex.")

    static var sendSpec: CommandSpec {
        CommandSpec(
            name: "send",
            summary: "Send DATA to a channel's service from the instance's standing endpoint for that channel.",
            discussion: """
                Replies to the standing endpoint queue in the instance (up to 1024) until 'ampsoc recv CHANNEL' reads \
                them. Too large a payload fails with EMSGSIZE. Prints nothing on success.
                """ + "\n\n" + ControlCommandSupport.exitStatusText,
            positionals: [channelArgument, dataArgument],
            options: [ControlCommandSupport.rprocOption, ControlCommandSupport.hexOption, ControlCommandSupport.nameOption],
            run: send)
    }

    static var recvSpec: CommandSpec {
        CommandSpec(
            name: "recv",
            summary: "Print messages that arrived at the channel's standing endpoint (replies to 'ampsoc send').",
            discussion: """
                Prints each payload on a line of its own as it arrives (text, or hex with --hex or when it is not \
                UTF-8; with --json one object a line: {"src","length","hex","data"}). Waits for --count messages \
                (default 1) for up to --timeout seconds in all; exits 1 if fewer came.
                """ + "\n\n" + ControlCommandSupport.exitStatusText,
            positionals: [channelArgument],
            options: [
                .value("count", "N", help: "How many messages to wait for (default 1)."),
                ControlCommandSupport.timeoutOption(default: 5), ControlCommandSupport.rprocOption,
                ControlCommandSupport.hexOption, ControlCommandSupport.nameOption, ControlCommandSupport.jsonOption,
            ],
            run: receive)
    }

    static var callSpec: CommandSpec {
        CommandSpec(
            name: "call",
            summary: "Send DATA from a fresh endpoint and print the first reply (poke an echo-style service).",
            discussion: """
                Opens a new host endpoint on the channel's link, sends DATA to the channel's remote address, prints \
                the first message that comes back (text, or hex with --hex or when it is not UTF-8; --json prints \
                {"channel","message":{"src","length","hex","data"}}), and closes the endpoint.
                """ + "\n\n" + ControlCommandSupport.exitStatusText,
            positionals: [channelArgument, dataArgument],
            options: [
                ControlCommandSupport.timeoutOption(default: 5), ControlCommandSupport.rprocOption,
                ControlCommandSupport.hexOption, ControlCommandSupport.nameOption, ControlCommandSupport.jsonOption,
            ],
            run: call)
    }

    static func send(_ invocation: Invocation) throws(CommandError) -> ExitCode {
        var request = try ControlCommandSupport.payload(invocation)
        request["channel"] = .string(try invocation.arguments.required("CHANNEL"))
        try ControlCommandSupport.request(invocation, "send", ControlCommandSupport.withRproc(invocation, request))
        return .success
    }

    static func receive(_ invocation: Invocation) throws(CommandError) -> ExitCode {
        let timeout = try ControlCommandSupport.timeout(invocation, default: 5)
        let count = try invocation.arguments.integer("count", in: 1...1_000_000) ?? 1
        let request = ControlCommandSupport.withRproc(invocation, [
            "channel": .string(try invocation.arguments.required("CHANNEL")), "count": .integer(count),
            "timeout": .double(timeout.seconds),
        ])
        let json = invocation.arguments.has("json")
        let hex = invocation.arguments.has("hex")
        try ControlCommandSupport.request(invocation, "recv", request, timeout: timeout.replyWait) { message throws(ControlError) in
            if json {
                ControlCommandSupport.printJSONLine(invocation, message)
            } else {
                invocation.console.out(ControlTextRendering.payload(message, hex: hex))
            }
        }
        return .success
    }

    static func call(_ invocation: Invocation) throws(CommandError) -> ExitCode {
        let timeout = try ControlCommandSupport.timeout(invocation, default: 5)
        var request = try ControlCommandSupport.payload(invocation)
        request["channel"] = .string(try invocation.arguments.required("CHANNEL"))
        request["timeout"] = .double(timeout.seconds)
        let result = try ControlCommandSupport.request(
            invocation, "call", ControlCommandSupport.withRproc(invocation, request), timeout: timeout.replyWait)
        if invocation.arguments.has("json") {
            ControlCommandSupport.printJSON(invocation, result)
        } else {
            invocation.console.out(
                ControlTextRendering.payload(ControlTextRendering.object(result, "message"), hex: invocation.arguments.has("hex")))
        }
        return .success
    }
}

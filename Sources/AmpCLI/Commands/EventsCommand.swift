import AmpControl
import AmpJSON

/// `ampsoc events`: the host event stream of a running instance.
enum EventsCommand {
    static var spec: CommandSpec {
        CommandSpec(
            name: "events",
            summary: "Print a running instance's host events as they happen (states, crashes, trace, channels, ...).",
            discussion: """
                Prints every event from now on until the instance stops, --count events were printed, --timeout \
                passed, or you press Ctrl-C: readable lines, or with --json one object a line, the same objects as \
                'ampsoc run --events json' (docs/cli.md).
                """ + "\n\n" + ControlCommandSupport.exitStatusText,
            options: [
                .value("count", "N", help: "Stop after N events."),
                .value("timeout", "SECONDS", help: "Stop after this many seconds."),
                ControlCommandSupport.nameOption, ControlCommandSupport.jsonOption,
            ],
            run: run)
    }

    static func run(_ invocation: Invocation) throws(CommandError) -> ExitCode {
        var request: JSONObject = [:]
        if let count = try invocation.arguments.integer("count", in: 1...UInt64(Int32.max)) { request["count"] = .integer(count) }
        var replyWait: Duration?
        if let seconds = try invocation.arguments.seconds("timeout") {
            request["timeout"] = .double(seconds)
            replyWait = .milliseconds(Int64(seconds * 1000) + 10_000)
        }
        let json = invocation.arguments.has("json")
        try ControlCommandSupport.request(invocation, "events", request, timeout: replyWait) { event throws(ControlError) in
            if json {
                ControlCommandSupport.printJSONLine(invocation, event)
            } else if let decoded = HostEventDecoding.event(from: event) {
                if case .error = decoded { invocation.console.err(decoded.text) } else { invocation.console.out(decoded.text) }
            } else {
                invocation.console.out(JSONValue.object(event).encoded())
            }
        }
        return .success
    }
}

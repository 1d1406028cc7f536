import AmpControl
import AmpJSON
import AmpSystem

/// What every verb that talks to a running instance shares: the `--name` and `--json` options, connecting,
/// sending a request, mapping protocol errors to exit statuses, and DATA arguments.
///
/// Exit statuses: 0 the request succeeded; 1 it failed (no running instance, unknown remote processor or
/// channel, wrong state, timeout: the line starting "error:" names the thing at fault); 2 the command line
/// is wrong.
enum ControlCommandSupport {
    static let nameOption = OptionSpec.value(
        "name", "NAME", help: "Instance to talk to (default: the only running instance).")
    static let jsonOption = OptionSpec.flag("json", help: "Print the result as JSON (docs/control-protocol.md).")
    static let rprocOption = OptionSpec.value("rproc", "RPROC", help: "Remote processor of the channel (when several have one of that name).")
    static let hexOption = OptionSpec.flag("hex", help: "DATA and printed payloads are hex digits (e.g. 00ff10) instead of text.")

    static func timeoutOption(default seconds: Int) -> OptionSpec {
        .value("timeout", "SECONDS", help: "Give up after this many seconds (default \(seconds)).")
    }

    /// The exit-status paragraph of every control verb's help.
    static let exitStatusText = """
        Talks to a running 'ampsoc run' instance through its control socket. Exit status 1 when the request \
        fails (no running instance, unknown remote processor or channel, wrong state, timeout; the "error:" \
        line names the thing at fault), 2 for a wrong command line.
        """

    /// Connects to the instance `--name` names (or the only one running).
    static func connect(_ invocation: Invocation) throws(CommandError) -> ControlClient {
        let name = invocation.arguments.value("name")
        if let name {
            do {
                try InstanceName.validate(name)
            } catch {
                throw .usage("invalid value for --name: \(error.message)", command: invocation.arguments.commandPath)
            }
        }
        do {
            return try ControlClient.connect(name: name, environment: ProcessEnvironment.current())
        } catch {
            throw CommandError(error.message)
        }
    }

    /// Sends one request to the instance and returns its result; stream items go to `onEvent`.
    @discardableResult
    static func request(
        _ invocation: Invocation, _ op: String, _ arguments: JSONObject = [:], timeout: Duration? = .seconds(30),
        onEvent: ((JSONObject) throws(ControlError) -> Void)? = nil
    ) throws(CommandError) -> JSONObject {
        let client = try connect(invocation)
        defer { client.close() }
        do {
            return try client.request(op, arguments, timeout: timeout, onEvent: onEvent)
        } catch {
            throw CommandError(error.message)
        }
    }

    /// The `--timeout` option in seconds (default `seconds`), and the client's wait for the reply: a little
    /// longer, so the instance's own timeout error arrives first.
    static func timeout(_ invocation: Invocation, default seconds: Double) throws(CommandError) -> (seconds: Double, replyWait: Duration) {
        let value = try invocation.arguments.seconds("timeout") ?? seconds
        guard value <= 86_400 else {
            throw .usage("invalid value '\(value)' for --timeout: at most 86400 seconds", command: invocation.arguments.commandPath)
        }
        return (value, .milliseconds(Int64(value * 1000) + 10_000))
    }

    /// Adds `--rproc` to `arguments` when given.
    static func withRproc(_ invocation: Invocation, _ arguments: JSONObject) -> JSONObject {
        var arguments = arguments
        if let rproc = invocation.arguments.value("rproc") { arguments["rproc"] = .string(rproc) }
        return arguments
    }

    /// DATA as protocol members: `{"data": text}`, or `{"hex": digits}` with `--hex` (checked here).
    static func payload(_ invocation: Invocation) throws(CommandError) -> JSONObject {
        let data = try invocation.arguments.required("DATA")
        guard invocation.arguments.has("hex") else { return ["data": .string(data)] }
        let digits = data.filter { !$0.isWhitespace }
        guard HexPayload.decode(digits) != nil else {
            throw .usage("invalid DATA '\(data)' for --hex: expected an even number of hex digits", command: invocation.arguments.commandPath)
        }
        return ["hex": .string(digits.lowercased())]
    }

    /// Prints `object` as pretty JSON.
    static func printJSON(_ invocation: Invocation, _ object: JSONObject) {
        invocation.console.out(JSONValue.object(object).encoded(pretty: true))
    }

    /// Prints one stream item as a compact JSON line.
    static func printJSONLine(_ invocation: Invocation, _ object: JSONObject) {
        invocation.console.out(JSONValue.object(object).encoded())
    }
}

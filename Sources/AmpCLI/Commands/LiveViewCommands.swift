import AmpControl
import AmpJSON
import AmpWire

/// `ampsoc trace NAME [--follow]`: a remote's trace buffers (Linux's debugfs trace0).
enum TraceCommand {
    static var spec: CommandSpec {
        CommandSpec(
            name: "trace",
            summary: "Print a remote processor's trace buffers; with --follow, keep printing new lines.",
            discussion: """
                Without --follow prints what the trace buffers hold now. With --follow prints those lines, then \
                every new line as the firmware writes it, until the instance stops, --count lines were printed, \
                --timeout passed, or you press Ctrl-C. --json prints {"rproc","text"} (one object a line with \
                --follow).
                """ + "\n\n" + ControlCommandSupport.exitStatusText,
            positionals: [PositionalSpec("NAME", help: "The remote processor.")],
            options: [
                .flag("follow", short: "f", help: "Keep printing new trace lines."),
                .value("count", "N", help: "With --follow: stop after N lines."),
                .value("timeout", "SECONDS", help: "With --follow: stop after this many seconds."),
                ControlCommandSupport.nameOption, ControlCommandSupport.jsonOption,
            ],
            run: run)
    }

    static func run(_ invocation: Invocation) throws(CommandError) -> ExitCode {
        let arguments = invocation.arguments
        let json = arguments.has("json")
        var request: JSONObject = ["rproc": .string(try arguments.required("NAME"))]
        guard arguments.has("follow") else {
            if arguments.has("count") || arguments.has("timeout") {
                throw .usage("--count and --timeout need --follow", command: arguments.commandPath)
            }
            let result = try ControlCommandSupport.request(invocation, "trace", request)
            if json {
                ControlCommandSupport.printJSON(invocation, result)
            } else if case .string(let text)? = result["text"], !text.isEmpty {
                invocation.console.writeOut(text.hasSuffix("\n") ? text : text + "\n")
            }
            return .success
        }
        request["follow"] = .bool(true)
        if let count = try arguments.integer("count", in: 1...UInt64(Int32.max)) { request["count"] = .integer(count) }
        var replyWait: Duration?
        if let seconds = try arguments.seconds("timeout") {
            request["timeout"] = .double(seconds)
            replyWait = .milliseconds(Int64(seconds * 1000) + 10_000)
        }
        try ControlCommandSupport.request(invocation, "trace", request, timeout: replyWait) { line throws(ControlError) in
            if json {
                ControlCommandSupport.printJSONLine(invocation, line)
            } else {
                invocation.console.out(ControlTextRendering.string(line, "text"))
            }
        }
        return .success
    }
}

/// `ampsoc resources NAME`: the resource table as it is in the remote's memory now.
enum ResourcesCommand {
    static var spec: CommandSpec {
        CommandSpec(
            name: "resources",
            summary: "Print the live resource table of a running remote processor (debugfs resource_table).",
            discussion: """
                The table as loaded into the remote's memory, with the addresses and vring values the host filled \
                in, entry by entry (as 'ampsoc inspect' prints a firmware file's table). --json prints {"rproc", \
                "version", "count", "offsets", "size", "entries"} with entries as in 'ampsoc inspect --json'.
                """ + "\n\n" + ControlCommandSupport.exitStatusText,
            positionals: [PositionalSpec("NAME", help: "The remote processor.")],
            options: [ControlCommandSupport.nameOption, ControlCommandSupport.jsonOption],
            run: run)
    }

    static func run(_ invocation: Invocation) throws(CommandError) -> ExitCode {
        let rproc = try invocation.arguments.required("NAME")
        let result = try ControlCommandSupport.request(invocation, "resources", ["rproc": .string(rproc)])
        guard case .string(let hex)? = result["hex"], let bytes = HexPayload.decode(hex) else {
            throw CommandError("\(rproc): the instance sent a resource table without its bytes")
        }
        let table: ResourceTable
        do {
            table = try ResourceTable.parse(bytes, order: .little)
        } catch {
            throw CommandError("\(rproc): resource table: \(error.description)")
        }
        if invocation.arguments.has("json") {
            ControlCommandSupport.printJSON(invocation, [
                "rproc": .string(rproc), "version": .integer(table.version), "count": .integer(table.offsets.count),
                "offsets": .array(table.offsets.map { .integer($0) }), "size": .integer(table.size),
                "entries": .array(table.entries.map(ResourceTableJSON.entry)),
            ])
        } else {
            for line in ResourceTableText.lines(for: table) { invocation.console.out(line) }
        }
        return .success
    }
}

/// `ampsoc vring NAME`: live ring indices and buffer counts.
enum VringCommand {
    static var spec: CommandSpec {
        CommandSpec(
            name: "vring",
            summary: "Print the vrings of a running remote processor: live indices, flags and host buffer counts.",
            discussion: """
                One row per ring of each rpmsg link: vring0 carries remote->host messages (its host buffers are \
                receive buffers posted to the remote), vring1 host->remote (its host buffers are free transmit \
                buffers). avail.idx is written by the host, used.idx by the remote; both wrap at 65536.
                """ + "\n\n" + ControlCommandSupport.exitStatusText,
            positionals: [PositionalSpec("NAME", help: "The remote processor.")],
            options: [ControlCommandSupport.nameOption, ControlCommandSupport.jsonOption],
            run: run)
    }

    static func run(_ invocation: Invocation) throws(CommandError) -> ExitCode {
        let rproc = try invocation.arguments.required("NAME")
        let result = try ControlCommandSupport.request(invocation, "vring", ["rproc": .string(rproc)])
        if invocation.arguments.has("json") {
            ControlCommandSupport.printJSON(invocation, result)
        } else {
            for line in ControlTextRendering.vrings(result) { invocation.console.out(line) }
        }
        return .success
    }
}

import AmpJSON

/// `ampsoc ept create|destroy|ls`: host endpoints bridged to SOCK_SEQPACKET sockets (as /dev/rpmsgN made
/// with RPMSG_CREATE_EPT_IOCTL on /dev/rpmsg_ctrlN).
enum EptCommand {
    static var spec: CommandSpec {
        CommandSpec(
            name: "ept",
            summary: "Create, destroy or list host endpoints bridged to SOCK_SEQPACKET sockets.",
            subcommands: [createSpec, destroySpec, listSpec])
    }

    static var createSpec: CommandSpec {
        CommandSpec(
            name: "create",
            summary: "Create endpoint NAME on a remote processor's rpmsg link and print its socket path.",
            discussion: """
                The endpoint gets address --src (default: the lowest free address from 1024) and sends to --dst \
                (default ANY: until a message arrives, then a client must give the address). Connect a \
                SOCK_SEQPACKET client to the printed socket: each write is one message, each read one message. \
                --json prints {"endpoint":{"name","rproc","link","src","dst","counters","socket"}}.
                """ + "\n\n" + ControlCommandSupport.exitStatusText,
            positionals: [PositionalSpec("NAME", help: "A name for the endpoint (unique in the instance).")],
            options: [
                .value("rproc", "RPROC", help: "The remote processor whose link gets the endpoint (required)."),
                .value("src", "ADDR", help: "Local address (decimal or 0x hex; default: any free one)."),
                .value("dst", "ADDR", help: "Destination address (decimal or 0x hex; default: ANY)."),
                ControlCommandSupport.nameOption, ControlCommandSupport.jsonOption,
            ],
            run: create)
    }

    static var destroySpec: CommandSpec {
        CommandSpec(
            name: "destroy",
            summary: "Destroy endpoint NAME (its socket is closed and removed).",
            discussion: ControlCommandSupport.exitStatusText,
            positionals: [PositionalSpec("NAME", help: "The endpoint's name.")],
            options: [ControlCommandSupport.nameOption],
            run: destroy)
    }

    static var listSpec: CommandSpec {
        CommandSpec(
            name: "ls",
            summary: "List the endpoints made with 'ampsoc ept create'.",
            discussion: ControlCommandSupport.exitStatusText,
            options: [ControlCommandSupport.nameOption, ControlCommandSupport.jsonOption],
            run: list)
    }

    static func create(_ invocation: Invocation) throws(CommandError) -> ExitCode {
        let arguments = invocation.arguments
        guard let rproc = arguments.value("rproc") else {
            throw .usage("missing option --rproc: the remote processor whose link gets the endpoint", command: arguments.commandPath)
        }
        var request: JSONObject = ["name": .string(try arguments.required("NAME")), "rproc": .string(rproc)]
        if let source = try arguments.integer("src", in: 0...0xFFFF_FFFF) { request["src"] = .integer(source) }
        if let destination = try arguments.integer("dst", in: 0...0xFFFF_FFFF) { request["dst"] = .integer(destination) }
        let result = try ControlCommandSupport.request(invocation, "ept-create", request)
        if arguments.has("json") {
            ControlCommandSupport.printJSON(invocation, result)
        } else {
            invocation.console.out(ControlTextRendering.string(ControlTextRendering.object(result, "endpoint"), "socket"))
        }
        return .success
    }

    static func destroy(_ invocation: Invocation) throws(CommandError) -> ExitCode {
        try ControlCommandSupport.request(invocation, "ept-destroy", ["name": .string(try invocation.arguments.required("NAME"))])
        return .success
    }

    static func list(_ invocation: Invocation) throws(CommandError) -> ExitCode {
        let result = try ControlCommandSupport.request(invocation, "ept-ls")
        if invocation.arguments.has("json") {
            ControlCommandSupport.printJSON(invocation, result)
        } else {
            for line in ControlTextRendering.endpoints(ControlTextRendering.objects(result, "endpoints")) {
                invocation.console.out(line)
            }
        }
        return .success
    }
}

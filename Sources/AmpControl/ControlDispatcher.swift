import AmpJSON
import AmpProfiles
import AmpRemoteproc
import AmpSoC
import AmpSystem
import AmpWire
import Glibc

/// Runs control requests against an ``EmulatedSoC``, on the calling (client) thread. Every SoC call blocks
/// only that thread: the SoC hands the work to its main loop and waits for the answer.
///
/// The ops and their arguments are documented in docs/control-protocol.md; ``operations`` lists them.
final class ControlDispatcher: Sendable {
    let soc: EmulatedSoC
    /// Where the control socket is, for `hello`.
    let socketPath: String

    init(soc: EmulatedSoC, socketPath: String) {
        self.soc = soc
        self.socketPath = socketPath
    }

    /// Every op the server knows, in documentation order.
    static let operations = [
        "hello", "ls", "start", "stop", "recover", "firmware", "crash", "recovery", "coredump", "trace", "resources",
        "vring", "wait-channel", "wait-state", "send", "recv", "call", "ept-create", "ept-destroy", "ept-ls", "events",
    ]

    /// Runs `request`; stream items go to `stream`. Returns the final result object.
    func handle(_ request: ControlRequest, stream: ControlStream) throws(ControlError) -> JSONObject {
        let arguments = ControlArguments(object: request.arguments)
        switch request.op {
        case "hello": return try hello(arguments)
        case "ls": return try list(arguments)
        case "start", "stop", "recover": return try lifecycle(request.op, arguments)
        case "firmware": return try firmware(arguments)
        case "crash": return try crash(arguments)
        case "recovery": return try recovery(arguments)
        case "coredump": return try coredump(arguments)
        case "trace": return try trace(arguments, stream: stream)
        case "resources": return try resources(arguments)
        case "vring": return try vring(arguments)
        case "wait-channel": return try waitChannel(arguments, stream: stream)
        case "wait-state": return try waitState(arguments, stream: stream)
        case "send": return try send(arguments)
        case "recv": return try receive(arguments, stream: stream)
        case "call": return try call(arguments, stream: stream)
        case "ept-create": return try createEndpoint(arguments)
        case "ept-destroy": return try destroyEndpoint(arguments)
        case "ept-ls": return try listEndpoints(arguments)
        case "events": return try events(arguments, stream: stream)
        default:
            throw ControlError(
                code: EOPNOTSUPP, "unknown op \"\(request.op)\" (ops: \(Self.operations.joined(separator: ", ")))", field: "op")
        }
    }

    // MARK: Instance

    private func hello(_ arguments: ControlArguments) throws(ControlError) -> JSONObject {
        try arguments.allow([])
        return [
            "protocol": .integer(ControlProtocol.version), "instance": .string(soc.name), "soc": .string(soc.profile.name),
            "pid": .integer(getpid()), "socket": .string(socketPath), "endpointDirectory": .string(soc.socketDirectory),
            "ops": .array(Self.operations.map { .string($0) }),
        ]
    }

    private func list(_ arguments: ControlArguments) throws(ControlError) -> JSONObject {
        try arguments.allow([])
        return try socCall { () throws(SoCError) -> JSONObject in
            [
                "instance": .string(soc.name), "soc": .string(soc.profile.name),
                "processors": .array(try soc.processors().map { .object(ControlJSON.processor($0)) }),
                "channels": .array(try soc.channels().map { .object(ControlJSON.channel($0)) }),
                "endpoints": .array(endpointStatuses().map { .object(ControlJSON.endpoint($0)) }),
            ]
        }
    }

    // MARK: Remote processors

    private func lifecycle(_ op: String, _ arguments: ControlArguments) throws(ControlError) -> JSONObject {
        try arguments.allow(["rproc"])
        let rproc = try arguments.string("rproc")
        return try socCall { () throws(SoCError) -> JSONObject in
            switch op {
            case "start": try soc.start(rproc)
            case "stop": try soc.stop(rproc)
            default: try soc.recover(rproc)
            }
            return ["processor": .object(ControlJSON.processor(try soc.processor(rproc)))]
        }
    }

    private func firmware(_ arguments: ControlArguments) throws(ControlError) -> JSONObject {
        try arguments.allow(["rproc", "path"])
        let rproc = try arguments.string("rproc")
        let path = try arguments.string("path")
        return try socCall { () throws(SoCError) -> JSONObject in
            try soc.setFirmware(rproc, path: path)
            return ["processor": .object(ControlJSON.processor(try soc.processor(rproc)))]
        }
    }

    /// Crash kinds by their protocol name (as Linux's debugfs `crash` file takes them).
    static let crashKinds: [(String, ControlBlockCrash)] = [("mmufault", .mmuFault), ("watchdog", .watchdog), ("fatal", .fatalError)]

    private func crash(_ arguments: ControlArguments) throws(ControlError) -> JSONObject {
        try arguments.allow(["rproc", "kind"])
        let rproc = try arguments.string("rproc")
        let name = try arguments.choice("kind", Self.crashKinds.map(\.0))
        guard let kind = Self.crashKinds.first(where: { $0.0 == name })?.1 else { return [:] }
        return try socCall { () throws(SoCError) -> JSONObject in
            try soc.crash(rproc, kind)
            return ["rproc": .string(rproc), "kind": .string(name)]
        }
    }

    private func recovery(_ arguments: ControlArguments) throws(ControlError) -> JSONObject {
        try arguments.allow(["rproc", "mode"])
        let rproc = try arguments.string("rproc")
        let mode = try arguments.choice("mode", ["enabled", "disabled"])
        return try socCall { () throws(SoCError) -> JSONObject in
            try soc.setRecovery(rproc, enabled: mode == "enabled")
            return ["processor": .object(ControlJSON.processor(try soc.processor(rproc)))]
        }
    }

    private func coredump(_ arguments: ControlArguments) throws(ControlError) -> JSONObject {
        try arguments.allow(["rproc", "mode"])
        let rproc = try arguments.string("rproc")
        let name = try arguments.choice("mode", CoredumpMode.allCases.map(\.rawValue))
        guard let mode = CoredumpMode(rawValue: name) else { return [:] }
        return try socCall { () throws(SoCError) -> JSONObject in
            try soc.setCoredump(rproc, mode)
            return ["processor": .object(ControlJSON.processor(try soc.processor(rproc)))]
        }
    }

    private func resources(_ arguments: ControlArguments) throws(ControlError) -> JSONObject {
        try arguments.allow(["rproc"])
        let rproc = try arguments.string("rproc")
        return try socCall { () throws(SoCError) -> JSONObject in ControlJSON.resourceTable(try soc.resourceTable(rproc), rproc: rproc) }
    }

    private func vring(_ arguments: ControlArguments) throws(ControlError) -> JSONObject {
        try arguments.allow(["rproc"])
        let rproc = try arguments.string("rproc")
        return try socCall { () throws(SoCError) -> JSONObject in
            [
                "rproc": .string(rproc), "vrings": .array(try soc.vrings(rproc).map { .object(ControlJSON.vring($0)) }),
                "smdChannels": .array(try soc.smdChannels(rproc).map { .object(ControlJSON.smdChannel($0)) }),
            ]
        }
    }

    // MARK: Waiting

    private func waitChannel(_ arguments: ControlArguments, stream: ControlStream) throws(ControlError) -> JSONObject {
        try arguments.allow(["name", "rproc", "timeout"])
        let name = try arguments.string("name")
        let rproc = try arguments.optionalString("rproc")
        let timeout = try arguments.seconds("timeout", default: .seconds(10))
        if let rproc { _ = try socCall { () throws(SoCError) -> JSONObject in ControlJSON.processor(try soc.processor(rproc)) } }
        let channel = try waitInSlices(timeout: timeout, stream: stream) { slice throws(SoCError) in
            try soc.waitForChannel(name, rproc: rproc, timeout: slice)
        } timedOut: {
            "timed out after \(Self.seconds(timeout)) waiting for channel \(name)" + (rproc.map { " on \($0)" } ?? "")
        }
        return ["channel": .object(ControlJSON.channel(channel))]
    }

    private func waitState(_ arguments: ControlArguments, stream: ControlStream) throws(ControlError) -> JSONObject {
        try arguments.allow(["rproc", "state", "timeout"])
        let rproc = try arguments.string("rproc")
        let name = try arguments.choice("state", RemoteprocState.allCases.map(\.description))
        let timeout = try arguments.seconds("timeout", default: .seconds(10))
        guard let state = RemoteprocState.allCases.first(where: { $0.description == name }) else { return [:] }
        _ = try socCall { () throws(SoCError) -> JSONObject in ControlJSON.processor(try soc.processor(rproc)) }
        try waitInSlices(timeout: timeout, stream: stream) { slice throws(SoCError) in
            try soc.waitForState(rproc, state, timeout: slice)
        } timedOut: {
            let now = (try? soc.processor(rproc).state.description) ?? "unknown"
            return "timed out after \(Self.seconds(timeout)) waiting for \(rproc) to be \(name) (it is \(now))"
        }
        return try socCall { () throws(SoCError) -> JSONObject in ["processor": .object(ControlJSON.processor(try soc.processor(rproc)))] }
    }

    /// Calls `attempt` with waits of at most ``ControlStream/slice`` until it succeeds, checking for
    /// cancellation between slices; ETIMEDOUT with `timedOut()` once `timeout` has passed.
    @discardableResult
    func waitInSlices<T>(
        timeout: Duration, stream: ControlStream, _ attempt: (Duration) throws(SoCError) -> T, timedOut: () -> String
    ) throws(ControlError) -> T {
        let deadline = MonotonicClock.deadline(after: timeout)
        while true {
            try stream.checkCancelled()
            let slice = ControlStream.nextSlice(until: deadline) ?? .zero
            do {
                return try attempt(slice)
            } catch where error.errno == ETIMEDOUT {
                if MonotonicClock.nanoseconds() >= deadline { throw ControlError(code: ETIMEDOUT, timedOut()) }
            } catch {
                throw ControlError(error)
            }
        }
    }

    /// Runs SoC calls, turning their errors into ``ControlError``s.
    func socCall(_ body: () throws(SoCError) -> JSONObject) throws(ControlError) -> JSONObject {
        do {
            return try body()
        } catch {
            throw ControlError(error)
        }
    }
}

/// The crash kinds of ``EmulatedSoC/crash(_:_:)``.
typealias ControlBlockCrash = ControlBlock.CrashType

import AmpJSON
import AmpSystem
import Glibc

/// A connection to a running instance's control socket (docs/control-protocol.md): sends requests, reads
/// stream items and final replies, with timeouts. One request at a time: a client may be handed to another
/// thread, but not used from two threads at once.
///
/// ```swift
/// let client = try ControlClient.connect(name: "omap4", environment: env)
/// let list = try client.request("ls")
/// try client.request("events", ["count": 3]) { event in print(event) }
/// ```
public final class ControlClient: @unchecked Sendable {
    /// The instance's name.
    public let name: String
    /// The control socket.
    public let socketPath: String
    private let socket: UnixSocket
    private var buffer: [UInt8] = []
    private var nextID: Int64 = 1

    private init(name: String, socketPath: String, socket: UnixSocket) {
        self.name = name
        self.socketPath = socketPath
        self.socket = socket
    }

    deinit { socket.close() }

    // MARK: Connecting

    /// Connects to instance `name`, or, when nil, to the only running instance of this user.
    /// - Throws: ``ControlError`` ENOENT "no running ampsoc instance" (naming the runtime directory, and the
    ///   name when given), EINVAL when several run and none was named (listing them), EINVAL for a bad name.
    public static func connect(name: String?, environment: [String: String]) throws(ControlError) -> ControlClient {
        let runtime = RuntimeDirectory(path: RuntimeDirectory.candidatePath(environment: environment))
        guard let name else {
            let running = runningInstances(in: runtime)
            switch running.count {
            case 0: throw ControlError(code: ENOENT, "no running ampsoc instance (runtime directory \(runtime.path))")
            case 1: return try connect(name: running[0], runtime: runtime)
            default:
                throw ControlError(
                    code: EINVAL,
                    "several ampsoc instances are running (\(running.joined(separator: ", "))); choose one with --name",
                    field: "name")
            }
        }
        try InstanceName.validate(name)
        return try connect(name: name, runtime: runtime)
    }

    /// Connects to instance `name` in `runtime`.
    static func connect(name: String, runtime: RuntimeDirectory) throws(ControlError) -> ControlClient {
        let path = runtime.socketPath(for: name)
        if (try? FileAndSocketCalls.status(of: runtime.path)) != nil { try runtime.check() }
        do {
            return ControlClient(name: name, socketPath: path, socket: try UnixSocket.connect(to: path, kind: .stream))
        } catch where error.errno == ENOENT || error.errno == ECONNREFUSED {
            let others = runningInstances(in: runtime)
            throw ControlError(
                code: ENOENT,
                "no running ampsoc instance named '\(name)' (no one listens on \(path))"
                    + (others.isEmpty ? "" : "; running: \(others.joined(separator: ", "))"))
        } catch {
            throw ControlError(error, doing: "connecting to instance \(name)")
        }
    }

    /// Connects to a control socket by path.
    public static func connect(socketPath: String) throws(ControlError) -> ControlClient {
        do {
            let socket = try UnixSocket.connect(to: socketPath, kind: .stream)
            let file = socketPath.split(separator: "/").last.map(String.init) ?? socketPath
            return ControlClient(name: file.hasSuffix(".sock") ? String(file.dropLast(5)) : file, socketPath: socketPath, socket: socket)
        } catch {
            throw ControlError(error, doing: "connecting to \(socketPath)")
        }
    }

    /// Names of the instances of this user that accept connections now, sorted.
    public static func runningInstances(environment: [String: String]) -> [String] {
        runningInstances(in: RuntimeDirectory(path: RuntimeDirectory.candidatePath(environment: environment)))
    }

    static func runningInstances(in runtime: RuntimeDirectory) -> [String] {
        guard (try? runtime.check()) != nil else { return [] }
        return runtime.socketNames().filter { name in
            guard let probe = try? UnixSocket.connect(to: runtime.socketPath(for: name), kind: .stream) else { return false }
            probe.close()
            return true
        }
    }

    // MARK: Requests

    /// Sends request `op` with `arguments` and returns its result. Stream items go to `onEvent` as they
    /// arrive; when `onEvent` throws, the connection is closed (which ends the stream on the server) and
    /// the error is rethrown.
    ///
    /// - Parameter timeout: longest wait for each line of the answer (nil: no limit, for endless streams).
    /// - Throws: the request's error reply as a ``ControlError``; ETIMEDOUT or EPIPE/ECONNRESET for a
    ///   silent or vanished instance; EPROTO for a reply that is not the protocol.
    @discardableResult
    public func request(
        _ op: String, _ arguments: JSONObject = [:], timeout: Duration? = .seconds(30),
        onEvent: ((JSONObject) throws(ControlError) -> Void)? = nil
    ) throws(ControlError) -> JSONObject {
        let id = JSONValue.int(nextID)
        nextID += 1
        try send(ControlProtocol.line(ControlRequest(id: id, op: op, arguments: arguments).json))
        while true {
            let reply = try readReply(timeout: timeout)
            switch reply {
            case .event(let replyID, let event) where replyID == id:
                do {
                    try onEvent?(event)
                } catch {
                    close()
                    throw error
                }
            case .success(let replyID, let result) where replyID == id:
                return result
            case .failure(let replyID, let error) where replyID == id || replyID == .null:
                throw error
            default:
                throw ControlError(code: EPROTO, "reply for another request from instance \(name): \(JSONValue.object(reply.json).encoded())")
            }
        }
    }

    /// Writes raw bytes to the socket (tests of malformed input).
    public func send(_ bytes: [UInt8]) throws(ControlError) {
        do {
            try FileAndSocketCalls.sendAll(
                socket.fileDescriptor, bytes, deadline: MonotonicClock.deadline(after: ControlServer.writeTimeout),
                subject: socketPath)
        } catch {
            throw ControlError(error, doing: "instance \(name)")
        }
    }

    /// Reads the next line the server sends.
    /// - Throws: ETIMEDOUT after `timeout`, ECONNRESET when the instance closed the connection, EPROTO.
    public func readReply(timeout: Duration?) throws(ControlError) -> ControlReply {
        let deadline = MonotonicClock.deadline(after: timeout)
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                let line = Array(buffer[..<newline])
                buffer.removeSubrange(...newline)
                return try ControlReply.parse(line)
            }
            guard buffer.count <= ControlProtocol.maximumLineLength * 64 else {
                throw ControlError(code: EMSGSIZE, "reply line from instance \(name) is too long")
            }
            let remaining = deadline.map { $0 > MonotonicClock.nanoseconds() ? $0 - MonotonicClock.nanoseconds() : 0 }
            do {
                let readable = try socket.waitReadable(timeout: remaining.map { .nanoseconds(Int64(clamping: $0)) })
                guard readable else {
                    throw ControlError(code: ETIMEDOUT, "no reply from instance \(name) within \(ControlDispatcher.seconds(timeout ?? .zero))")
                }
                switch try socket.receive(maxLength: 64 * 1024, wait: true) {
                case .message(let bytes, _): buffer += bytes
                case .wouldBlock: continue
                case .closed: throw ControlError(code: ECONNRESET, "instance \(name) closed the connection (it stopped?)")
                }
            } catch let error as ControlError {
                throw error
            } catch let error as SystemError {
                throw ControlError(error, doing: "instance \(name)")
            } catch {
                throw ControlError(code: EIO, "instance \(name): \(error)")
            }
        }
    }

    /// Closes the connection (idempotent); a stream the server is sending ends.
    public func close() { socket.close() }
}

// The control protocol of a running ampsoc instance (full reference: docs/control-protocol.md).
//
// Transport: a UNIX stream socket, `<runtime dir>/<name>.sock` (mode 0600). Messages are JSON objects in
// UTF-8, one per line (terminated by "\n"; a trailing "\r" is ignored, empty lines are skipped). A line may
// hold at most 1 MiB (``ControlProtocol/maximumLineLength``); a longer one gets an EMSGSIZE error and the
// connection is closed.
//
//   request        {"id": 7, "op": "start", "rproc": "ipu"}             arguments are members beside "op"
//   success        {"id": 7, "ok": true, "result": {...}}
//   failure        {"id": 7, "ok": false, "error": {"errno": "ENODEV", "code": 19, "message": "...", "field": "rproc"}}
//   stream item    {"id": 7, "event": {...}}                           streaming ops only, before their final reply
//
// "id" is optional (an integer or a string, echoed as given; null when absent or unreadable). A connection
// carries one request at a time: the next request is read after the previous one's final reply. Every
// request gets exactly one final reply (ok true or false); streaming ops send zero or more stream items first.
// Unknown members, missing or ill-typed arguments are EINVAL errors naming the member in "field".

import AmpJSON
import Glibc

/// Constants and framing of the control protocol.
public enum ControlProtocol {
    /// The protocol version, returned by the `hello` op. Bumped on incompatible changes.
    public static let version = 1
    /// Longest request or reply line, newline excluded.
    public static let maximumLineLength = 1 << 20

    /// One line: the object's compact JSON and "\n".
    static func line(_ object: JSONObject) -> [UInt8] {
        Array(JSONValue.object(object).encoded().utf8) + [0x0A]
    }
}

/// A request read from a client: its id, op name and arguments (every member but "id" and "op").
public struct ControlRequest: Sendable, Equatable {
    /// The id to echo in replies (`.null` when absent).
    public var id: JSONValue
    /// The operation name ("ls", "start", ...).
    public var op: String
    /// The arguments.
    public var arguments: JSONObject

    public init(id: JSONValue = .null, op: String, arguments: JSONObject = [:]) {
        self.id = id
        self.op = op
        self.arguments = arguments
    }

    /// The request as one JSON object, `{"id":..,"op":..,...arguments}`.
    public var json: JSONObject {
        var object: JSONObject = ["id": id, "op": .string(op)]
        for member in arguments.members { object[member.key] = member.value }
        return object
    }

    /// Parses one request line.
    /// - Throws: a ``ControlRequestParseError`` holding the id (when one could be read) and the error:
    ///   EBADMSG for text that is not a JSON object, EINVAL naming "id" or "op".
    public static func parse(_ line: [UInt8]) throws(ControlRequestParseError) -> ControlRequest {
        let value: JSONValue
        do {
            value = try JSONValue.parse(line)
        } catch {
            throw ControlRequestParseError(id: .null, error: ControlError(code: EBADMSG, "malformed request: not JSON: \(error.description)"))
        }
        guard case .object(let object) = value else {
            throw ControlRequestParseError(id: .null, error: ControlError(code: EBADMSG, "malformed request: expected a JSON object, one per line"))
        }
        let id = object["id"] ?? .null
        switch id {
        case .null, .int, .uint, .string: break
        default:
            throw ControlRequestParseError(id: .null, error: .badArgument("id", "expected an integer or a string"))
        }
        guard let opValue = object["op"] else {
            throw ControlRequestParseError(id: id, error: .badArgument("op", "missing (the operation to run, e.g. \"ls\")"))
        }
        guard case .string(let op) = opValue else {
            throw ControlRequestParseError(id: id, error: .badArgument("op", "expected a string"))
        }
        var arguments = JSONObject()
        for member in object.members where member.key != "id" && member.key != "op" {
            arguments[member.key] = member.value
        }
        return ControlRequest(id: id, op: op, arguments: arguments)
    }
}

/// A request line that could not be read as a request, with the id to answer under.
public struct ControlRequestParseError: Error, Sendable {
    public var id: JSONValue
    public var error: ControlError
}

/// A line the server sends: a stream item or a final reply.
public enum ControlReply: Sendable, Equatable {
    /// A stream item of request `id`.
    case event(id: JSONValue, JSONObject)
    /// The successful final reply of request `id`.
    case success(id: JSONValue, JSONObject)
    /// The failed final reply of request `id`.
    case failure(id: JSONValue, ControlError)

    /// The reply as one JSON object.
    public var json: JSONObject {
        switch self {
        case .event(let id, let event): ["id": id, "event": .object(event)]
        case .success(let id, let result): ["id": id, "ok": .bool(true), "result": .object(result)]
        case .failure(let id, let error): ["id": id, "ok": .bool(false), "error": .object(Self.errorObject(error))]
        }
    }

    static func errorObject(_ error: ControlError) -> JSONObject {
        var object: JSONObject = ["errno": .string(error.errnoName), "code": .integer(error.code), "message": .string(error.message)]
        if let field = error.field { object["field"] = .string(field) }
        return object
    }

    /// Parses a line the server sent.
    /// - Throws: ``ControlError`` EPROTO naming what is wrong with the line.
    public static func parse(_ line: [UInt8]) throws(ControlError) -> ControlReply {
        let node: JSONNode
        do {
            node = JSONNode(try JSONValue.parse(line))
        } catch {
            throw ControlError(code: EPROTO, "malformed reply from the instance: \(error.description)")
        }
        do {
            let id = try node.object()["id"] ?? .null
            if let event = try node.optional("event") {
                return .event(id: id, try event.object())
            }
            if try node.required("ok").bool() {
                return .success(id: id, try node.optional("result")?.object() ?? [:])
            }
            let error = try node.required("error")
            let name = try error.required("errno").string()
            let code = try error.optional("code")?.integer(Int32.self) ?? ControlError.code(named: name) ?? EIO
            let field = try error.optional("field")?.string()
            return .failure(id: id, ControlError(code: code, try error.required("message").string(), field: field))
        } catch {
            throw ControlError(code: EPROTO, "malformed reply from the instance: \(error.description)")
        }
    }
}

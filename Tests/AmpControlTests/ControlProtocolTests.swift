@testable import AmpControl
import AmpJSON
import AmpRemoteproc
import AmpSoC
import Glibc
import Testing

/// The wire format of the control protocol: request parsing, reply encoding and parsing, argument checks,
/// payload encodings, instance names and event objects, without a running instance.
@Suite struct ControlProtocolTests {
    func parse(_ text: String) throws(ControlRequestParseError) -> ControlRequest {
        try ControlRequest.parse(Array(text.utf8))
    }

    func parseError(_ text: String) -> ControlRequestParseError? {
        do {
            _ = try parse(text)
            return nil
        } catch {
            return error
        }
    }

    @Test func requestsCarryIdOpAndArgumentsInOrder() throws {
        let request = try parse(#"{"id":7,"op":"start","rproc":"ipu"}"#)
        #expect(request.id == .int(7))
        #expect(request.op == "start")
        #expect(request.arguments == ["rproc": "ipu"])
        let named = try parse(#"{"op":"call","channel":"rpmsg-echo","hex":"00ff","id":"a-1"}"#)
        #expect(named.id == .string("a-1"))
        #expect(named.arguments.keys == ["channel", "hex"])
        #expect(try parse(#"{"op":"ls"}"#).id == .null)
        // Encoding puts id and op first.
        #expect(JSONValue.object(named.json).encoded() == #"{"id":"a-1","op":"call","channel":"rpmsg-echo","hex":"00ff"}"#)
    }

    @Test func malformedRequestsNameTheProblem() throws {
        let notJSON = try #require(parseError("{oops"))
        #expect(notJSON.id == .null)
        #expect(notJSON.error.code == EBADMSG)
        #expect(notJSON.error.message.hasPrefix("malformed request: not JSON: line 1, column 2"))
        #expect(parseError("[1,2]")?.error.code == EBADMSG)
        #expect(parseError(#""ls""#)?.error.message == "malformed request: expected a JSON object, one per line")

        let missingOp = try #require(parseError(#"{"id":3}"#))
        #expect(missingOp.id == .int(3))
        #expect(missingOp.error == ControlError(code: EINVAL, "op: missing (the operation to run, e.g. \"ls\")", field: "op"))
        #expect(parseError(#"{"id":3,"op":5}"#)?.error.field == "op")
        let badID = try #require(parseError(#"{"id":[1],"op":"ls"}"#))
        #expect(badID.error == ControlError(code: EINVAL, "id: expected an integer or a string", field: "id"))
    }

    @Test func repliesEncodeExactly() {
        #expect(ControlProtocol.line(ControlReply.success(id: .int(1), ["n": .int(2)]).json) == Array(#"{"id":1,"ok":true,"result":{"n":2}}"#.utf8) + [10])
        let failure = ControlReply.failure(id: .string("x"), ControlError(code: ENODEV, "dsp2: no such remote processor", field: nil))
        #expect(JSONValue.object(failure.json).encoded()
            == #"{"id":"x","ok":false,"error":{"errno":"ENODEV","code":19,"message":"dsp2: no such remote processor"}}"#)
        let argument = ControlReply.failure(id: .null, .badArgument("timeout", "expected a number of seconds, found a string"))
        #expect(JSONValue.object(argument.json).encoded()
            == #"{"id":null,"ok":false,"error":{"errno":"EINVAL","code":22,"message":"timeout: expected a number of seconds, found a string","field":"timeout"}}"#)
        #expect(JSONValue.object(ControlReply.event(id: .int(4), ["a": "b"]).json).encoded() == #"{"id":4,"event":{"a":"b"}}"#)
    }

    @Test func repliesParseBack() throws {
        let replies: [ControlReply] = [
            .success(id: .int(1), ["x": .array([.int(1)])]),
            .failure(id: .int(2), ControlError(code: EMSGSIZE, "too big", field: nil)),
            .failure(id: .string("q"), .badArgument("rproc", "missing (a string)")),
            .event(id: .int(3), ["event": "state"]),
        ]
        for reply in replies {
            #expect(try ControlReply.parse(Array(JSONValue.object(reply.json).encoded().utf8)) == reply)
        }
        // A peer that names only the errno still gets the number.
        let named = try ControlReply.parse(Array(#"{"id":1,"ok":false,"error":{"errno":"ETIMEDOUT","message":"m"}}"#.utf8))
        #expect(named == .failure(id: .int(1), ControlError(code: ETIMEDOUT, "m")))
        #expect(throws: ControlError.self) { try ControlReply.parse(Array("{".utf8)) }
        #expect((try? ControlReply.parse(Array(#"{"id":1}"#.utf8))) == nil)
    }

    @Test func argumentsAreCheckedByName() throws {
        let arguments = ControlArguments(object: ["rproc": "ipu", "timeout": .double(1.5), "count": .string("0x10"), "follow": .int(1)])
        #expect(try arguments.string("rproc") == "ipu")
        #expect(try arguments.seconds("timeout", default: .zero) == .milliseconds(1500))
        #expect(try arguments.integer("count", in: 1...100) == 16)
        #expect(throws: ControlError.badArgument("follow", "expected true or false, found a number")) {
            try arguments.bool("follow", default: false)
        }
        #expect(throws: ControlError.badArgument("name", "missing (a string)")) { try arguments.string("name") }
        #expect(throws: ControlError.badArgument("timeout", "unknown argument (this op takes: rproc)")) {
            try ControlArguments(object: ["rproc": "ipu", "timeout": .int(1)]).allow(["rproc"])
        }
        #expect(throws: ControlError.badArgument("timeout", "-1.0 is out of range (0...86400 seconds)")) {
            try ControlArguments(object: ["timeout": .int(-1)]).seconds("timeout", default: .zero)
        }
        #expect(throws: ControlError.badArgument("kind", "invalid value \"boom\": expected one of mmufault, watchdog")) {
            try ControlArguments(object: ["kind": "boom"]).choice("kind", ["mmufault", "watchdog"])
        }
    }

    @Test func payloadsAreTextOrHex() throws {
        #expect(try ControlArguments(object: ["data": "hé"]).payload() == [0x68, 0xC3, 0xA9])
        #expect(try ControlArguments(object: ["hex": "00FF10"]).payload() == [0x00, 0xFF, 0x10])
        #expect(try ControlArguments(object: ["hex": ""]).payload() == [])
        #expect(throws: ControlError.badArgument("hex", "expected an even number of hex digits (e.g. \"00ff10\")")) {
            try ControlArguments(object: ["hex": "abc"]).payload()
        }
        #expect(throws: ControlError.badArgument("hex", "give either \"data\" or \"hex\", not both")) {
            try ControlArguments(object: ["hex": "00", "data": "x"]).payload()
        }
        #expect((try? ControlArguments(object: [:]).payload()) == nil)
        #expect(HexPayload.encode([0, 0xAB, 0x7F]) == "00ab7f")
        #expect(HexPayload.decode("0g") == nil)

        let message = ControlJSON.message(SoCMessage(payload: [0x68, 0x69], source: 1024))
        #expect(JSONValue.object(message).encoded() == #"{"src":1024,"length":2,"hex":"6869","data":"hi"}"#)
        let binary = ControlJSON.message(SoCMessage(payload: [0xFF, 0x00], source: 0xFFFF_FFFF))
        #expect(JSONValue.object(binary).encoded() == #"{"src":-1,"length":2,"hex":"ff00","data":null}"#)
    }

    @Test func instanceNamesAreValidatedAndSanitized() {
        #expect(InstanceName.isValid("omap4"))
        #expect(InstanceName.isValid("a.b_c-9"))
        #expect(!InstanceName.isValid(""))
        #expect(!InstanceName.isValid(".hidden"))
        #expect(!InstanceName.isValid(String(repeating: "x", count: 33)))
        #expect(throws: ControlError(
            code: EINVAL, "invalid instance name 'a/b': character '/' not allowed (use A-Z, a-z, 0-9, '.', '_', '-')", field: "name")) {
            try InstanceName.validate("a/b")
        }
        #expect(InstanceName.sanitized("my soc/2") == "my_soc_2")
        #expect(InstanceName.sanitized(".x") == "_x")
        #expect(InstanceName.sanitized("") == "ampsoc")
        #expect(InstanceName.sanitized(String(repeating: "y", count: 40)).count == 32)
    }

    @Test func eventObjectsReadBackIntoHostEvents() {
        let events: [HostEvent] = [
            .state(rproc: "ipu", state: .crashed), .crash(rproc: "ipu", type: "mmufault", detail: "d"),
            .trace(rproc: "dsp", text: "t"), .coredump(rproc: "dsp", path: "/p"), .error(rproc: nil, message: "e"),
            .info(rproc: "ipu", message: "i"), .channel(rproc: "dsp", action: .create, name: "rpmsg-echo", src: 0xFFFF_FFFF, dst: 1024),
            .driver(driver: "rpmsg_client_sample", channel: "dev", text: "x"),
        ]
        for event in events {
            guard case .object(let object) = event.json else { Issue.record("not an object"); continue }
            #expect(HostEventDecoding.event(from: object) == event)
        }
        #expect(HostEventDecoding.event(from: ["event": "nonsense"]) == nil)
    }
}

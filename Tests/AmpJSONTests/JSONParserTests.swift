import Testing

import AmpJSON

@Suite("JSONTests")
struct JSONTests {
    // MARK: Values

    @Test(arguments: [
        ("null", JSONValue.null),
        ("true", .bool(true)),
        ("false", .bool(false)),
        ("0", .int(0)),
        ("-0", .int(0)),
        ("42", .int(42)),
        ("-17", .int(-17)),
        ("1.5", .double(1.5)),
        ("-0.0", .double(-0.0)),
        ("1e3", .double(1000)),
        ("1E+2", .double(100)),
        ("-1.25e-2", .double(-0.0125)),
        ("1e-400", .double(0)),
        ("\"hi\"", .string("hi")),
        ("\"\"", .string("")),
        (" \t\r\n[ ] \n", .array([])),
        ("{}", .object(JSONObject())),
    ])
    func scalarsAndEmptyContainers(text: String, expected: JSONValue) throws {
        #expect(try JSONValue.parse(text) == expected)
    }

    @Test func integerEdges() throws {
        #expect(try JSONValue.parse("9223372036854775807") == .int(Int64.max))
        #expect(try JSONValue.parse("-9223372036854775808") == .int(Int64.min))
        #expect(try JSONValue.parse("9223372036854775808") == .uint(UInt64(Int64.max) + 1))
        #expect(try JSONValue.parse("18446744073709551615") == .uint(UInt64.max))
        // Beyond 64 bits a number is kept only approximately.
        #expect(try JSONValue.parse("18446744073709551616") == .double(18_446_744_073_709_551_616.0))
        #expect(try JSONValue.parse("-9223372036854775809") == .double(-9_223_372_036_854_775_809.0))
        // A fraction or exponent always makes a double, even when the value is integral.
        #expect(try JSONValue.parse("9223372036854775807.0") == .double(9_223_372_036_854_775_807.0))
    }

    @Test func nestedDocumentKeepsKeyOrder() throws {
        let value = try JSONValue.parse(#"{"b": 1, "a": [true, null, {"z": "x", "y": -2}], "c": {}}"#)
        let inner: JSONObject = ["z": .string("x"), "y": .int(-2)]
        let expected: JSONObject = ["b": .int(1), "a": .array([.bool(true), .null, .object(inner)]), "c": .object(JSONObject())]
        #expect(value == .object(expected))
        guard case .object(let object) = value else {
            Issue.record("not an object")
            return
        }
        #expect(object.keys == ["b", "a", "c"])
    }

    @Test func escapes() throws {
        #expect(try JSONValue.parse(#""\"\\\/\b\f\n\r\t""#) == .string("\"\\/\u{08}\u{0C}\n\r\t"))
        #expect(try JSONValue.parse(#""\u0041\u00e9\u00E9\u20AC""#) == .string("Aéé€"))
        #expect(try JSONValue.parse(#""\u0000x""#) == .string("\u{0}x"))
        #expect(try JSONValue.parse(#""\uD83D\uDE00""#) == .string("😀"))
        #expect(try JSONValue.parse(#""\udbff\udfff""#) == .string("\u{10FFFF}"))
        #expect(try JSONValue.parse(#""a\uD834\uDD1Eb""#) == .string("a𝄞b"))
        // Raw UTF-8 and DEL need no escaping.
        #expect(try JSONValue.parse("\"é😀\u{7F}\"") == .string("é😀\u{7F}"))
    }

    @Test func byteInputAndByteOrderMark() throws {
        #expect(try JSONValue.parse(Array("[1]".utf8)) == .array([.int(1)]))
        #expect(try JSONValue.parse([0xEF, 0xBB, 0xBF] + Array("{\"a\":1}".utf8)) == .object(["a": .int(1)]))
        #expect(try JSONValue.parse([0x22, 0xC3, 0xA9, 0xF0, 0x9F, 0x98, 0x80, 0x22]) == .string("é😀"))
    }

    @Test func largeContainers() throws {
        let count = 20000
        let array = "[" + (0..<count).map(String.init).joined(separator: ",") + "]"
        guard case .array(let elements) = try JSONValue.parse(array) else {
            Issue.record("not an array")
            return
        }
        #expect(elements.count == count)
        #expect(elements.last == .int(Int64(count - 1)))
        let object = "{" + (0..<count).map { "\"k\($0)\":\($0)" }.joined(separator: ",") + "}"
        guard case .object(let members) = try JSONValue.parse(object) else {
            Issue.record("not an object")
            return
        }
        #expect(members.keys.count == count)
        #expect(members["k19999"] == .int(19999))
    }

    // MARK: Depth

    @Test func depthLimit() throws {
        let deepest = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)
        #expect(throws: Never.self) { try JSONValue.parse(deepest) }
        let tooDeep = String(repeating: "[", count: 513) + String(repeating: "]", count: 513)
        #expect(throws: JSONSyntaxError(line: 1, column: 513, offset: 512, message: "nesting is deeper than the limit of 512 levels")) {
            try JSONValue.parse(tooDeep)
        }
        // Hostile input fails at the limit without exhausting the stack.
        #expect(throws: JSONSyntaxError(line: 1, column: 513, offset: 512, message: "nesting is deeper than the limit of 512 levels")) {
            try JSONValue.parse(String(repeating: "[", count: 1_000_000))
        }
    }

    @Test func customDepthLimit() throws {
        #expect(try JSONValue.parse("[[1]]", maxDepth: 2) == .array([.array([.int(1)])]))
        #expect(throws: JSONSyntaxError(line: 1, column: 3, offset: 2, message: "nesting is deeper than the limit of 2 levels")) {
            try JSONValue.parse("[[[1]]]", maxDepth: 2)
        }
        #expect(throws: JSONSyntaxError(line: 1, column: 11, offset: 10, message: "nesting is deeper than the limit of 2 levels")) {
            try JSONValue.parse(#"{"a":{"b":{}}}"#, maxDepth: 2)
        }
        #expect(try JSONValue.parse("7", maxDepth: 0) == .int(7))
        #expect(throws: JSONSyntaxError(line: 1, column: 1, offset: 0, message: "nesting is deeper than the limit of 0 levels")) {
            try JSONValue.parse("[]", maxDepth: 0)
        }
    }

    // MARK: Round trips

    @Test(arguments: [
        #"{"name":"soc","cores":[1,2,3],"nested":{"x":null,"y":true,"z":-5},"big":18446744073709551615,"f":0.5}"#,
        #"["a\"b\\c\nd\u0001\u001f","é😀",-9223372036854775808,9223372036854775807,false,[],{}]"#,
        #"[0.1,1.5e+300,1e-07,-2.5]"#,
        #"{"":{"":[[[null]]]}}"#,
    ])
    func compactTextRoundTrip(text: String) throws {
        #expect(try JSONValue.parse(text).encoded() == text)
    }

    @Test func prettyOutputParsesBack() throws {
        let value = JSONValue.object([
            "name": .string("m4\tcore"),
            "memory": .array([.object(["da": .uint(UInt64.max), "len": .int(Int64.min)]), .array([])]),
            "empty": .object(JSONObject()),
            "ratio": .double(0.25),
        ])
        let pretty = value.encoded(pretty: true)
        #expect(pretty.contains("\n  \"memory\": [\n"))
        #expect(try JSONValue.parse(pretty) == value)
        #expect(try JSONValue.parse(value.encoded()) == value)
    }

    @Test func everyControlCharacterRoundTrips() throws {
        let all = String(String.UnicodeScalarView((0..<0x80).compactMap(Unicode.Scalar.init)))
        let value = JSONValue.string(all)
        #expect(try JSONValue.parse(value.encoded()) == value)
    }
}

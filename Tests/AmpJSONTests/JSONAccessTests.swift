import Testing

import AmpJSON

extension JSONTests {
    static let profile = """
        {
          "name": "demo",
          "remoteprocs": [
            {"name": "m4", "memory": [{"da": "0x9D000000", "len": 4096}]},
            {"name": "r5", "memory": [{"da": 1, "len": 2}, {"da": "zz", "len": 3}], "trace": null}
          ],
          "weird key": true,
          "ratio": 0.5,
          "count": 1e3
        }
        """

    static func root() throws -> JSONNode {
        JSONNode(try JSONValue.parse(profile))
    }

    /// The error thrown by `body`, which must throw a JSONDecodingError.
    static func decodingError(_ body: () throws -> Void) -> JSONDecodingError? {
        do {
            try body()
            Issue.record("no error thrown")
            return nil
        } catch let error as JSONDecodingError {
            return error
        } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }

    /// The description of the JSONDecodingError thrown by `body`.
    static func failure(_ body: () throws -> Void) -> String {
        decodingError(body)?.description ?? "(no error)"
    }

    // MARK: Paths

    @Test func pathDescriptions() {
        #expect(JSONPath.root.description == "$")
        let path = JSONPath.root.appending(key: "remoteprocs").appending(index: 1).appending(key: "memory")
            .appending(index: 0).appending(key: "da")
        #expect(path.description == "$.remoteprocs[1].memory[0].da")
        #expect(path.components == [.key("remoteprocs"), .index(1), .key("memory"), .index(0), .key("da")])
        #expect(JSONPath.root.appending(key: "with space").description == #"$["with space"]"#)
        #expect(JSONPath.root.appending(key: "9lives").description == #"$["9lives"]"#)
        #expect(JSONPath.root.appending(key: "a\"b").description == #"$["a\"b"]"#)
        #expect(JSONPath.root.appending(key: "").description == #"$[""]"#)
        #expect(JSONPath.root.appending(key: "_x9").description == "$._x9")
        #expect(JSONPath.root.appending(key: "é").description == #"$["é"]"#)
    }

    // MARK: Navigation

    @Test func navigationAndPaths() throws {
        let root = try Self.root()
        #expect(try root.required("name").string() == "demo")
        let procs = try root.required("remoteprocs").array()
        #expect(procs.count == 2)
        #expect(procs[1].path.description == "$.remoteprocs[1]")
        let memory = try procs[0].required("memory").array()
        let da = try memory[0].required("da")
        #expect(da.path.description == "$.remoteprocs[0].memory[0].da")
        #expect(try da.uint32() == 0x9D00_0000)
        #expect(try memory[0].required("len").int() == 4096)
        #expect(try root.required("ratio").double() == 0.5)
        #expect(try root.required("count").double() == 1000)
        #expect(try memory[0].required("len").double() == 4096)
        #expect(try root.required("weird key").bool() == true)
    }

    @Test func optionalMembers() throws {
        let procs = try Self.root().required("remoteprocs").array()
        #expect(try procs[1].optional("trace") == nil)  // null counts as absent
        #expect(try procs[1].optional("nothing") == nil)
        #expect(try procs[0].optional("name")?.string() == "m4")
        #expect(try procs[1].required("trace").isNull)  // but it exists
        #expect(Self.failure { _ = try JSONNode(.int(3)).optional("x") } == "$: expected an object, found the integer 3")
    }

    @Test func membersInDocumentOrder() throws {
        let members = try JSONNode(try JSONValue.parse(#"{"z":1,"a":{"b":2}}"#)).members()
        #expect(members.map(\.key) == ["z", "a"])
        #expect(members[1].node.path.description == "$.a")
        #expect(try members[1].node.required("b").int() == 2)
    }

    @Test func missingKeys() throws {
        let root = try Self.root()
        #expect(Self.failure { _ = try root.required("missing") } == #"$: missing required key "missing""#)
        let proc = try root.required("remoteprocs").array()[0]
        #expect(Self.failure { _ = try proc.required("cores") } == #"$.remoteprocs[0]: missing required key "cores""#)
        let error = Self.decodingError { _ = try proc.required("cores") }
        #expect(error == JSONDecodingError(path: JSONPath([.key("remoteprocs"), .index(0)]), reason: #"missing required key "cores""#))
    }

    @Test func unknownKeys() throws {
        let root = try Self.root()
        #expect(throws: Never.self) {
            try root.rejectUnknownKeys(allowed: ["name", "remoteprocs", "weird key", "ratio", "count"])
        }
        #expect(Self.failure { try root.rejectUnknownKeys(allowed: ["name", "remoteprocs", "ratio", "count"]) }
            == #"$["weird key"]: unknown key (allowed: name, remoteprocs, ratio, count)"#)
        let memory = try root.required("remoteprocs").array()[1].required("memory").array()[1]
        #expect(Self.failure { try memory.rejectUnknownKeys(allowed: ["da"]) }
            == "$.remoteprocs[1].memory[1].len: unknown key (allowed: da)")
        #expect(Self.failure { try JSONNode(.object(["a": .int(1)])).rejectUnknownKeys(allowed: []) }
            == "$.a: unknown key (allowed: none)")
        #expect(Self.failure { try JSONNode(.array([])).rejectUnknownKeys(allowed: ["a"]) }
            == "$: expected an object, found an array")
    }

    // MARK: Type mismatches

    @Test func typeMismatches() throws {
        let root = try Self.root()
        let name = try root.required("name")
        let procs = try root.required("remoteprocs")
        let ratio = try root.required("ratio")
        #expect(Self.failure { _ = try procs.object() } == "$.remoteprocs: expected an object, found an array")
        #expect(Self.failure { _ = try procs.string() } == "$.remoteprocs: expected a string, found an array")
        #expect(Self.failure { _ = try name.bool() } == #"$.name: expected a boolean, found the string "demo""#)
        #expect(Self.failure { _ = try ratio.array() } == "$.ratio: expected an array, found the number 0.5")
        #expect(Self.failure { _ = try root.required("weird key").double() }
            == #"$["weird key"]: expected a number, found the boolean true"#)
        #expect(Self.failure { _ = try root.double() } == "$: expected a number, found an object")
        #expect(Self.failure { _ = try JSONNode(.array([])).required("x") } == "$: expected an object, found an array")
        #expect(Self.failure { _ = try JSONNode(.null).string() } == "$: expected a string, found null")
        let long = String(repeating: "x", count: 50)
        #expect(Self.failure { _ = try JSONNode(.string(long)).bool() }
            == "$: expected a boolean, found the string \"\(String(repeating: "x", count: 40))...\"")
    }

    // MARK: Integers

    @Test func integerMismatches() throws {
        let root = try Self.root()
        #expect(Self.failure { _ = try root.required("name").int() }
            == #"$.name: expected an integer or a hex string like "0x1000", found the string "demo""#)
        #expect(Self.failure { _ = try root.required("ratio").int() }
            == "$.ratio: expected an integer, found 0.5 (a number with a fraction or exponent)")
        #expect(Self.failure { _ = try root.required("count").uint32() }
            == "$.count: expected an integer, found 1000.0 (a number with a fraction or exponent)")
        let badDA = try root.required("remoteprocs").array()[1].required("memory").array()[1].required("da")
        #expect(Self.failure { _ = try badDA.uint64() }
            == #"$.remoteprocs[1].memory[1].da: expected an integer or a hex string like "0x1000", found the string "zz""#)
        #expect(Self.failure { _ = try JSONNode(.bool(true)).int() } == "$: expected an integer, found the boolean true")
        #expect(Self.failure { _ = try JSONNode(.null).uint64() } == "$: expected an integer, found null")
        #expect(Self.failure { _ = try JSONNode(.array([])).uint32() } == "$: expected an integer, found an array")
    }

    @Test func integerRanges() throws {
        #expect(try JSONNode(.int(Int64.min)).int() == Int.min)
        #expect(try JSONNode(.int(Int64.max)).uint64() == UInt64(Int64.max))
        #expect(try JSONNode(.uint(UInt64.max)).uint64() == UInt64.max)
        #expect(try JSONNode(.int(0xFFFF_FFFF)).uint32() == 0xFFFF_FFFF)
        #expect(Self.failure { _ = try JSONNode(.int(-1)).uint32() } == "$: -1 is out of range for UInt32 (0...4294967295)")
        #expect(Self.failure { _ = try JSONNode(.int(-1)).uint64() }
            == "$: -1 is out of range for UInt64 (0...18446744073709551615)")
        #expect(Self.failure { _ = try JSONNode(.int(4_294_967_296)).uint32() }
            == "$: 4294967296 is out of range for UInt32 (0...4294967295)")
        #expect(Self.failure { _ = try JSONNode(.uint(UInt64.max)).int() }
            == "$: 18446744073709551615 is out of range for Int (-9223372036854775808...9223372036854775807)")
        #expect(Self.failure { _ = try JSONNode(.int(300)).integer(UInt8.self) } == "$: 300 is out of range for UInt8 (0...255)")
        #expect(try JSONNode(.int(-128)).integer(Int8.self) == -128)
    }

    @Test func hexStrings() throws {
        #expect(try JSONNode(.string("0xFFFFFFFF")).uint32() == 0xFFFF_FFFF)
        #expect(try JSONNode(.string("0X1f")).int() == 31)
        #expect(try JSONNode(.string("0x0")).uint64() == 0)
        #expect(try JSONNode(.string("0x00000000000000000000ffffffffffffffff")).uint64() == UInt64.max)
        #expect(try JSONNode(.string("0x9d000000")).integer(UInt64.self) == 0x9D00_0000)
        #expect(Self.failure { _ = try JSONNode(.string("0x100000000")).uint32() }
            == "$: 0x100000000 is out of range for UInt32 (largest 0xFFFFFFFF)")
        #expect(Self.failure { _ = try JSONNode(.string("0x80")).integer(Int8.self) }
            == "$: 0x80 is out of range for Int8 (largest 0x7F)")
        #expect(Self.failure { _ = try JSONNode(.string("0x10000000000000000")).uint64() }
            == "$: hex value 0x10000000000000000 does not fit in 64 bits")
        for notHex in ["0x", "0x12g", "123", "-0x1", " 0x1", "0x1 ", "x10", ""] {
            #expect(Self.failure { _ = try JSONNode(.string(notHex)).uint64() }
                == "$: expected an integer or a hex string like \"0x1000\", found the string \(JSONValue.string(notHex).encoded())")
        }
    }

    @Test func customErrorsAtNodePath() throws {
        let da = try Self.root().required("remoteprocs").array()[0].required("memory").array()[0].required("da")
        let error = da.error("must be aligned to 4096")
        #expect(error.description == "$.remoteprocs[0].memory[0].da: must be aligned to 4096")
        #expect(error.path == da.path)
        #expect(error.reason == "must be aligned to 4096")
    }
}

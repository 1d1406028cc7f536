// Typed, path-aware reading of parsed JSON for data files such as SoC profiles. A JSONNode is a value plus
// the path where it was found; every accessor either returns the expected type or throws a
// JSONDecodingError naming that path, e.g. `$.remoteprocs[1].memory[0].da: expected an integer, found a string`.
//
//     let root = JSONNode(try JSONValue.parse(text))
//     try root.rejectUnknownKeys(allowed: ["name", "remoteprocs"])
//     let name = try root.required("name").string()
//     for proc in try root.required("remoteprocs").array() {
//         let base = try proc.required("base").uint64()      // 4096, or "0x9D000000"
//         let trace = try proc.optional("trace")?.bool() ?? false
//     }

/// A JSON value together with its path in the document, for decoding with precise errors.
public struct JSONNode: Sendable {
    /// The value at `path`.
    public let value: JSONValue
    /// Where `value` is in the document.
    public let path: JSONPath

    /// A node for `value`; a whole document is at the root path `$`.
    public init(_ value: JSONValue, path: JSONPath = .root) {
        self.value = value
        self.path = path
    }

    /// An error at this node's path, for checks the accessors cannot make (ranges, cross-field rules).
    public func error(_ reason: String) -> JSONDecodingError {
        JSONDecodingError(path: path, reason: reason)
    }

    /// Whether the value is `null`.
    public var isNull: Bool { value == .null }

    // MARK: Objects

    /// The value as an object.
    public func object() throws(JSONDecodingError) -> JSONObject {
        guard case .object(let object) = value else { throw mismatch(expected: "an object") }
        return object
    }

    /// The member `key`, which must exist (it may be `null`).
    ///
    /// - Throws: when this is not an object, or when `key` is missing (reported at this object's path).
    public func required(_ key: String) throws(JSONDecodingError) -> JSONNode {
        guard let member = try optionalMember(key) else {
            throw error("missing required key \(JSONValue.string(key).encoded())")
        }
        return member
    }

    /// The member `key`, or nil when it is missing or `null`.
    ///
    /// - Throws: when this is not an object.
    public func optional(_ key: String) throws(JSONDecodingError) -> JSONNode? {
        guard let member = try optionalMember(key), !member.isNull else { return nil }
        return member
    }

    /// Every member in document order, for objects used as maps (keys chosen by the author).
    public func members() throws(JSONDecodingError) -> [(key: String, node: JSONNode)] {
        try object().members.map { (key: $0.key, node: JSONNode($0.value, path: path.appending(key: $0.key))) }
    }

    /// Throws for the first member whose key is not in `allowed`, at that member's path, so a misspelt
    /// key is reported instead of silently ignored.
    public func rejectUnknownKeys(allowed: [String]) throws(JSONDecodingError) {
        for key in try object().keys where !allowed.contains(key) {
            let list = allowed.isEmpty ? "none" : allowed.joined(separator: ", ")
            throw JSONDecodingError(path: path.appending(key: key), reason: "unknown key (allowed: \(list))")
        }
    }

    private func optionalMember(_ key: String) throws(JSONDecodingError) -> JSONNode? {
        guard let member = try object()[key] else { return nil }
        return JSONNode(member, path: path.appending(key: key))
    }

    // MARK: Arrays

    /// The elements, each with its indexed path.
    public func array() throws(JSONDecodingError) -> [JSONNode] {
        guard case .array(let elements) = value else { throw mismatch(expected: "an array") }
        return elements.enumerated().map { JSONNode($0.element, path: path.appending(index: $0.offset)) }
    }

    // MARK: Scalars

    public func string() throws(JSONDecodingError) -> String {
        guard case .string(let string) = value else { throw mismatch(expected: "a string") }
        return string
    }

    public func bool() throws(JSONDecodingError) -> Bool {
        guard case .bool(let bool) = value else { throw mismatch(expected: "a boolean") }
        return bool
    }

    /// The value as a Double; integers are converted (rounding above 2^53).
    public func double() throws(JSONDecodingError) -> Double {
        switch value {
        case .double(let double): return double
        case .int(let int): return Double(int)
        case .uint(let uint): return Double(uint)
        default: throw mismatch(expected: "a number")
        }
    }

    /// "expected X, found Y" at this path.
    func mismatch(expected: String) -> JSONDecodingError {
        error("expected \(expected), found \(kindDescription)")
    }

    /// What the value is, for error messages: "a string", "null", ...
    var kindDescription: String {
        switch value {
        case .null: return "null"
        case .bool(let bool): return "the boolean \(bool)"
        case .int, .uint: return "the integer \(value.encoded())"
        case .double(let double): return "the number \(double)"
        case .string(let string):
            let shown = string.count > 40 ? String(string.prefix(40)) + "..." : string
            return "the string \(JSONValue.string(shown).encoded())"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

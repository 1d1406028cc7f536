import AmpJSON
import Glibc

/// Typed access to a request's arguments; every failure is an EINVAL ``ControlError`` naming the member.
struct ControlArguments {
    let object: JSONObject

    /// Throws for the first member not in `allowed` (a misspelt argument is reported, not ignored).
    func allow(_ allowed: [String]) throws(ControlError) {
        for key in object.keys where !allowed.contains(key) {
            let list = allowed.isEmpty ? "none" : allowed.joined(separator: ", ")
            throw .badArgument(key, "unknown argument (this op takes: \(list))")
        }
    }

    private func member(_ key: String) -> JSONValue? {
        guard let value = object[key], value != .null else { return nil }
        return value
    }

    /// A required non-empty string.
    func string(_ key: String) throws(ControlError) -> String {
        guard let text = try optionalString(key) else { throw .badArgument(key, "missing (a string)") }
        return text
    }

    /// An optional string (absent or null: nil); an empty string is refused.
    func optionalString(_ key: String) throws(ControlError) -> String? {
        guard let value = member(key) else { return nil }
        guard case .string(let text) = value else { throw .badArgument(key, "expected a string, found \(kind(value))") }
        guard !text.isEmpty else { throw .badArgument(key, "must not be empty") }
        return text
    }

    /// One of `choices`.
    func choice(_ key: String, _ choices: [String]) throws(ControlError) -> String {
        let text = try string(key)
        guard choices.contains(text) else {
            throw .badArgument(key, "invalid value \"\(text)\": expected one of \(choices.joined(separator: ", "))")
        }
        return text
    }

    /// A boolean, `defaultValue` when absent.
    func bool(_ key: String, default defaultValue: Bool) throws(ControlError) -> Bool {
        guard let value = member(key) else { return defaultValue }
        guard case .bool(let flag) = value else { throw .badArgument(key, "expected true or false, found \(kind(value))") }
        return flag
    }

    /// A required boolean.
    func requiredBool(_ key: String) throws(ControlError) -> Bool {
        guard member(key) != nil else { throw .badArgument(key, "missing (true or false)") }
        return try bool(key, default: false)
    }

    /// A duration in seconds (a non-negative number up to a day), `defaultValue` when absent.
    func seconds(_ key: String, default defaultValue: Duration) throws(ControlError) -> Duration {
        guard let value = member(key) else { return defaultValue }
        let number: Double
        switch value {
        case .int(let int): number = Double(int)
        case .uint(let uint): number = Double(uint)
        case .double(let double): number = double
        default: throw .badArgument(key, "expected a number of seconds, found \(kind(value))")
        }
        guard number.isFinite, number >= 0, number <= 86_400 else {
            throw .badArgument(key, "\(number) is out of range (0...86400 seconds)")
        }
        return .nanoseconds(Int64(number * 1e9))
    }

    /// An unsigned integer within `range`, nil when absent; a JSON integer or a "0x..." string.
    func integer(_ key: String, in range: ClosedRange<UInt64>) throws(ControlError) -> UInt64? {
        guard let value = member(key) else { return nil }
        let number: UInt64?
        switch value {
        case .int(let int): number = UInt64(exactly: int)
        case .uint(let uint): number = uint
        case .string(let text) where text.lowercased().hasPrefix("0x"): number = UInt64(text.dropFirst(2), radix: 16)
        default: throw .badArgument(key, "expected an integer, found \(kind(value))")
        }
        guard let number, range.contains(number) else {
            throw .badArgument(key, "out of range (\(range.lowerBound)...\(range.upperBound))")
        }
        return number
    }

    /// A payload: exactly one of "data" (a string, sent as its UTF-8 bytes) and "hex" (an even number of
    /// hex digits).
    func payload() throws(ControlError) -> [UInt8] {
        let text = member("data")
        let hex = member("hex")
        switch (text, hex) {
        case (nil, nil): throw .badArgument("data", "missing: give \"data\" (text) or \"hex\" (hex digits)")
        case (.some, .some): throw .badArgument("hex", "give either \"data\" or \"hex\", not both")
        case (.some(let value), nil):
            guard case .string(let string) = value else { throw .badArgument("data", "expected a string, found \(kind(value))") }
            return Array(string.utf8)
        case (nil, .some(let value)):
            guard case .string(let string) = value else { throw .badArgument("hex", "expected a string, found \(kind(value))") }
            guard let bytes = HexPayload.decode(string) else {
                throw .badArgument("hex", "expected an even number of hex digits (e.g. \"00ff10\")")
            }
            return bytes
        }
    }

    private func kind(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool: "a boolean"
        case .int, .uint, .double: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

/// Hex text of payloads: lowercase on output, either case on input; whitespace is not allowed.
public enum HexPayload {
    /// Lowercase hex digits, two per byte.
    public static func encode(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes of an even-length hex string, nil for anything else.
    public static func decode(_ text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var bytes = [UInt8]()
        bytes.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = digit(utf8[index]), let low = digit(utf8[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func digit(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

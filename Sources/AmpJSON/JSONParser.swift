// A strict RFC 8259 JSON parser over UTF-8 bytes.
//
// Accepted: exactly one value surrounded by optional whitespace (space, tab, LF, CR); a leading UTF-8
// byte order mark is skipped (RFC 8259 section 8.1 allows ignoring it). Rejected, with the line and column
// of the first offending character: trailing garbage, trailing commas, comments, single quotes, leading
// zeros, `+1`, `.5`, `1.`, NaN/Infinity, numbers too large for a Double, unescaped control characters,
// unknown escapes, lone UTF-16 surrogates, invalid UTF-8, duplicate object keys, and nesting deeper than
// `maxDepth` containers.
//
// Numbers without fraction or exponent stay exact: `.int` when they fit Int64, `.uint` up to UInt64.max;
// larger integers, and numbers with a fraction or exponent, become `.double`.
//
// The parser keeps an explicit stack of open containers instead of recursing, so hostile nesting costs
// memory bounded by `maxDepth`, never the thread's stack.

extension JSONValue {
    /// Nesting limit used when none is given: deeper documents are rejected as hostile.
    public static let defaultMaxDepth = 512

    /// Parses a JSON document.
    ///
    /// - Parameter maxDepth: most containers (arrays and objects) that may be nested inside each other.
    /// - Throws: `JSONSyntaxError` naming the line and column of the first problem.
    public static func parse(_ text: String, maxDepth: Int = defaultMaxDepth) throws(JSONSyntaxError) -> JSONValue {
        try parse(Array(text.utf8), maxDepth: maxDepth)
    }

    /// Parses a JSON document from UTF-8 bytes (invalid UTF-8 is a syntax error).
    ///
    /// - Parameter maxDepth: most containers (arrays and objects) that may be nested inside each other.
    /// - Throws: `JSONSyntaxError` naming the line and column of the first problem.
    public static func parse(_ bytes: [UInt8], maxDepth: Int = defaultMaxDepth) throws(JSONSyntaxError) -> JSONValue {
        var parser = JSONParser(bytes: bytes, maxDepth: maxDepth)
        return try parser.parseDocument()
    }
}

/// Parsing state: the input and a read position.
struct JSONParser {
    private let bytes: [UInt8]
    private let maxDepth: Int
    private var position = 0

    init(bytes: [UInt8], maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    /// A container whose closing bracket has not been read yet.
    private struct OpenContainer {
        var isObject: Bool
        var elements: [JSONValue] = []
        var members: [(key: String, value: JSONValue)] = []
        var keys: Set<String> = []
        /// Key of the member whose value is being parsed (objects only).
        var pendingKey = ""
    }

    mutating func parseDocument() throws(JSONSyntaxError) -> JSONValue {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { position = 3 }
        let value = try parseValue()
        skipWhitespace()
        guard position == bytes.count else { throw failure(expected: "end of input") }
        return value
    }

    // MARK: Values and containers

    /// Parses one value, including everything nested inside it.
    private mutating func parseValue() throws(JSONSyntaxError) -> JSONValue {
        var open: [OpenContainer] = []
        while true {
            // Read the start of a value: a scalar, an empty container, or the opening of a container whose
            // first element is read by the next turn of this loop.
            skipWhitespace()
            var value: JSONValue
            switch peek() {
            case UInt8(ascii: "["):
                try checkDepth(open.count + 1)
                position += 1
                skipWhitespace()
                if peek() == UInt8(ascii: "]") {
                    position += 1
                    value = .array([])
                } else {
                    open.append(OpenContainer(isObject: false))
                    continue
                }
            case UInt8(ascii: "{"):
                try checkDepth(open.count + 1)
                position += 1
                skipWhitespace()
                if peek() == UInt8(ascii: "}") {
                    position += 1
                    value = .object(JSONObject())
                } else {
                    var container = OpenContainer(isObject: true)
                    container.pendingKey = try parseKey(existing: [])
                    container.keys.insert(container.pendingKey)
                    open.append(container)
                    continue
                }
            default:
                value = try parseScalar()
            }

            // Store the value in the innermost open container, then read what follows it: a comma
            // (parse the next element) or a closing bracket (the container itself becomes the value).
            while true {
                guard !open.isEmpty else { return value }
                let top = open.count - 1
                skipWhitespace()
                if open[top].isObject {
                    open[top].members.append((open[top].pendingKey, value))
                    if peek() == UInt8(ascii: ",") {
                        position += 1
                        skipWhitespace()
                        let key = try parseKey(existing: open[top].keys)
                        open[top].keys.insert(key)
                        open[top].pendingKey = key
                        break
                    }
                    guard peek() == UInt8(ascii: "}") else { throw failure(expected: "',' or '}'") }
                    position += 1
                    value = .object(JSONObject(uniqueMembers: open.removeLast().members))
                } else {
                    open[top].elements.append(value)
                    if peek() == UInt8(ascii: ",") {
                        position += 1
                        break
                    }
                    guard peek() == UInt8(ascii: "]") else { throw failure(expected: "',' or ']'") }
                    position += 1
                    value = .array(open.removeLast().elements)
                }
            }
        }
    }

    private func checkDepth(_ depth: Int) throws(JSONSyntaxError) {
        guard depth <= maxDepth else {
            throw failure("nesting is deeper than the limit of \(maxDepth) levels")
        }
    }

    /// Parses an object key and the colon after it; rejects a key already in `existing`.
    private mutating func parseKey(existing: Set<String>) throws(JSONSyntaxError) -> String {
        guard peek() == UInt8(ascii: "\"") else { throw failure(expected: "a string key") }
        let start = position
        let key = try parseString()
        guard !existing.contains(key) else {
            throw failure("duplicate key \(JSONValue.string(key).encoded())", at: start)
        }
        skipWhitespace()
        guard peek() == UInt8(ascii: ":") else { throw failure(expected: "':' after the key") }
        position += 1
        return key
    }

    private mutating func parseScalar() throws(JSONSyntaxError) -> JSONValue {
        guard let byte = peek() else { throw failure(expected: "a value") }
        switch byte {
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try parseLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try parseLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try parseLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw failure(expected: "a value")
        }
    }

    private mutating func parseLiteral(_ literal: String) throws(JSONSyntaxError) {
        let start = position
        for expected in literal.utf8 {
            guard peek() == expected else { throw failure("invalid literal, expected \(literal)", at: start) }
            position += 1
        }
    }

    // MARK: Numbers

    private mutating func parseNumber() throws(JSONSyntaxError) -> JSONValue {
        let start = position
        let negative = peek() == UInt8(ascii: "-")
        if negative { position += 1 }
        let digitsStart = position
        if peek() == UInt8(ascii: "0") {
            position += 1
            if let next = peek(), isDigit(next) { throw failure("leading zeros are not allowed") }
        } else {
            guard skipDigits() else { throw failure(expected: "a digit after '-'") }
        }
        let integerEnd = position
        var isInteger = true
        if peek() == UInt8(ascii: ".") {
            position += 1
            guard skipDigits() else { throw failure(expected: "a digit after the decimal point") }
            isInteger = false
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            position += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { position += 1 }
            guard skipDigits() else { throw failure(expected: "a digit in the exponent") }
            isInteger = false
        }
        if isInteger, let exact = exactInteger(digits: bytes[digitsStart..<integerEnd], negative: negative) {
            return exact
        }
        let text = String(decoding: bytes[start..<position], as: UTF8.self)
        guard let double = Double(text), double.isFinite else {
            throw failure("number \(text) is too large for a double", at: start)
        }
        return .double(double)
    }

    /// The integer as `.int` or `.uint`, or nil when it does not fit either.
    private func exactInteger(digits: ArraySlice<UInt8>, negative: Bool) -> JSONValue? {
        var magnitude: UInt64 = 0
        for digit in digits {
            let (shifted, overflowMultiply) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, overflowAdd) = shifted.addingReportingOverflow(UInt64(digit - UInt8(ascii: "0")))
            guard !overflowMultiply, !overflowAdd else { return nil }
            magnitude = sum
        }
        if negative {
            // -(2^63) is the only negative value whose magnitude does not fit Int64.
            if magnitude <= UInt64(Int64.max) { return .int(-Int64(magnitude)) }
            if magnitude == UInt64(Int64.max) + 1 { return .int(Int64.min) }
            return nil
        }
        if let signed = Int64(exactly: magnitude) { return .int(signed) }
        return .uint(magnitude)
    }

    /// Skips ASCII digits; whether there was at least one.
    private mutating func skipDigits() -> Bool {
        let start = position
        while let byte = peek(), isDigit(byte) { position += 1 }
        return position > start
    }

    private func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    // MARK: Strings

    /// Parses a string starting at its opening quote.
    private mutating func parseString() throws(JSONSyntaxError) -> String {
        let start = position
        position += 1
        var utf8: [UInt8] = []
        while true {
            guard let byte = peek() else { throw failure("unterminated string", at: start) }
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                return String(decoding: utf8, as: UTF8.self)
            case UInt8(ascii: "\\"):
                try parseEscape(into: &utf8, stringStart: start)
            case 0..<0x20:
                throw failure("control character \(Self.scalarName(UInt32(byte))) must be escaped in a string")
            case 0x20..<0x80:
                utf8.append(byte)
                position += 1
            default:
                guard let length = utf8SequenceLength(at: position) else {
                    throw failure("invalid UTF-8 byte 0x\(Self.hex(UInt32(byte), width: 2))")
                }
                utf8.append(contentsOf: bytes[position..<(position + length)])
                position += length
            }
        }
    }

    /// Parses one escape sequence starting at its backslash and appends the character it stands for.
    private mutating func parseEscape(into utf8: inout [UInt8], stringStart: Int) throws(JSONSyntaxError) {
        let start = position
        position += 1
        guard let letter = peek() else { throw failure("unterminated string", at: stringStart) }
        position += 1
        switch letter {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(letter)
        case UInt8(ascii: "b"): utf8.append(0x08)
        case UInt8(ascii: "f"): utf8.append(0x0C)
        case UInt8(ascii: "n"): utf8.append(0x0A)
        case UInt8(ascii: "r"): utf8.append(0x0D)
        case UInt8(ascii: "t"): utf8.append(0x09)
        case UInt8(ascii: "u"):
            let unit = try parseHexQuad(escapeStart: start)
            var scalarValue = UInt32(unit)
            if (0xDC00...0xDFFF).contains(unit) {
                throw failure("lone low surrogate \\u\(Self.hex(UInt32(unit), width: 4))", at: start)
            }
            if (0xD800...0xDBFF).contains(unit) {
                let lowStart = position
                guard peek() == UInt8(ascii: "\\"), peek(offset: 1) == UInt8(ascii: "u") else {
                    throw failure("lone high surrogate \\u\(Self.hex(UInt32(unit), width: 4))", at: start)
                }
                position += 2
                let low = try parseHexQuad(escapeStart: lowStart)
                guard (0xDC00...0xDFFF).contains(low) else {
                    throw failure("lone high surrogate \\u\(Self.hex(UInt32(unit), width: 4))", at: start)
                }
                scalarValue = 0x10000 + (UInt32(unit - 0xD800) << 10) + UInt32(low - 0xDC00)
            }
            guard let scalar = Unicode.Scalar(scalarValue) else {
                throw failure("invalid escaped character", at: start)
            }
            UTF8.encode(scalar) { utf8.append($0) }
        default:
            position -= 1
            throw failure("invalid escape sequence: backslash followed by \(describeCurrent())", at: start)
        }
    }

    /// Reads the four hex digits after `\u`.
    private mutating func parseHexQuad(escapeStart: Int) throws(JSONSyntaxError) -> UInt16 {
        var value: UInt16 = 0
        for _ in 0..<4 {
            guard let byte = peek(), let digit = Self.hexDigitValue(byte) else {
                throw failure("expected 4 hex digits after \\u", at: escapeStart)
            }
            value = value << 4 | UInt16(digit)
            position += 1
        }
        return value
    }

    private static func hexDigitValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// Length of the well-formed UTF-8 sequence of two to four bytes at `index`, or nil when the bytes
    /// there are not one (stray continuation byte, overlong form, encoded surrogate, beyond U+10FFFF,
    /// or truncated).
    private func utf8SequenceLength(at index: Int) -> Int? {
        let lead = bytes[index]
        let length: Int
        var secondRange: ClosedRange<UInt8> = 0x80...0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; secondRange = 0xA0...0xBF
        case 0xED: length = 3; secondRange = 0x80...0x9F
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xF0: length = 4; secondRange = 0x90...0xBF
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; secondRange = 0x80...0x8F
        default: return nil
        }
        guard index + length <= bytes.count, secondRange.contains(bytes[index + 1]) else { return nil }
        for offset in 2..<length where !(0x80...0xBF).contains(bytes[index + offset]) { return nil }
        return length
    }

    // MARK: Input and errors

    private func peek(offset: Int = 0) -> UInt8? {
        position + offset < bytes.count ? bytes[position + offset] : nil
    }

    private mutating func skipWhitespace() {
        while let byte = peek(),
            byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\t")
        {
            position += 1
        }
    }

    /// "expected <what>, found <the character at the current position>".
    private func failure(expected: String) -> JSONSyntaxError {
        failure("expected \(expected), found \(describeCurrent())")
    }

    /// An error at `offset` (default: the current position) with its line and column.
    private func failure(_ message: String, at offset: Int? = nil) -> JSONSyntaxError {
        let offset = min(offset ?? position, bytes.count)
        var line = 1
        var lineStart = 0
        for index in 0..<offset where bytes[index] == UInt8(ascii: "\n") {
            line += 1
            lineStart = index + 1
        }
        // Columns count scalars: every byte except UTF-8 continuation bytes starts one.
        let column = 1 + bytes[lineStart..<offset].reduce(0) { $0 + ($1 & 0xC0 == 0x80 ? 0 : 1) }
        return JSONSyntaxError(line: line, column: column, offset: offset, message: message)
    }

    /// The character at the current position, for error messages.
    private func describeCurrent() -> String {
        guard let byte = peek() else { return "end of input" }
        if byte >= 0x21, byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        if byte < 0x80 { return Self.scalarName(UInt32(byte)) }
        guard let length = utf8SequenceLength(at: position) else {
            return "byte 0x\(Self.hex(UInt32(byte), width: 2)) (invalid UTF-8)"
        }
        let scalar = String(decoding: bytes[position..<(position + length)], as: UTF8.self).unicodeScalars.first
        return Self.scalarName(scalar?.value ?? 0xFFFD)
    }

    private static func scalarName(_ value: UInt32) -> String {
        "U+" + hex(value, width: 4)
    }

    private static func hex(_ value: UInt32, width: Int) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}

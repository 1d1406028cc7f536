import Testing

import AmpJSON

extension JSONTests {
    struct SyntaxCase: Sendable, CustomStringConvertible {
        var input: [UInt8]
        var line: Int
        var column: Int
        var message: String

        init(_ text: String, _ line: Int, _ column: Int, _ message: String) {
            self.init(bytes: Array(text.utf8), line, column, message)
        }

        init(bytes: [UInt8], _ line: Int, _ column: Int, _ message: String) {
            input = bytes
            self.line = line
            self.column = column
            self.message = message
        }

        var description: String { String(decoding: input, as: UTF8.self).debugDescription }
    }

    static let syntaxCases: [SyntaxCase] = [
        // Missing or misplaced values.
        SyntaxCase("", 1, 1, "expected a value, found end of input"),
        SyntaxCase("   ", 1, 4, "expected a value, found end of input"),
        SyntaxCase("[", 1, 2, "expected a value, found end of input"),
        SyntaxCase("[1,]", 1, 4, "expected a value, found ']'"),
        SyntaxCase("[1 2]", 1, 4, "expected ',' or ']', found '2'"),
        SyntaxCase("[1,2", 1, 5, "expected ',' or ']', found end of input"),
        SyntaxCase("+1", 1, 1, "expected a value, found '+'"),
        SyntaxCase(".5", 1, 1, "expected a value, found '.'"),
        SyntaxCase("NaN", 1, 1, "expected a value, found 'N'"),
        SyntaxCase("'a'", 1, 1, "expected a value, found '''"),
        SyntaxCase("// note\n1", 1, 1, "expected a value, found '/'"),
        SyntaxCase("\u{0B}1", 1, 1, "expected a value, found U+000B"),
        // Objects.
        SyntaxCase("{", 1, 2, "expected a string key, found end of input"),
        SyntaxCase("{1:2}", 1, 2, "expected a string key, found '1'"),
        SyntaxCase(#"{"a":1,}"#, 1, 8, "expected a string key, found '}'"),
        SyntaxCase(#"{"a" 1}"#, 1, 6, "expected ':' after the key, found '1'"),
        SyntaxCase(#"{"a":1 "b":2}"#, 1, 8, #"expected ',' or '}', found '"'"#),
        SyntaxCase(#"{"a":1]"#, 1, 7, "expected ',' or '}', found ']'"),
        SyntaxCase(#"{"a":1,"b":2,"a":3}"#, 1, 14, #"duplicate key "a""#),
        SyntaxCase(#"{"x":{"\n":1,"\n":2}}"#, 1, 14, #"duplicate key "\n""#),
        // Trailing garbage.
        SyntaxCase("truex", 1, 5, "expected end of input, found 'x'"),
        SyntaxCase("[1] [2]", 1, 5, "expected end of input, found '['"),
        SyntaxCase("{} }", 1, 4, "expected end of input, found '}'"),
        // Literals.
        SyntaxCase("tru", 1, 1, "invalid literal, expected true"),
        SyntaxCase("[nul]", 1, 2, "invalid literal, expected null"),
        SyntaxCase("falsy", 1, 1, "invalid literal, expected false"),
        SyntaxCase("True", 1, 1, "expected a value, found 'T'"),
        // Numbers.
        SyntaxCase("01", 1, 2, "leading zeros are not allowed"),
        SyntaxCase("-00", 1, 3, "leading zeros are not allowed"),
        SyntaxCase("-", 1, 2, "expected a digit after '-', found end of input"),
        SyntaxCase("-a", 1, 2, "expected a digit after '-', found 'a'"),
        SyntaxCase("1.", 1, 3, "expected a digit after the decimal point, found end of input"),
        SyntaxCase("1.e5", 1, 3, "expected a digit after the decimal point, found 'e'"),
        SyntaxCase("1e", 1, 3, "expected a digit in the exponent, found end of input"),
        SyntaxCase("[1e+]", 1, 5, "expected a digit in the exponent, found ']'"),
        SyntaxCase("1e400", 1, 1, "number 1e400 is too large for a double"),
        SyntaxCase("[0, -1.5E999]", 1, 5, "number -1.5E999 is too large for a double"),
        // Strings.
        SyntaxCase("\"abc", 1, 1, "unterminated string"),
        SyntaxCase("[\"\\", 1, 2, "unterminated string"),
        SyntaxCase("\"a\nb\"", 1, 3, "control character U+000A must be escaped in a string"),
        SyntaxCase("\"\t\"", 1, 2, "control character U+0009 must be escaped in a string"),
        SyntaxCase(#""\x""#, 1, 2, "invalid escape sequence: backslash followed by 'x'"),
        SyntaxCase(#""\u12""#, 1, 2, #"expected 4 hex digits after \u"#),
        SyntaxCase(#""\u12G4""#, 1, 2, #"expected 4 hex digits after \u"#),
        SyntaxCase(#""\uD800""#, 1, 2, #"lone high surrogate \uD800"#),
        SyntaxCase(#""\uD800\u0041""#, 1, 2, #"lone high surrogate \uD800"#),
        SyntaxCase(#""\uDBFFx""#, 1, 2, #"lone high surrogate \uDBFF"#),
        SyntaxCase(#""\uDC00""#, 1, 2, #"lone low surrogate \uDC00"#),
        SyntaxCase(#""\uD83D\uDE00\uDE00""#, 1, 14, #"lone low surrogate \uDE00"#),
        SyntaxCase(#""\uD83D\u12""#, 1, 8, #"expected 4 hex digits after \u"#),
        // Invalid UTF-8 (only reachable through the byte overload).
        SyntaxCase(bytes: [0x22, 0x61, 0xFF, 0x22], 1, 3, "invalid UTF-8 byte 0xFF"),
        SyntaxCase(bytes: [0x22, 0xC0, 0xAF, 0x22], 1, 2, "invalid UTF-8 byte 0xC0"),
        SyntaxCase(bytes: [0x22, 0xED, 0xA0, 0x80, 0x22], 1, 2, "invalid UTF-8 byte 0xED"),
        SyntaxCase(bytes: [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], 1, 2, "invalid UTF-8 byte 0xF4"),
        SyntaxCase(bytes: [0x22, 0xE2, 0x82], 1, 2, "invalid UTF-8 byte 0xE2"),
        SyntaxCase(bytes: [0x22, 0x80, 0x22], 1, 2, "invalid UTF-8 byte 0x80"),
        SyntaxCase(bytes: [0x31, 0x20, 0xFE], 1, 3, "expected end of input, found byte 0xFE (invalid UTF-8)"),
        // Lines and columns.
        SyntaxCase("{\n  \"a\": [1,\n    2,,\n  ]\n}", 3, 7, "expected a value, found ','"),
        SyntaxCase("[\r\n1,\r\n]", 3, 1, "expected a value, found ']'"),
        SyntaxCase("[\"é\", é]", 1, 7, "expected a value, found U+00E9"),
        SyntaxCase("[\"😀😀\"\n,\n\n  x]", 4, 3, "expected a value, found 'x'"),
    ]

    @Test(arguments: syntaxCases)
    func syntaxError(testCase: SyntaxCase) {
        do {
            let value = try JSONValue.parse(testCase.input)
            Issue.record("parsed as \(value)")
        } catch {
            #expect(error.message == testCase.message)
            #expect(error.line == testCase.line)
            #expect(error.column == testCase.column)
        }
    }

    @Test func syntaxErrorDescriptionAndOffset() {
        #expect(throws: JSONSyntaxError(line: 3, column: 7, offset: 19, message: "expected a value, found ','")) {
            try JSONValue.parse("{\n  \"a\": [1,\n    2,,\n  ]\n}")
        }
        let error = JSONSyntaxError(line: 3, column: 7, offset: 19, message: "expected a value, found ','")
        #expect(error.description == "line 3, column 7: expected a value, found ','")
        // The String overload reports the same position as the byte overload.
        #expect(throws: JSONSyntaxError(line: 1, column: 7, offset: 7, message: "expected a value, found U+00E9")) {
            try JSONValue.parse("[\"é\", é]")
        }
    }
}

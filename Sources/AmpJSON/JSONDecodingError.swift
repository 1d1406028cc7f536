// The two ways reading JSON fails: the text is not JSON (JSONSyntaxError, with a line and column), or it is
// JSON but not the expected shape (JSONDecodingError, with the path of the offending value).

/// The text is not valid JSON. `line` and `column` are 1-based; columns count Unicode scalars, so they
/// match what an editor shows. `offset` is the byte offset in the UTF-8 input.
public struct JSONSyntaxError: Error, Equatable, Sendable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public var offset: Int
    public var message: String

    public init(line: Int, column: Int, offset: Int, message: String) {
        self.line = line
        self.column = column
        self.offset = offset
        self.message = message
    }

    /// "line L, column C: message".
    public var description: String { "line \(line), column \(column): \(message)" }
}

/// A JSON document does not have the expected shape: a wrong type, a missing or unknown key, a number out
/// of range. `path` locates the value at fault, for example `$.remoteprocs[1].memory[0].da`.
public struct JSONDecodingError: Error, Equatable, Sendable, CustomStringConvertible {
    public var path: JSONPath
    public var reason: String

    public init(path: JSONPath, reason: String) {
        self.path = path
        self.reason = reason
    }

    /// "<path>: <reason>".
    public var description: String { "\(path): \(reason)" }
}

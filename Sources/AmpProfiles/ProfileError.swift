// Why a SoC profile could not be used. Every error names the file, and, for content errors, the JSON path of
// the value at fault, so a message reads like a compiler diagnostic:
//
//     soc-profiles/x.json: line 4, column 17: expected ',' or '}' after an object member
//     soc-profiles/x.json: $.remoteprocs[1].memory[0].size: must be > 0
//     soc-profiles/x.json: cannot read: No such file or directory

import AmpJSON

/// A SoC profile could not be read, parsed or validated.
public enum ProfileError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file could not be read (missing, a directory, too large, permission denied...).
    case unreadable(file: String, reason: String)
    /// The text is not JSON. `line` and `column` are 1-based.
    case syntax(file: String, line: Int, column: Int, message: String)
    /// The JSON does not describe a valid profile: `path` locates the value at fault, e.g.
    /// `$.remoteprocs[1].memory[0].size`.
    case invalid(file: String, path: JSONPath, reason: String)

    /// The profile file the error is about.
    public var file: String {
        switch self {
        case .unreadable(let file, _), .syntax(let file, _, _, _), .invalid(let file, _, _): return file
        }
    }

    /// The JSON path of the value at fault, for `.invalid` errors.
    public var path: JSONPath? {
        if case .invalid(_, let path, _) = self { return path }
        return nil
    }

    /// The explanation without the file and location.
    public var reason: String {
        switch self {
        case .unreadable(_, let reason), .invalid(_, _, let reason): return reason
        case .syntax(_, _, _, let message): return message
        }
    }

    /// "<file>: <path>: <reason>", "<file>: line L, column C: <message>" or "<file>: <reason>".
    public var description: String {
        let shownFile = file.isEmpty ? "<profile>" : file
        switch self {
        case .unreadable(_, let reason):
            return "\(shownFile): \(reason)"
        case .syntax(_, let line, let column, let message):
            return "\(shownFile): line \(line), column \(column): \(message)"
        case .invalid(_, let path, let reason):
            return "\(shownFile): \(path): \(reason)"
        }
    }

    /// The same error attributed to `file`.
    static func invalid(_ error: JSONDecodingError, file: String) -> ProfileError {
        .invalid(file: file, path: error.path, reason: error.reason)
    }
}

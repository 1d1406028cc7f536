// Paths into a JSON document, written the way JSONPath expressions write them: `$` for the root, `.key` for
// an object member, `[i]` for an array element, and `["odd key"]` for keys that are not plain identifiers.

/// The location of a value inside a JSON document, such as `$.remoteprocs[1].memory[0].da`.
public struct JSONPath: Sendable, Hashable, CustomStringConvertible {
    /// One step from a container to a value inside it.
    public enum Component: Sendable, Hashable {
        /// The member with this key.
        case key(String)
        /// The element at this zero-based index.
        case index(Int)
    }

    /// Steps from the root, outermost first.
    public private(set) var components: [Component]

    /// A path of the given steps; no steps is the root, `$`.
    public init(_ components: [Component] = []) {
        self.components = components
    }

    /// The root of the document, `$`.
    public static let root = JSONPath()

    /// This path followed by the member `key`.
    public func appending(key: String) -> JSONPath {
        JSONPath(components + [.key(key)])
    }

    /// This path followed by the element at `index`.
    public func appending(index: Int) -> JSONPath {
        JSONPath(components + [.index(index)])
    }

    public var description: String {
        var out = "$"
        for component in components {
            switch component {
            case .key(let key):
                if Self.isPlainIdentifier(key) {
                    out += "." + key
                } else {
                    out += "[" + JSONValue.string(key).encoded() + "]"
                }
            case .index(let index):
                out += "[\(index)]"
            }
        }
        return out
    }

    /// ASCII letters, digits and underscores, not starting with a digit.
    private static func isPlainIdentifier(_ key: String) -> Bool {
        guard let first = key.utf8.first, !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else { return false }
        return key.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "_")
        }
    }
}

/// The arguments of one command after parsing: positionals by name, options by long name. Typed
/// accessors turn values into numbers and report the option at fault on failure.
public struct ParsedArguments: Sendable {
    /// Full command path for messages, e.g. "ampsoc rproc".
    public var commandPath: String
    public var positionals: [String: String]
    /// Values of options; a flag appears with an empty value. A repeated option keeps every value.
    public var options: [String: [String]]

    /// Whether the flag or option was given.
    public func has(_ option: String) -> Bool { options[option] != nil }

    /// The last value given for `option`, if any.
    public func value(_ option: String) -> String? { options[option]?.last }

    /// The positional argument named `name` (as in its spec), if given.
    public func positional(_ name: String) -> String? { positionals[name] }

    /// A positional that the parser guarantees is present (declared non-optional).
    public func required(_ name: String) throws(CommandError) -> String {
        guard let value = positionals[name] else {
            throw .usage("missing argument \(name)", command: commandPath)
        }
        return value
    }

    /// The value of `option` as a non-negative decimal number (e.g. seconds), or nil when absent.
    public func seconds(_ option: String) throws(CommandError) -> Double? {
        guard let text = value(option) else { return nil }
        guard let number = Double(text), number.isFinite, number >= 0 else {
            throw .usage("invalid value '\(text)' for --\(option): expected a non-negative number of seconds", command: commandPath)
        }
        return number
    }

    /// The value of `option` as an unsigned integer (decimal or 0x-prefixed hex) within `range`, or nil when absent.
    public func integer(_ option: String, in range: ClosedRange<UInt64> = 0...UInt64.max) throws(CommandError) -> UInt64? {
        guard let text = value(option) else { return nil }
        guard let number = Self.parseInteger(text), range.contains(number) else {
            throw .usage("invalid value '\(text)' for --\(option): expected an integer in \(range.lowerBound)...\(range.upperBound)", command: commandPath)
        }
        return number
    }

    /// Parses a decimal or `0x`-prefixed hexadecimal unsigned integer.
    public static func parseInteger(_ text: String) -> UInt64? {
        let lower = text.lowercased()
        if lower.hasPrefix("0x") { return UInt64(lower.dropFirst(2), radix: 16) }
        return UInt64(lower, radix: 10)
    }
}

import Glibc

/// Instance names: what `--name` accepts, so that every per-instance path fits a UNIX socket address.
///
/// A name is 1...``maximumLength`` characters from [A-Za-z0-9._-], not starting with "." (so never "." or
/// ".." and never a hidden file).
public enum InstanceName {
    /// Longest accepted name. With the runtime directory and the longest endpoint-socket name below
    /// `<name>.d/` this keeps paths within sun_path's 107 bytes on usual systems; ``RuntimeDirectory``
    /// paths are checked again when an instance starts.
    public static let maximumLength = 32

    /// Room kept below `<name>.d/` for endpoint socket names.
    public static let endpointNameReserve = 40

    /// Whether `name` is a valid instance name.
    public static func isValid(_ name: String) -> Bool {
        (try? validate(name)) != nil
    }

    /// Returns `name` when valid.
    /// - Throws: ``ControlError`` EINVAL saying what is wrong (empty, too long, a character not allowed).
    @discardableResult
    public static func validate(_ name: String) throws(ControlError) -> String {
        guard !name.isEmpty else { throw ControlError(code: EINVAL, "invalid instance name '': it is empty", field: "name") }
        guard name.count <= maximumLength else {
            throw ControlError(
                code: EINVAL, "invalid instance name '\(name)': \(name.count) characters, at most \(maximumLength)",
                field: "name")
        }
        if let bad = name.unicodeScalars.first(where: { !isAllowed($0) }) {
            throw ControlError(
                code: EINVAL,
                "invalid instance name '\(name)': character '\(bad)' not allowed (use A-Z, a-z, 0-9, '.', '_', '-')",
                field: "name")
        }
        guard !name.hasPrefix(".") else {
            throw ControlError(code: EINVAL, "invalid instance name '\(name)': it must not start with '.'", field: "name")
        }
        return name
    }

    /// A valid name made from `text` (a profile's SoC name): characters outside the allowed set become "_",
    /// a leading "." becomes "_", the result is cut to ``maximumLength``; empty text gives "ampsoc".
    public static func sanitized(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars.prefix(maximumLength) {
            result.unicodeScalars.append(isAllowed(scalar) ? scalar : "_")
        }
        if result.hasPrefix(".") { result = "_" + result.dropFirst() }
        return result.isEmpty ? "ampsoc" : result
    }

    private static func isAllowed(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "a"..."z", "A"..."Z", "0"..."9", ".", "_", "-": true
        default: false
        }
    }
}

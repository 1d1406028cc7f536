/// A structure read from untrusted bytes did not fit or broke a validation rule.
///
/// `field` names the structure and field at fault (for example `resource_table.ver` or
/// `vdev[0].vring[1].num`), `offset` is the byte offset of that field in the input the caller parsed
/// (for a firmware file: the file offset), and `reason` says what is wrong with it.
public struct WireError: Error, Equatable, Sendable, CustomStringConvertible {
    public var field: String
    public var offset: Int
    public var reason: String

    public init(field: String, offset: Int, reason: String) {
        self.field = field
        self.offset = offset
        self.reason = reason
    }

    public var description: String {
        "\(field) at offset \(offset) (0x\(String(offset, radix: 16))): \(reason)"
    }

    /// The same error with its offset moved by `delta`, for errors found in a slice of a larger input.
    public func shifted(by delta: Int) -> WireError {
        WireError(field: field, offset: offset + delta, reason: reason)
    }
}

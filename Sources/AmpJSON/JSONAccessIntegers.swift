// Integer access for JSON data files. Addresses and sizes in profiles are easier to read in hex, which JSON
// lacks, so an integer may be written either as a JSON integer (`4096`) or as a string holding `0x`
// followed by hex digits (`"0x9D000000"`, case-insensitive). Anything else, and any value outside the
// target type's range, is an error naming the path and the range.

extension JSONNode {
    /// The value as an integer of type `T`: a JSON integer, or a hex string such as `"0x9D000000"`.
    ///
    /// Numbers with a fraction or exponent (even `1e3`) are rejected, as are decimal strings.
    public func integer<T: FixedWidthInteger>(_ type: T.Type) throws(JSONDecodingError) -> T {
        let typeName = "\(T.self) (\(T.min)...\(T.max))"
        switch value {
        case .int(let int):
            guard let exact = T(exactly: int) else { throw error("\(int) is out of range for \(typeName)") }
            return exact
        case .uint(let uint):
            guard let exact = T(exactly: uint) else { throw error("\(uint) is out of range for \(typeName)") }
            return exact
        case .string(let string):
            guard let parsed = Self.parseHex(string) else {
                throw error("expected an integer or a hex string like \"0x1000\", found \(kindDescription)")
            }
            guard let magnitude = parsed else {
                throw error("hex value \(string) does not fit in 64 bits")
            }
            guard let exact = T(exactly: magnitude) else {
                throw error("\(string) is out of range for \(T.self) (largest 0x\(String(T.max, radix: 16, uppercase: true)))")
            }
            return exact
        case .double(let double):
            throw error("expected an integer, found \(double) (a number with a fraction or exponent)")
        default:
            throw mismatch(expected: "an integer")
        }
    }

    /// The value as an `Int`; see `integer(_:)`.
    public func int() throws(JSONDecodingError) -> Int { try integer(Int.self) }

    /// The value as a `UInt32`, e.g. a 32-bit device address; see `integer(_:)`.
    public func uint32() throws(JSONDecodingError) -> UInt32 { try integer(UInt32.self) }

    /// The value as a `UInt64`, e.g. a physical address; see `integer(_:)`.
    public func uint64() throws(JSONDecodingError) -> UInt64 { try integer(UInt64.self) }

    /// `0x` / `0X` and one or more hex digits: `.some(value)`, `.some(nil)` when it exceeds 64 bits, or nil
    /// when the string is not hex at all.
    private static func parseHex(_ string: String) -> UInt64?? {
        let utf8 = Array(string.utf8)
        guard utf8.count > 2, utf8[0] == UInt8(ascii: "0"), utf8[1] == UInt8(ascii: "x") || utf8[1] == UInt8(ascii: "X")
        else { return nil }
        var value: UInt64 = 0
        var overflow = false
        for byte in utf8.dropFirst(2) {
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            if value > UInt64.max >> 4 { overflow = true }
            value = value << 4 | UInt64(digit)
        }
        return .some(overflow ? nil : value)
    }
}

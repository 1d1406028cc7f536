// Numbers in profiles. JSON has no hex literals, and addresses read best in hex, so every numeric field
// accepts a JSON integer (`4096`), a hex string (`"0x1000"`, `0x` or `0X` and 1 to 16 hex digits) or a
// decimal string (`"4096"`, digits only). Fractions, exponents, signs inside strings, empty strings and
// values outside the field's type are errors naming the path.

import AmpJSON

extension JSONNode {
    /// The value as an integer of type `T`, written as a JSON integer or a hex or decimal string.
    func profileInteger<T: FixedWidthInteger>(_ type: T.Type) throws(JSONDecodingError) -> T {
        guard case .string(let text) = value else { return try integer(T.self) }
        guard let parsed = Self.parseIntegerString(text) else {
            throw error(
                "expected an integer, a hex string like \"0x1000\" or a decimal string like \"4096\", found the string \(JSONValue.string(text).encoded())")
        }
        guard let magnitude = parsed, let exact = T(exactly: magnitude) else {
            throw error("\(text) is out of range for \(T.self) (\(T.min)...\(T.max))")
        }
        return exact
    }

    /// A 32-bit unsigned field such as an address or a size.
    func profileUInt32() throws(JSONDecodingError) -> UInt32 { try profileInteger(UInt32.self) }

    /// `.some(value)`, `.some(nil)` when the number exceeds 64 bits, or nil when `text` is not a hex or
    /// decimal number.
    static func parseIntegerString(_ text: String) -> UInt64?? {
        var digits = Array(text.utf8)[...]
        var radix: UInt64 = 10
        if digits.count > 2, digits.first == UInt8(ascii: "0"),
            digits.dropFirst().first == UInt8(ascii: "x") || digits.dropFirst().first == UInt8(ascii: "X")
        {
            radix = 16
            digits = digits.dropFirst(2)
        }
        guard !digits.isEmpty else { return nil }
        var value: UInt64 = 0
        var overflow = false
        for byte in digits {
            guard let digit = digitValue(byte), UInt64(digit) < radix else { return nil }
            let (shifted, overflowMultiply) = value.multipliedReportingOverflow(by: radix)
            let (sum, overflowAdd) = shifted.addingReportingOverflow(UInt64(digit))
            overflow = overflow || overflowMultiply || overflowAdd
            value = sum
        }
        return .some(overflow ? nil : value)
    }

    private static func digitValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

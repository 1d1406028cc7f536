// Writes of fixed-width integers at explicit offsets, in an explicit byte order; the serialising
// counterpart of ByteReader. Writers are used on values the program built itself, so an offset outside
// the buffer is a programming error and grows the buffer rather than failing.

/// A growable byte buffer written at explicit offsets.
public struct ByteWriter: Sendable {
    public private(set) var bytes: [UInt8]
    public let order: ByteOrder

    /// A zero-filled buffer of `count` bytes.
    public init(count: Int = 0, order: ByteOrder) {
        self.bytes = [UInt8](repeating: 0, count: count)
        self.order = order
    }

    public mutating func put(_ value: UInt8, at offset: Int) {
        ensure(offset + 1)
        bytes[offset] = value
    }

    public mutating func put(_ value: UInt16, at offset: Int) { putUnsigned(UInt64(value), width: 2, at: offset) }
    public mutating func put(_ value: UInt32, at offset: Int) { putUnsigned(UInt64(value), width: 4, at: offset) }
    public mutating func put(_ value: UInt64, at offset: Int) { putUnsigned(value, width: 8, at: offset) }

    /// Copies `data` to `offset`.
    public mutating func put<C: Collection>(bytes data: C, at offset: Int) where C.Element == UInt8 {
        let count = data.count
        ensure(offset + count)
        // A same-length range replacement: one block copy for contiguous sources, not a loop of stores.
        bytes.replaceSubrange(offset..<(offset + count), with: data)
    }

    /// Writes `string` as a NUL-padded character array of `capacity` bytes, truncated to `capacity - 1`
    /// bytes so the array is always NUL-terminated (as the kernel's strscpy/strncpy users expect).
    public mutating func putCString(_ string: String, capacity: Int, at offset: Int) {
        let utf8 = Array(string.utf8.prefix(max(0, capacity - 1)))
        put(bytes: utf8 + [UInt8](repeating: 0, count: capacity - utf8.count), at: offset)
    }

    private mutating func ensure(_ end: Int) {
        if end > bytes.count { bytes.append(contentsOf: [UInt8](repeating: 0, count: end - bytes.count)) }
    }

    private mutating func putUnsigned(_ value: UInt64, width: Int, at offset: Int) {
        ensure(offset + width)
        for index in 0..<width {
            let shift = UInt64(8 * index)
            let byte = UInt8(truncatingIfNeeded: value >> shift)
            switch order {
            case .little: bytes[offset + index] = byte
            case .big: bytes[offset + width - 1 - index] = byte
            }
        }
    }
}

extension Array where Element == UInt8 {
    /// Lowercase hexadecimal, two digits a byte, no separators.
    public var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(count * 2)
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

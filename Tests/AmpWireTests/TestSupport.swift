// Helpers shared by the ELF, resource-table and fixture tests: hex golden bytes, byte-order conversion of
// golden layouts, in-place patching for mutation tests, and the location of the firmware fixtures.

import AmpWire
import Foundation

enum WireTestSupport {
    /// Bytes from hexadecimal digits; spaces, newlines and `|` separators are ignored. Bad digits are a
    /// mistake in the test itself and trap.
    static func bytes(_ hex: String) -> [UInt8] {
        let digits = hex.unicodeScalars.filter { !" \n\t|".unicodeScalars.contains($0) }.map(Character.init)
        precondition(digits.count % 2 == 0, "odd number of hex digits")
        return stride(from: 0, to: digits.count, by: 2).map { index in
            guard let byte = UInt8(String(digits[index...index + 1]), radix: 16) else {
                preconditionFailure("bad hex digits \(digits[index])\(digits[index + 1])")
            }
            return byte
        }
    }

    /// Converts a layout between byte orders by reversing each field's bytes; `widths` lists every field
    /// in order (1 for single bytes and character arrays) and must cover all bytes.
    static func swappingFields(_ bytes: [UInt8], widths: [Int]) -> [UInt8] {
        precondition(widths.reduce(0, +) == bytes.count, "field widths cover \(widths.reduce(0, +)) of \(bytes.count) bytes")
        var result = [UInt8]()
        var offset = 0
        for width in widths {
            result += bytes[offset..<offset + width].reversed()
            offset += width
        }
        return result
    }

    /// `count` repetitions of `width`, for character arrays and similar runs in `swappingFields`.
    static func repeated(_ width: Int, _ count: Int) -> [Int] { [Int](repeating: width, count: count) }

    /// Overwrites an integer of `width` bytes at `offset`.
    static func patch(_ bytes: inout [UInt8], at offset: Int, width: Int, value: UInt64, order: ByteOrder) {
        for index in 0..<width {
            let byte = UInt8(truncatingIfNeeded: value >> UInt64(8 * index))
            bytes[order == .little ? offset + index : offset + width - 1 - index] = byte
        }
    }

    /// Reads an integer of `width` bytes at `offset`.
    static func read(_ bytes: [UInt8], at offset: Int, width: Int, order: ByteOrder) -> UInt64 {
        var value: UInt64 = 0
        for index in 0..<width {
            let byte = bytes[order == .little ? offset + width - 1 - index : offset + index]
            value = value << 8 | UInt64(byte)
        }
        return value
    }

    /// `<package root>/../shared/fixtures/firmware`; the package root is three levels above this file.
    static var fixturesDirectory: URL {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()  // AmpWireTests
            .deletingLastPathComponent()  // Tests
            .deletingLastPathComponent()  // package root
            .deletingLastPathComponent()
            .appendingPathComponent("shared/fixtures/firmware", isDirectory: true)
    }

    /// A deterministic pseudo-random generator (SplitMix64) so mutation tests are reproducible.
    struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        init(seed: UInt64) { state = seed }
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }
}

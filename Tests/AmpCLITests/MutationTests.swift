import AmpJSON
import AmpWire
import Foundation
import Testing
@testable import AmpCLI

/// Thousands of random corruptions of the real fixture images, each run through the whole `inspect`
/// pipeline (ELF parse, table location, table parse, JSON and text rendering). Each must end in a report
/// or a WireError; a crash or hang fails the whole test run. Deterministic: the seed is fixed, and a
/// failure names the fixture and mutation number.
@Suite struct MutationTests {
    /// A small deterministic generator (SplitMix64), so failures reproduce.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let interesting: [UInt32] = [0, 1, 2, 3, 4, 5, 0x7F, 0x80, 0x200, 0x201, 0xFF, 0xFFFF, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFF0, 0xFFFF_FFFF]

    /// The byte ranges worth corrupting in an image: headers, header tables and the resource table.
    static func hotRanges(of bytes: [UInt8]) -> [Range<Int>] {
        var ranges = [0..<min(bytes.count, 64)]
        guard let elf = try? ELFFile.parse(bytes) else { return ranges }
        let header = elf.header
        let phTable = Int(header.phoff)..<Int(header.phoff) + Int(header.phnum) * Int(header.phentsize)
        let shTable = Int(header.shoff)..<Int(header.shoff) + Int(header.shnum) * Int(header.shentsize)
        ranges += [phTable, shTable].filter { !$0.isEmpty && $0.upperBound <= bytes.count }
        if case .present(_, let section, _) = elf.resourceTableSection() {
            let start = Int(section.offset)
            ranges.append(start..<start + Int(section.size))
        }
        return ranges
    }

    static func mutate(_ original: [UInt8], hot: [Range<Int>], rng: inout SplitMix) -> [UInt8] {
        var bytes = original
        let range = hot[Int.random(in: 0..<hot.count, using: &rng)]
        let position = Int.random(in: range, using: &rng)
        switch Int.random(in: 0..<6, using: &rng) {
        case 0:  // flip one bit
            bytes[position] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &rng)
        case 1:  // random byte
            bytes[position] = UInt8.random(in: 0...255, using: &rng)
        case 2:  // an interesting 32-bit value, aligned
            let aligned = position & ~3
            let value = interesting[Int.random(in: 0..<interesting.count, using: &rng)]
            for index in 0..<4 where aligned + index < bytes.count {
                bytes[aligned + index] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(index)))
            }
        case 3:  // truncate
            bytes.removeSubrange(position..<bytes.count)
        case 4:  // several random bytes at once
            for _ in 0..<Int.random(in: 2...16, using: &rng) {
                let at = Int.random(in: range, using: &rng)
                bytes[at] = UInt8.random(in: 0...255, using: &rng)
            }
        default:  // a 16-bit count or size field set to an extreme
            let aligned = position & ~1
            let value: UInt16 = [0, 1, 0x7FFF, 0xFFFF][Int.random(in: 0..<4, using: &rng)]
            bytes[aligned] = UInt8(truncatingIfNeeded: value)
            if aligned + 1 < bytes.count { bytes[aligned + 1] = UInt8(truncatingIfNeeded: value >> 8) }
        }
        return bytes
    }

    @Test func randomCorruptionsEndInAReportOrAnError() throws {
        let images = try FixturePaths.firmwareImages()
        var rng = SplitMix(state: 0x5EED_A3B5)
        var outcomes = (reports: 0, errors: 0)
        let perImage = 600
        for image in images {
            let original = try [UInt8](Data(contentsOf: image))
            let hot = Self.hotRanges(of: original)
            for _ in 0..<perImage {
                let mutated = Self.mutate(original, hot: hot, rng: &rng)
                do {
                    let report = try FirmwareReport.decode(path: image.lastPathComponent, bytes: mutated)
                    _ = report.json.encoded()
                    _ = report.text
                    outcomes.reports += 1
                } catch {
                    #expect(!error.field.isEmpty)
                    #expect(error.offset >= 0)
                    outcomes.errors += 1
                }
            }
        }
        #expect(outcomes.reports + outcomes.errors == images.count * perImage)
        // Both outcomes must occur, or the mutations are not reaching the parsers.
        #expect(outcomes.errors > images.count * perImage / 10)
        #expect(outcomes.reports > images.count * perImage / 10)
    }

    @Test func everyTruncationOfATableIsHandled() throws {
        for image in try FixturePaths.firmwareImages() {
            let original = try [UInt8](Data(contentsOf: image))
            guard case .present(_, let section, _)? = (try? ELFFile.parse(original))?.resourceTableSection() else { continue }
            let tableEnd = Int(section.offset + section.size)
            for cut in stride(from: tableEnd, through: max(0, Int(section.offset) - 64), by: -1) {
                #expect(throws: WireError.self) {
                    _ = try FirmwareReport.decode(path: image.lastPathComponent, bytes: Array(original[0..<cut]))
                }
            }
        }
    }
}

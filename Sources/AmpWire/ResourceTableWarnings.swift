// Legal but suspicious properties of a parsed resource table. Linux accepts all of these; each one is
// worth telling a firmware author about. Spare offset slots and trailing padding are normal (real
// toolchains emit them) and produce no warning.

extension ResourceTable {
    /// Human-readable warnings, in table order: entries pointing into the header or offset array,
    /// entry offsets that are not 4-byte aligned, unknown entry types (Linux skips them), two offsets
    /// naming the same entry, and entries whose bytes overlap.
    public var warnings: [String] {
        var result = [String]()
        let arrayEnd = Self.headerSize + Self.offsetSize * offsets.count
        for (index, entry) in entries.enumerated() {
            if entry.offset < arrayEnd {
                result.append(
                    "offset[\(index)] = \(entry.offset) points inside the table header and offset array (bytes 0..<\(arrayEnd))")
            }
            if entry.offset % 4 != 0 {
                result.append("offset[\(index)] = \(entry.offset) is not 4-byte aligned")
            }
            if case .unknown(let type, _) = entry.resource {
                result.append("\(entry.label) has unknown type \(type); Linux skips it")
            }
        }
        let byOffset = entries.indices.sorted { (entries[$0].offset, $0) < (entries[$1].offset, $1) }
        for (first, second) in zip(byOffset, byOffset.dropFirst()) {
            let a = entries[first]
            let b = entries[second]
            if a.offset == b.offset {
                result.append("offset[\(first)] and offset[\(second)] both point at \(a.offset): the entry would be handled twice")
            } else if a.offset + a.resource.encodedSize > b.offset {
                result.append(
                    "\(a.label) (bytes \(a.offset)..<\(a.offset + a.resource.encodedSize)) overlaps \(b.label)")
            }
        }
        return result
    }
}

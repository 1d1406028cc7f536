import AmpProfiles
import AmpWire

// Helpers of ResourceHandling: writing values back into the loaded table (at explicit offsets, host byte
// order, over a copy of the section's bytes so padding and unknown bytes survive unchanged), keeping the
// decoded table in step, and the labels and messages of resource errors.

extension ResourceHandling {
    // MARK: Write-backs

    /// Writes `value` into the payload field at `fieldOffset` of `entry` in the loaded table.
    mutating func writeBack(_ value: UInt32, entry: ResourceTableEntry, at fieldOffset: Int) {
        writeBack(value, tableOffset: entry.offset + ResourceTable.entryHeaderSize + fieldOffset)
    }

    /// Writes `value` at `tableOffset` in the loaded table.
    mutating func writeBack(_ value: UInt32, tableOffset: Int) {
        loadedTable.put(value, at: tableOffset)
    }

    /// Replaces entry `index`'s decoded resource (the bytes were written by `writeBack`).
    mutating func replace(_ index: Int, with resource: Resource) {
        table.entries[index].resource = resource
    }

    // MARK: Claims

    /// Claims a fixed range for `label`, turning a refusal into an error naming the entry (and, for an
    /// overlap, the earlier owner).
    mutating func claim(
        _ label: String, da: UInt32, length: UInt32, kinds: Set<MemoryRegionProfile.Kind>
    ) throws(RemoteprocError) -> RemoteMemoryMap.Region {
        let range = Self.describe(da: da, length: length)
        do {
            return try allocator.claim(owner: label, da: UInt64(da), length: UInt64(length), kinds: kinds).region
        } catch {
            switch error {
            case .outsideMap:
                throw resourceError(label, "\(range) is not in the memory map")
            case .crossesRegion(let region):
                throw resourceError(label, "\(range) crosses the edge of \(region.label)")
            case .wrongKind(let region):
                let wanted = kinds.contains(.carveout) ? "carveout" : "devmem"
                throw resourceError(label, "\(range) lies in \(region.kind.rawValue) \(region.label), not in a \(wanted) region")
            case .overlaps(let other):
                throw resourceError(label, "\(range) overlaps \(other.owner) at \(Self.describe(da: other.da, length: other.length))")
            }
        }
    }

    // MARK: Errors and labels

    func resourceError(_ label: String, _ reason: String, code: RemoteprocError.Code = .invalidArgument) -> RemoteprocError {
        RemoteprocError.resource(rproc: rproc, entry: label, reason: reason, code: code)
    }

    /// ENOMEM: "memory map too small for carveout 'x' (len 0x...): largest free block is 0x... bytes in region 'r'".
    func tooSmall(carveout name: String, length: UInt64) -> RemoteprocError {
        let free = allocator.largestFreeBlock()
        let detail =
            free.region.map { "largest free block is \(rprocHex(free.length)) bytes in region '\($0.name)'" }
            ?? "the memory map has no carveout region"
        return RemoteprocError.memory(
            rproc: rproc, reason: "memory map too small for carveout '\(name)' (len \(rprocHex(length))): \(detail)", code: .noMemory)
    }

    /// "carveout 'text' (entry 2 @ 0x30)", "trace 'log' (entry 1 @ 0x74)", "vdev (entry 0 @ 0x14)",
    /// "vendor resource type 133 (entry 3 @ 0x90)".
    static func label(of entry: ResourceTableEntry, index: Int) -> String {
        let position = "(entry \(index) @ \(rprocHex(entry.offset)))"
        switch entry.resource {
        case .carveout(let region): return "carveout '\(region.name)' \(position)"
        case .devmem(let region): return "devmem '\(region.name)' \(position)"
        case .trace(let trace): return "trace '\(trace.name)' \(position)"
        case .vdev: return "vdev \(position)"
        case .vendor(let type, _): return "vendor resource type \(type) \(position)"
        case .unknown(let type, _): return "unknown resource type \(type) \(position)"
        }
    }

    /// "da 0x10000000 len 0x1000".
    static func describe<A: BinaryInteger, L: BinaryInteger>(da: A, length: L) -> String {
        "da \(rprocHex(da)) len \(rprocHex(length))"
    }
}

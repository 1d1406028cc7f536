import AmpJSON
import AmpWire

/// JSON form of resource-table entries, shared by `inspect --json` and the live table views.
/// Field names follow the kernel's structure fields in lowerCamelCase.
enum ResourceTableJSON {
    static func entry(_ entry: ResourceTableEntry) -> JSONValue {
        var object: JSONObject = [
            "offset": .integer(entry.offset),
            "type": .integer(entry.resource.type),
            "kind": .string(kind(of: entry.resource)),
        ]
        switch entry.resource {
        case .carveout(let memory), .devmem(let memory):
            object["da"] = .integer(memory.da)
            object["pa"] = .integer(memory.pa)
            object["len"] = .integer(memory.len)
            object["flags"] = .integer(memory.flags)
            object["reserved"] = .integer(memory.reserved)
            object["name"] = .string(memory.name)
        case .trace(let trace):
            object["da"] = .integer(trace.da)
            object["len"] = .integer(trace.len)
            object["reserved"] = .integer(trace.reserved)
            object["name"] = .string(trace.name)
        case .vdev(let vdev):
            object["id"] = .integer(vdev.id)
            object["notifyid"] = .integer(vdev.notifyid)
            object["dfeatures"] = .integer(vdev.dfeatures)
            object["gfeatures"] = .integer(vdev.gfeatures)
            object["configLength"] = .integer(vdev.config.count)
            object["status"] = .integer(vdev.status)
            object["vrings"] = .array(vdev.vrings.map { vring in
                .object([
                    "da": .integer(vring.da), "align": .integer(vring.align), "num": .integer(vring.num),
                    "notifyid": .integer(vring.notifyid), "pa": .integer(vring.pa),
                ])
            })
            object["config"] = .string(vdev.config.hexString)
        case .vendor(_, let data), .unknown(_, let data):
            object["size"] = .integer(data.count + ResourceTable.entryHeaderSize)
            object["data"] = .string(data.hexString)
        }
        return .object(object)
    }

    static func kind(of resource: Resource) -> String {
        switch resource {
        case .carveout: "carveout"
        case .devmem: "devmem"
        case .trace: "trace"
        case .vdev: "vdev"
        case .vendor: "vendor"
        case .unknown: "unknown"
        }
    }
}

extension FirmwareReport {
    /// The `inspect --json` object.
    var json: JSONValue {
        let header = elf.header
        var tableValue = JSONValue.null
        if let located = table {
            tableValue = .object([
                "sectionIndex": .integer(located.sectionIndex),
                "fileOffset": .integer(located.section.offset),
                "address": .integer(located.section.addr),
                "size": .integer(located.section.size),
                "version": .integer(located.table.version),
                "count": .integer(located.table.offsets.count),
                "offsets": .array(located.table.offsets.map { .integer($0) }),
                "entries": .array(located.table.entries.map(ResourceTableJSON.entry)),
            ])
        }
        return .object([
            "file": .string(path),
            "elf": .object([
                "class": .integer(header.elfClass.rawValue),
                "endian": .string(header.byteOrder.rawValue),
                "type": .integer(header.type),
                "machine": .integer(header.machine),
                "entry": .integer(header.entry),
            ]),
            "segments": .array(elf.programHeaders.enumerated().map { index, segment in
                .object([
                    "index": .integer(index), "type": .integer(segment.type), "offset": .integer(segment.offset),
                    "vaddr": .integer(segment.vaddr), "paddr": .integer(segment.paddr),
                    "filesz": .integer(segment.filesz), "memsz": .integer(segment.memsz),
                    "flags": .integer(segment.flags),
                ])
            }),
            "resourceTable": tableValue,
            "warnings": .array(warnings.map { .string($0) }),
        ])
    }
}

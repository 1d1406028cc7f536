import AmpWire

/// Human-readable dump of resource-table entries, in the spirit of Linux's debugfs `resource_table` file:
/// one block per entry, every field on its own line, reserved fields flagged when they are not zero.
enum ResourceTableText {
    static func lines(for table: ResourceTable) -> [String] {
        var lines = ["Resource table: version \(table.version), \(table.offsets.count) entries, \(table.size) bytes"]
        for (index, entry) in table.entries.enumerated() {
            lines.append("Entry \(index) at offset \(entry.offset): \(describe(entry.resource))")
            lines += fields(of: entry.resource).map { "  " + $0 }
        }
        return lines
    }

    static func describe(_ resource: Resource) -> String {
        switch resource {
        case .carveout: "carveout (type 0)"
        case .devmem: "devmem (type 1)"
        case .trace: "trace (type 2)"
        case .vdev: "vdev (type 3)"
        case .vendor(let type, _): "vendor-specific (type \(type))"
        case .unknown(let type, _): "unknown (type \(type), skipped by Linux)"
        }
    }

    static func fields(of resource: Resource) -> [String] {
        switch resource {
        case .carveout(let memory), .devmem(let memory):
            return [
                "Name             \(memory.name)",
                "Device address   \(address(memory.da))",
                "Physical address \(address(memory.pa))",
                "Length           0x\(hex(memory.len)) (\(memory.len) bytes)",
                "Flags            0x\(hex(memory.flags))",
                "Reserved         \(memory.reserved)\(memory.reserved == 0 ? "" : "  (should be 0)")",
            ]
        case .trace(let trace):
            return [
                "Name             \(trace.name)",
                "Device address   \(address(trace.da))",
                "Length           0x\(hex(trace.len)) (\(trace.len) bytes)",
                "Reserved         \(trace.reserved)\(trace.reserved == 0 ? "" : "  (should be 0)")",
            ]
        case .vdev(let vdev):
            var lines = [
                "Virtio id        \(vdev.id)\(vdev.id == VirtioDeviceID.rpmsg ? " (rpmsg)" : "")",
                "Notify id        \(vdev.notifyid)",
                "Device features  0x\(hex(vdev.dfeatures))",
                "Guest features   0x\(hex(vdev.gfeatures))",
                "Config length    \(vdev.config.count)",
                "Status           0x\(hex(vdev.status))",
                "Vrings           \(vdev.vrings.count)",
            ]
            for (index, vring) in vdev.vrings.enumerated() {
                lines.append("Vring \(index): da \(address(vring.da)), align \(vring.align), num \(vring.num), "
                    + "notify id \(vring.notifyid), pa 0x\(hex(vring.pa))")
            }
            if !vdev.config.isEmpty { lines.append("Config           \(vdev.config.hexString)") }
            return lines
        case .vendor(_, let data), .unknown(_, let data):
            return ["Size             \(data.count + ResourceTable.entryHeaderSize) bytes", "Data             \(data.hexString)"]
        }
    }

    private static func address(_ value: UInt32) -> String {
        value == ResourceTable.addressAny ? "any (0xffffffff)" : "0x\(hex(value))"
    }
}

extension FirmwareReport {
    /// The `inspect` text report.
    var text: String {
        let header = elf.header
        var lines = [
            "File:    \(path)",
            "ELF:     \(header.elfClass.rawValue)-bit \(header.byteOrder.rawValue)-endian, type \(header.type), "
                + "machine \(header.machine)\(ELFHeader.machineName(header.machine).map { " (\($0))" } ?? ""), "
                + "entry 0x\(hex(header.entry))",
            "Segments: \(elf.programHeaders.count)",
        ]
        for (index, segment) in elf.programHeaders.enumerated() {
            lines.append("  [\(index)] type \(segment.type)\(segment.type == ELFProgramHeader.PT_LOAD ? " LOAD" : "") "
                + "offset 0x\(hex(segment.offset)) vaddr 0x\(hex(segment.vaddr)) paddr 0x\(hex(segment.paddr)) "
                + "filesz 0x\(hex(segment.filesz)) memsz 0x\(hex(segment.memsz)) flags \(flagText(segment.flags))")
        }
        if let located = table {
            lines.append("Section: [\(located.sectionIndex)] .resource_table at file offset 0x\(hex(located.section.offset)), "
                + "address 0x\(hex(located.section.addr)), \(located.section.size) bytes")
            lines += ResourceTableText.lines(for: located.table)
        } else {
            lines.append("Resource table: none")
        }
        lines += warnings.map { "warning: \($0)" }
        return lines.joined(separator: "\n")
    }

    private func flagText(_ flags: UInt32) -> String {
        (flags & 4 != 0 ? "R" : "-") + (flags & 2 != 0 ? "W" : "-") + (flags & 1 != 0 ? "X" : "-")
    }
}

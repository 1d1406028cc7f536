// Real firmware images from /work/shared/fixtures/firmware (see SOURCES.md there), each compared with the
// `<name>.rsc.json` dump an independent parser produced: ELF header fields, the `.resource_table` section
// and its load segment, the table header, every entry's fields, and a byte-exact re-serialisation of the
// table. The fixtures folder must exist: a missing folder fails rather than skips.

import AmpWire
import Foundation
import Testing

@Suite("FixtureTests")
struct FixtureTests {
    typealias Support = WireTestSupport

    /// The images described in SOURCES.md.
    static let expectedNames: Set<String> = [
        "am335x-pru0-lockin-rpmsg", "am335x-pru0-rc-encoder", "kr260-mbv32-zephyr-openamp",
        "kv260-r5-zephyr-rpmsg-multi", "stm32mp157c-dk2-zephyr-hello", "stm32mp157c-dk2-zephyr-rpmsg-multi",
        "zcu102-r5-xlnx-echo-test", "zcu102-r5-xlnx-split-rpu0",
    ]

    static func fixtureNames() throws -> [String] {
        let directory = Support.fixturesDirectory
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        return files.filter { $0.hasSuffix(".elf") }.map { String($0.dropLast(4)) }.sorted()
    }

    static func load(_ name: String) throws -> (elf: [UInt8], dump: [String: Any]) {
        let directory = Support.fixturesDirectory
        let elf = try Data(contentsOf: directory.appendingPathComponent(name + ".elf"))
        let json = try Data(contentsOf: directory.appendingPathComponent(name + ".rsc.json"))
        let dump = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any], "\(name).rsc.json is not an object")
        return ([UInt8](elf), dump)
    }

    @Test func fixturesFolderHoldsEveryImage() throws {
        let names = try Self.fixtureNames()
        #expect(Set(names).isSuperset(of: Self.expectedNames), "fixtures in \(Support.fixturesDirectory.path): \(names)")
    }

    @Test func everyFixtureMatchesItsReferenceDump() throws {
        let names = try Self.fixtureNames()
        try #require(!names.isEmpty, "no *.elf in \(Support.fixturesDirectory.path)")
        var tablesChecked = 0
        for name in names {
            let (bytes, dump) = try Self.load(name)
            let file = try ELFFile.parse(bytes)
            try Self.checkHeader(file, dump, name)
            if try Self.checkSectionAndTable(file, dump, name) { tablesChecked += 1 }
        }
        #expect(tablesChecked >= 7)
    }

    @Test func splitRPU0HasAnEmptyTable() throws {
        let (bytes, _) = try Self.load("zcu102-r5-xlnx-split-rpu0")
        let file = try ELFFile.parse(bytes)
        guard case .empty(let index, let section) = file.resourceTableSection() else {
            Issue.record("expected an empty .resource_table, got \(file.resourceTableSection())")
            return
        }
        #expect(index == 14 && section.offset == 0x21833 && section.size == 0 && section.addr == 0x3ED2_0000)
        #expect(try file.parseResourceTable() == nil)
        // The reference dump finds no PT_LOAD segment for it (the nearest starts at 0x3ed20100).
        #expect(file.loadSegment(containing: section) == nil)
    }

    @Test func pruLockinWarnsAboutItsTIVendorEntry() throws {
        let (bytes, _) = try Self.load("am335x-pru0-lockin-rpmsg")
        let table = try #require(try ELFFile.parse(bytes).parseResourceTable())
        #expect(table.warnings == ["unknown@92 has unknown type 5; Linux skips it"])
    }

    // MARK: Comparisons

    static func checkHeader(_ file: ELFFile, _ dump: [String: Any], _ name: String) throws {
        let elf = try #require(dump["elf"] as? [String: Any], "\(name): no elf object")
        let header = file.header
        #expect(header.elfClass.description == elf["class"] as? String, "\(name) class")
        #expect(header.byteOrder.rawValue == elf["data"] as? String, "\(name) data")
        #expect(int(elf["e_type"]) == Int(header.type), "\(name) e_type")
        #expect(int(elf["e_machine"]) == Int(header.machine), "\(name) e_machine")
        #expect(ELFHeader.machineName(header.machine) == elf["machine_name"] as? String, "\(name) machine_name")
        #expect(int(elf["e_entry"]) == Int(header.entry), "\(name) e_entry")
        #expect(int(elf["e_flags"]) == Int(header.flags), "\(name) e_flags")
        #expect(int(elf["e_phnum"]) == file.programHeaders.count, "\(name) e_phnum")
        #expect(int(elf["e_shnum"]) == file.sections.count, "\(name) e_shnum")
        #expect(int(elf["e_shstrndx"]) == Int(header.shstrndx), "\(name) e_shstrndx")
        #expect(int(dump["file_size"]) == file.bytes.count, "\(name) file_size")
    }

    /// Compares section and table; returns whether a table was present and compared.
    static func checkSectionAndTable(_ file: ELFFile, _ dump: [String: Any], _ name: String) throws -> Bool {
        let sectionDump = try #require(dump["section"] as? [String: Any], "\(name): no section object")
        let location = file.resourceTableSection()
        let section: ELFSectionHeader
        let index: Int
        switch location {
        case .absent, .noBits:
            Issue.record("\(name): table section not found: \(location)")
            return false
        case .empty(let emptyIndex, let emptySection):
            #expect(dump["table"] is NSNull, "\(name): reference has a table, parser says empty")
            index = emptyIndex
            section = emptySection
        case .present(let presentIndex, let presentSection, _):
            index = presentIndex
            section = presentSection
        }
        #expect(int(sectionDump["index"]) == index, "\(name) section index")
        #expect(sectionDump["name"] as? String == section.name, "\(name) section name")
        #expect(int(sectionDump["sh_type"]) == Int(section.type), "\(name) sh_type")
        #expect(int(sectionDump["sh_flags"]) == Int(section.flags), "\(name) sh_flags")
        #expect(int(sectionDump["sh_addr"]) == Int(section.addr), "\(name) sh_addr")
        #expect(int(sectionDump["sh_offset"]) == Int(section.offset), "\(name) sh_offset")
        #expect(int(sectionDump["sh_size"]) == Int(section.size), "\(name) sh_size")
        #expect(int(sectionDump["sh_addralign"]) == Int(section.addralign), "\(name) sh_addralign")

        guard case .present(_, _, let tableBytes) = location else { return false }
        try checkLoadSegment(file, section, sectionDump, name)

        let tableDump = try #require(dump["table"] as? [String: Any], "\(name): no table object")
        #expect(dump["table_endian"] as? String == file.header.byteOrder.rawValue, "\(name) table_endian")
        let rawHex = try #require(tableDump["raw_hex"] as? String, "\(name): no raw_hex")
        #expect(tableBytes.hexString == rawHex, "\(name): section bytes differ from raw_hex")

        let table = try #require(try file.parseResourceTable())
        #expect(int(tableDump["table_size"]) == table.size, "\(name) table_size")
        #expect(int(tableDump["ver"]) == Int(table.version), "\(name) ver")
        #expect(int(tableDump["num"]) == table.offsets.count, "\(name) num")
        #expect(ints(tableDump["reserved"]) == table.reserved.map(Int.init), "\(name) reserved")
        #expect(ints(tableDump["offsets"]) == table.offsets.map(Int.init), "\(name) offsets")
        let reference = (tableDump["warnings"] as? [String]) ?? ["<missing>"]
        let ours = table.warnings.filter { !$0.contains("unknown type") }
        #expect(ours == reference, "\(name) warnings")

        let entries = try #require(tableDump["entries"] as? [[String: Any]], "\(name): no entries")
        #expect(entries.count == table.entries.count, "\(name) entry count")
        for (entry, entryDump) in zip(table.entries, entries) {
            checkEntry(entry, entryDump, tableBytes, "\(name) \(entry.label)")
        }
        #expect(table.serialised(order: file.header.byteOrder).hexString == rawHex, "\(name): re-serialised table differs")
        return true
    }

    static func checkLoadSegment(_ file: ELFFile, _ section: ELFSectionHeader, _ sectionDump: [String: Any], _ name: String) throws {
        let segmentDump = try #require(sectionDump["load_segment"] as? [String: Any], "\(name): no load_segment")
        let match = try #require(file.loadSegment(containing: section), "\(name): no load segment found")
        #expect(int(segmentDump["index"]) == match.index, "\(name) load segment index")
        #expect(match.basis == .fileOffset, "\(name) load segment basis")
        #expect(int(segmentDump["p_offset"]) == Int(match.segment.offset), "\(name) p_offset")
        #expect(int(segmentDump["p_vaddr"]) == Int(match.segment.vaddr), "\(name) p_vaddr")
        #expect(int(segmentDump["p_paddr"]) == Int(match.segment.paddr), "\(name) p_paddr")
        #expect(int(segmentDump["p_filesz"]) == Int(match.segment.filesz), "\(name) p_filesz")
        #expect(int(segmentDump["p_memsz"]) == Int(match.segment.memsz), "\(name) p_memsz")
    }

    static func checkEntry(_ entry: ResourceTableEntry, _ dump: [String: Any], _ tableBytes: [UInt8], _ label: String) {
        #expect(int(dump["offset"]) == entry.offset, "\(label) offset")
        #expect(int(dump["type"]) == Int(entry.resource.type), "\(label) type")
        switch entry.resource {
        case .carveout(let carveout):
            checkMemory(dump, carveout.da, carveout.pa, carveout.len, carveout.flags, carveout.reserved, carveout.name, label)
        case .devmem(let devmem):
            checkMemory(dump, devmem.da, devmem.pa, devmem.len, devmem.flags, devmem.reserved, devmem.name, label)
        case .trace(let trace):
            #expect(dump["type_name"] as? String == "trace", "\(label) type_name")
            #expect(int(dump["da"]) == Int(trace.da), "\(label) da")
            #expect(int(dump["len"]) == Int(trace.len), "\(label) len")
            #expect(int(dump["reserved"]) == Int(trace.reserved), "\(label) reserved")
            #expect(dump["name"] as? String == trace.name, "\(label) name")
            #expect(int(dump["size"]) == entry.resource.encodedSize, "\(label) size")
        case .vdev(let vdev):
            #expect(dump["type_name"] as? String == "vdev", "\(label) type_name")
            #expect(int(dump["id"]) == Int(vdev.id), "\(label) id")
            #expect(int(dump["notifyid"]) == Int(vdev.notifyid), "\(label) notifyid")
            #expect(int(dump["dfeatures"]) == Int(vdev.dfeatures), "\(label) dfeatures")
            #expect(int(dump["gfeatures"]) == Int(vdev.gfeatures), "\(label) gfeatures")
            #expect(int(dump["config_len"]) == vdev.config.count, "\(label) config_len")
            #expect(int(dump["status"]) == Int(vdev.status), "\(label) status")
            #expect(int(dump["num_of_vrings"]) == vdev.vrings.count, "\(label) num_of_vrings")
            #expect(ints(dump["reserved"]) == vdev.reserved.map(Int.init), "\(label) reserved")
            #expect(dump["config_hex"] as? String == vdev.config.hexString, "\(label) config")
            #expect(int(dump["config_offset"]) == entry.offset + 4 + Resource.VdevOffset.config(vringCount: vdev.vrings.count))
            #expect(int(dump["size"]) == entry.resource.encodedSize, "\(label) size")
            let vrings = (dump["vrings"] as? [[String: Any]]) ?? []
            #expect(vrings.count == vdev.vrings.count, "\(label) vring count")
            for (index, (vring, vringDump)) in zip(vdev.vrings, vrings).enumerated() {
                let vringLabel = "\(label).vring[\(index)]"
                #expect(int(vringDump["offset"]) == entry.offset + 4 + Resource.VdevOffset.vring(index), "\(vringLabel) offset")
                #expect(int(vringDump["da"]) == Int(vring.da), "\(vringLabel) da")
                #expect(int(vringDump["align"]) == Int(vring.align), "\(vringLabel) align")
                #expect(int(vringDump["num"]) == Int(vring.num), "\(vringLabel) num")
                #expect(int(vringDump["notifyid"]) == Int(vring.notifyid), "\(vringLabel) notifyid")
                #expect(int(vringDump["pa"]) == Int(vring.pa), "\(vringLabel) pa")
            }
        case .vendor(_, let data), .unknown(_, let data):
            let rawLength = int(dump["raw_len_to_next"])
            #expect(rawLength == ResourceTable.entryHeaderSize + data.count, "\(label) length")
            let end = entry.offset + entry.resource.encodedSize
            #expect(Array(tableBytes[entry.offset..<end]).hexString == dump["raw_hex"] as? String, "\(label) raw bytes")
        }
    }

    static func checkMemory(
        _ dump: [String: Any], _ da: UInt32, _ pa: UInt32, _ len: UInt32, _ flags: UInt32, _ reserved: UInt32,
        _ name: String, _ label: String
    ) {
        #expect(int(dump["da"]) == Int(da), "\(label) da")
        #expect(int(dump["pa"]) == Int(pa), "\(label) pa")
        #expect(int(dump["len"]) == Int(len), "\(label) len")
        #expect(int(dump["flags"]) == Int(flags), "\(label) flags")
        #expect(int(dump["reserved"]) == Int(reserved), "\(label) reserved")
        #expect(dump["name"] as? String == name, "\(label) name")
    }
}

/// A JSON number as an Int (nil when absent or not a number).
private func int(_ value: Any?) -> Int? {
    if let number = value as? NSNumber, !(value is Bool) { return number.intValue }
    return value as? Int
}

/// A JSON array of numbers as [Int] (nil when absent or not all numbers).
private func ints(_ value: Any?) -> [Int]? {
    guard let array = value as? [Any] else { return nil }
    let numbers = array.compactMap(int)
    return numbers.count == array.count ? numbers : nil
}

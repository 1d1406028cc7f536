import AmpSystem
import AmpWire
import Testing

/// The `.resource_table` section of the sample firmware executables, decoded from the built ELF files.
@Suite struct SampleTableTests {
    static let expected = ResourceTable(resources: [
        .carveout(.init(da: 0x9F08_0000, pa: ResourceTable.addressAny, len: 0x1_0000, flags: 0, name: "ipcdata")),
        .trace(.init(da: 0x9F00_0000, len: 0x8000, name: "trace0")),
        .vdev(.init(
            id: 7, notifyid: 0, dfeatures: 0x2000_0001,
            vrings: [
                .init(da: ResourceTable.addressAny, align: 4096, num: 256, notifyid: 0, pa: 0),
                .init(da: ResourceTable.addressAny, align: 4096, num: 256, notifyid: 1, pa: 0),
            ])),
    ])

    /// The section as readelf shows it on a little-endian machine.
    static let goldenHex =
        "01000000030000000000000000000000" + "1c0000005400000084000000"
        + "00000000" + "0000089f" + "ffffffff" + "00000100" + "00000000" + "00000000" + "6970636461746100" + String(repeating: "0", count: 48)
        + "02000000" + "0000009f" + "00800000" + "00000000" + "7472616365300000" + String(repeating: "0", count: 48)
        + "03000000" + "07000000" + "00000000" + "01000020" + "00000000" + "00000000" + "00020000"
        + "ffffffff" + "00100000" + "00010000" + "00000000" + "00000000"
        + "ffffffff" + "00100000" + "00010000" + "01000000" + "00000000"

    @Test(arguments: ["ampsoc-fw-basic", "ampsoc-fw-faulty"])
    func sectionDecodesToTheSampleTable(firmware: String) throws {
        let elf = try ELFFile.parse(try FileIO.readFile(try TestHost.firmwarePath(firmware)))
        guard case .present(_, let section, let bytes) = elf.resourceTableSection() else {
            Issue.record("\(firmware) has no .resource_table section")
            return
        }
        #expect(section.size == 200)
        #expect(try elf.parseResourceTable() == Self.expected)
        #expect(bytes == Self.expected.serialised(order: .host))
        if ByteOrder.host == .little { #expect(bytes.hexString == Self.goldenHex) }
    }
}

import Testing

import AmpProfiles

extension ProfileTests {
    @Test func omap4ProfileDecodesWithExactValues() throws {
        let path = Self.profilesDirectory + "/omap4.json"
        let profile = try ProfileDecoder.load(path: path)
        #expect(profile.name == "omap4")
        #expect(profile.sourcePath == path)
        #expect(profile.host == HostProfile(coreType: "cortex-a9", cores: 2))
        #expect(profile.remoteProcessors.map(\.name) == ["ipu", "dsp"])

        let ipu = try #require(profile.remoteProcessor(named: "ipu"))
        #expect(
            ipu
                == RemoteProcessorProfile(
                    name: "ipu", coreType: "cortex-m3", cores: 2, firmware: "ampsoc-fw-services", firmwareArguments: [],
                    memory: [
                        MemoryRegionProfile(name: "text", kind: .carveout, da: 0x0000_0000, pa: 0x9D00_0000, size: 0x10_0000),
                        MemoryRegionProfile(name: "data", kind: .carveout, da: 0x8000_0000, pa: 0x9D10_0000, size: 0x10_0000),
                        MemoryRegionProfile(name: "ipc", kind: .carveout, da: 0x9F00_0000, pa: 0x9D20_0000, size: 0x10_0000),
                        MemoryRegionProfile(name: "l4cfg", kind: .devmem, da: 0xAA00_0000, pa: 0x4A00_0000, size: 0x100_0000),
                        MemoryRegionProfile(name: "l4per", kind: .devmem, da: 0xA800_0000, pa: 0x4800_0000, size: 0x100_0000),
                    ],
                    doorbell: .futex, bootAfter: [], autoBoot: true, recovery: true, coredump: .enabled,
                    watchdogTimeoutMs: 2000, rpmsgBufferSize: 512))

        let dsp = try #require(profile.remoteProcessor(named: "dsp"))
        #expect(
            dsp
                == RemoteProcessorProfile(
                    name: "dsp", coreType: "c64x", cores: 1, firmware: "ampsoc-fw-echo",
                    memory: [
                        MemoryRegionProfile(name: "text", kind: .carveout, da: 0x2000_0000, pa: 0x9C00_0000, size: 0x10_0000),
                        MemoryRegionProfile(name: "data", kind: .carveout, da: 0x8000_0000, pa: 0x9C10_0000, size: 0x10_0000),
                        MemoryRegionProfile(name: "ipc", kind: .carveout, da: 0x9F00_0000, pa: 0x9C20_0000, size: 0x10_0000),
                        MemoryRegionProfile(name: "l4cfg", kind: .devmem, da: 0x4A00_0000, pa: 0x4A00_0000, size: 0x100_0000),
                    ],
                    doorbell: .eventfd, autoBoot: true, recovery: true, coredump: .enabled, watchdogTimeoutMs: 2000))
        #expect(profile.autoBootOrder == ["ipu", "dsp"])
    }

    @Test func msm8660ProfileRunsModemAndAdspOverSmd() throws {
        let profile = try ProfileDecoder.load(path: Self.profilesDirectory + "/msm8660.json")
        #expect(profile.name == "msm8660")
        #expect(profile.remoteProcessors.map(\.name) == ["adsp", "modem"])
        #expect(profile.remoteProcessors.map(\.rpmsgTransport) == [.smd, .smd])
        #expect(profile.remoteProcessors.map(\.smdEdge) == [1, 0])
        for remote in profile.remoteProcessors {
            #expect(remote.memory.filter { $0.kind == .smem }.count == 1)
            // The sample firmware's table places its carveouts in 0x9F000000...0x9F0FFFFF.
            #expect(remote.memory.contains { $0.kind == .carveout && $0.contains(da: 0x9F00_0000, count: 0x10_0000) })
        }
        #expect(profile.remoteProcessor(named: "modem")?.bootAfter == ["adsp"])
        #expect(profile.bootOrder(for: "modem") == ["adsp", "modem"])
        #expect(profile.autoBootOrder == ["adsp", "modem"])
    }

    @Test func omap4SmdVariantMixesTransports() throws {
        let profile = try ProfileDecoder.load(path: Self.profilesDirectory + "/omap4-smd.json")
        #expect(profile.remoteProcessors.map(\.name) == ["ipu", "dsp"])
        #expect(profile.remoteProcessors.map(\.rpmsgTransport) == [.virtio, .smd])
        #expect(profile.remoteProcessor(named: "dsp")?.smdEdge == 1)
        #expect(profile.remoteProcessor(named: "ipu")?.smdEdge == nil)
    }

    @Test func msm8960ProfileDecodesWithModemAfterAdsp() throws {
        let profile = try ProfileDecoder.load(path: Self.profilesDirectory + "/msm8960-virtio.json")
        #expect(profile.name == "msm8960")
        #expect(profile.host == HostProfile(coreType: "krait", cores: 2))
        #expect(profile.remoteProcessors.map(\.name) == ["adsp", "modem"])
        let modem = try #require(profile.remoteProcessor(named: "modem"))
        #expect(modem.coreType == "hexagon")
        #expect(modem.bootAfter == ["adsp"])
        #expect(modem.autoBoot)
        #expect(modem.coredump == .inline)
        #expect(modem.doorbell == .futex)
        #expect(profile.remoteProcessor(named: "adsp")?.autoBoot == false)
        #expect(profile.bootOrder(for: "modem") == ["adsp", "modem"])
        #expect(profile.bootOrder(for: "adsp") == ["adsp"])
        #expect(profile.autoBootOrder == ["adsp", "modem"])
    }

    /// Every shipped profile runs the sample firmwares, whose shared table needs a carveout holding
    /// 0x9F000000...0x9F0FFFFF in every map.
    @Test(arguments: ["omap4.json", "msm8960-virtio.json"])
    func shippedProfilesHaveTheFirmwareIPCCarveout(file: String) throws {
        let profile = try ProfileDecoder.load(path: Self.profilesDirectory + "/" + file)
        for remote in profile.remoteProcessors {
            #expect(["ampsoc-fw-basic", "ampsoc-fw-services", "ampsoc-fw-echo"].contains(remote.firmware))
            let ipc = remote.memory.first { $0.kind == .carveout && $0.contains(da: 0x9F00_0000, count: 0x10_0000) }
            #expect(ipc != nil, "\(file): \(remote.name) has no carveout covering 0x9F000000...0x9F0FFFFF")
        }
    }
}

import Testing

import AmpJSON
import AmpProfiles

extension ProfileTests {
    static func withMemory(_ regions: String...) -> String {
        profile(remotes: [remote("a", ["memory": "[" + regions.joined(separator: ", ") + "]"])])
    }

    static let tooManyRegions = (0..<33).map { region("r\($0)", da: "\($0 * 4096)", pa: "0", size: "4096") }

    /// One case per validation rule: the document and the exact error it produces.
    static let validationCases: [(label: String, text: String, expected: String)] = [
        // SoC name
        ("empty soc", profile(soc: "\"\""), "t.json: $.soc: must not be empty"),
        ("soc bad character", profile(soc: "\"omap 4\""),
         "t.json: $.soc: contains \" \"; only A-Z, a-z, 0-9, _ and - are allowed"),
        ("soc non-ASCII", profile(soc: "\"omap\u{E9}\""),
         "t.json: $.soc: contains \"\u{E9}\"; only A-Z, a-z, 0-9, _ and - are allowed"),
        ("soc too long", profile(soc: "\"" + String(repeating: "x", count: 33) + "\""),
         "t.json: $.soc: must be at most 32 characters, found 33"),
        // host
        ("host coreType empty", profile(host: "{\"coreType\": \"\"}"), "t.json: $.host.coreType: must not be empty"),
        ("host cores 0", profile(host: "{\"coreType\": \"a9\", \"cores\": 0}"), "t.json: $.host.cores: must be in 1...16, found 0"),
        ("host cores 17", profile(host: "{\"coreType\": \"a9\", \"cores\": 17}"), "t.json: $.host.cores: must be in 1...16, found 17"),
        // remote processors
        ("no remotes", profile(remotes: []), "t.json: $.remoteprocs: must list at least one remote processor"),
        ("empty rproc name", profile(remotes: [remote("")]), "t.json: $.remoteprocs[0].name: must not be empty"),
        ("rproc name with slash", profile(remotes: [remote("a/b")]),
         "t.json: $.remoteprocs[0].name: contains \"/\"; only A-Z, a-z, 0-9, _ and - are allowed"),
        ("rproc name too long", profile(remotes: [remote(String(repeating: "m", count: 33))]),
         "t.json: $.remoteprocs[0].name: must be at most 32 characters, found 33"),
        ("duplicate rproc", profile(remotes: [remote("a"), remote("b"), remote("a")]),
         "t.json: $.remoteprocs[2].name: duplicate remote processor name \"a\" (first at $.remoteprocs[0].name)"),
        ("rproc coreType empty", profile(remotes: [remote("a", ["coreType": "\"\""])]),
         "t.json: $.remoteprocs[0].coreType: must not be empty"),
        ("rproc cores 0", profile(remotes: [remote("a", ["cores": "0"])]), "t.json: $.remoteprocs[0].cores: must be in 1...16, found 0"),
        ("rproc cores 17", profile(remotes: [remote("a", ["cores": "17"])]), "t.json: $.remoteprocs[0].cores: must be in 1...16, found 17"),
        ("firmware empty", profile(remotes: [remote("a", ["firmware": "\"\""])]), "t.json: $.remoteprocs[0].firmware: must not be empty"),
        ("watchdog 49", profile(remotes: [remote("a", ["watchdogMs": "49"])]),
         "t.json: $.remoteprocs[0].watchdogMs: must be 0 (disabled) or at least 50, found 49"),
        ("buffer 32", profile(remotes: [remote("a", ["rpmsgBufferSize": "32"])]),
         "t.json: $.remoteprocs[0].rpmsgBufferSize: must be a power of two in 64...65536, found 32"),
        ("buffer 131072", profile(remotes: [remote("a", ["rpmsgBufferSize": "131072"])]),
         "t.json: $.remoteprocs[0].rpmsgBufferSize: must be a power of two in 64...65536, found 131072"),
        ("buffer 768", profile(remotes: [remote("a", ["rpmsgBufferSize": "768"])]),
         "t.json: $.remoteprocs[0].rpmsgBufferSize: must be a power of two in 64...65536, found 768"),
        // boot dependencies
        ("bootAfter unknown", profile(remotes: [remote("a", ["bootAfter": "[\"zz\"]"])]),
         "t.json: $.remoteprocs[0].bootAfter[0]: no remote processor named \"zz\""),
        ("bootAfter self", profile(remotes: [remote("a"), remote("b", ["bootAfter": "[\"a\", \"b\"]"])]),
         "t.json: $.remoteprocs[1].bootAfter[1]: a remote processor cannot boot after itself"),
        ("bootAfter twice", profile(remotes: [remote("a"), remote("b", ["bootAfter": "[\"a\", \"a\"]"])]),
         "t.json: $.remoteprocs[1].bootAfter[1]: \"a\" is listed twice"),
        ("two-cycle", profile(remotes: [remote("modem", ["bootAfter": "[\"dsp\"]"]), remote("dsp", ["bootAfter": "[\"modem\"]"])]),
         "t.json: $.remoteprocs[1].bootAfter[0]: boot dependency cycle: modem -> dsp -> modem"),
        ("three-cycle behind a chain", profile(remotes: [
            remote("top", ["bootAfter": "[\"x\"]"]), remote("x", ["bootAfter": "[\"y\"]"]),
            remote("y", ["bootAfter": "[\"z\"]"]), remote("z", ["bootAfter": "[\"x\"]"]),
        ]), "t.json: $.remoteprocs[3].bootAfter[0]: boot dependency cycle: x -> y -> z -> x"),
        // memory map
        ("no regions", profile(remotes: [remote("a", ["memory": "[]"])]),
         "t.json: $.remoteprocs[0].memory: must list 1 to 32 regions, found 0"),
        ("33 regions", profile(remotes: [remote("a", ["memory": "[" + tooManyRegions.joined(separator: ", ") + "]"])]),
         "t.json: $.remoteprocs[0].memory: must list 1 to 32 regions, found 33"),
        ("no carveout", withMemory(region(kind: "devmem")),
         "t.json: $.remoteprocs[0].memory: must contain at least one carveout region"),
        ("region name empty", withMemory(region("")), "t.json: $.remoteprocs[0].memory[0].name: must not be empty"),
        ("region name 8 chars", withMemory(region("carveout")),
         "t.json: $.remoteprocs[0].memory[0].name: must be at most 7 characters, found 8"),
        ("region name bad char", withMemory(region("a.b")),
         "t.json: $.remoteprocs[0].memory[0].name: contains \".\"; only A-Z, a-z, 0-9, _ and - are allowed"),
        ("region name duplicate", withMemory(region("ram", da: "0"), region("ram", da: "\"0x100000\"")),
         "t.json: $.remoteprocs[0].memory[1].name: duplicate region name \"ram\" (first at $.remoteprocs[0].memory[0].name)"),
        ("size 0", withMemory(region(size: "0")), "t.json: $.remoteprocs[0].memory[0].size: must be > 0"),
        ("size unaligned", withMemory(region(size: "\"0x1800\"")),
         "t.json: $.remoteprocs[0].memory[0].size: must be a multiple of 4096 (0x1000), found 0x00001800"),
        ("da unaligned", withMemory(region(da: "\"0x9F000800\"")),
         "t.json: $.remoteprocs[0].memory[0].da: must be 4096-aligned, found 0x9F000800"),
        ("pa unaligned", withMemory(region(pa: "\"0x9D000010\"")),
         "t.json: $.remoteprocs[0].memory[0].pa: must be 4096-aligned, found 0x9D000010"),
        ("da + size overflows", withMemory(region(da: "\"0xFFF00000\"", size: "\"0x100000\"")),
         "t.json: $.remoteprocs[0].memory[0].size: da 0xFFF00000 + size 0x00100000 overflows the 32-bit device address space"),
        ("pa + size overflows", withMemory(region(pa: "\"0xFFFFF000\"", size: "\"0x2000\"")),
         "t.json: $.remoteprocs[0].memory[0].size: pa 0xFFFFF000 + size 0x00002000 overflows the 32-bit physical address space"),
        ("overlap", withMemory(region("text", da: "0", size: "\"0x100000\""), region("data", da: "\"0x80000\"", size: "\"0x100000\"")),
         "t.json: $.remoteprocs[0].memory[1]: device addresses 0x00080000...0x0017FFFF overlap region \"text\" (0x00000000...0x000FFFFF)"),
        ("overlap inside", withMemory(region("big", da: "0", size: "\"0x100000\""), region("small", da: "\"0x1000\"", size: "4096")),
         "t.json: $.remoteprocs[0].memory[1]: device addresses 0x00001000...0x00001FFF overlap region \"big\" (0x00000000...0x000FFFFF)"),
        // rpmsg transport
        ("unknown transport", profile(remotes: [remote("a", ["rpmsgTransport": "\"glink\""])]),
         "t.json: $.remoteprocs[0].rpmsgTransport: must be one of virtio, smd; found \"glink\""),
        ("smdEdge on virtio", profile(remotes: [remote("a", ["smdEdge": "1"])]),
         "t.json: $.remoteprocs[0].smdEdge: only for \"rpmsgTransport\": \"smd\""),
        ("smem region on virtio", withMemory(region(), region("smem", kind: "smem", da: "\"0x40000000\"", pa: "\"0x40000000\"")),
         "t.json: $.remoteprocs[0].memory[1].kind: an smem region is only for \"rpmsgTransport\": \"smd\""),
        ("smd without edge", profile(remotes: [remote("a", ["rpmsgTransport": "\"smd\""])]),
         "t.json: $.remoteprocs[0].smdEdge: required with \"rpmsgTransport\": \"smd\""),
        ("smd edge too large", profile(remotes: [remote("a", ["rpmsgTransport": "\"smd\"", "smdEdge": "256"])]),
         "t.json: $.remoteprocs[0].smdEdge: must be 0...255 (the 8-bit edge field of SMD allocation entries), found 256"),
        ("smd without smem", profile(remotes: [remote("a", ["rpmsgTransport": "\"smd\"", "smdEdge": "0"])]),
         "t.json: $.remoteprocs[0].memory: an SMD remote needs exactly one region of kind \"smem\", found 0"),
        ("smd smem too small",
         profile(remotes: [remote("a", [
             "rpmsgTransport": "\"smd\"", "smdEdge": "0",
             "memory": "[\(region()), \(region("smem", kind: "smem", da: "\"0x40000000\"", pa: "\"0x40000000\"", size: "\"0x1000\""))]",
         ])]),
         "t.json: $.remoteprocs[0].memory[1].size: an smem region must be 65536...67108864 bytes, found 4096"),
    ]

    @Test(arguments: validationCases)
    func validationErrorsNamePathAndReason(label: String, text: String, expected: String) {
        #expect(Self.failure(text) == expected, "\(label)")
    }

    @Test func validationErrorCarriesStructuredFields() {
        let error = Self.decodeError(Self.withMemory(Self.region(size: "0")))
        let expectedPath = JSONPath([.key("remoteprocs"), .index(0), .key("memory"), .index(0), .key("size")])
        #expect(error == .invalid(file: "t.json", path: expectedPath, reason: "must be > 0"))
        #expect(error?.file == "t.json")
        #expect(error?.path == expectedPath)
        #expect(error?.reason == "must be > 0")
    }

    @Test func anSmdRemoteDecodes() throws {
        let text = Self.profile(remotes: [Self.remote("modem", [
            "rpmsgTransport": "\"smd\"", "smdEdge": "0",
            "memory": "[\(Self.region()), \(Self.region("smem", kind: "smem", da: "\"0x40000000\"", pa: "\"0x40000000\"", size: "\"0x200000\""))]",
        ])])
        let decoded = try ProfileDecoder.decode(json: text, sourcePath: "t.json")
        let modem = try #require(decoded.remoteProcessors.first)
        #expect(modem.rpmsgTransport == .smd)
        #expect(modem.smdEdge == 0)
        #expect(modem.memory.map(\.kind) == [.carveout, .smem])
        #expect(try ProfileDecoder.decode(json: Self.profile(), sourcePath: "t.json").remoteProcessors.first?.rpmsgTransport == .virtio)
    }

    @Test func limitsThatAreAllowed() throws {
        let regions = (0..<32).map { Self.region("r\($0)", da: "\($0 * 4096)", pa: "0", size: "4096") }
        let edge = Self.remote(String(repeating: "n", count: 32), [
            "cores": "16", "watchdogMs": "50", "rpmsgBufferSize": "65536", "memory": "[" + regions.joined(separator: ", ") + "]",
        ])
        let small = Self.remote("Z_9-z", ["cores": "1", "watchdogMs": "0", "rpmsgBufferSize": "64",
            "memory": "[\(Self.region("abcdefg", da: "\"0xFFFFE000\"", pa: "\"0xFFFFE000\"", size: "4096"))]"])
        let profile = try ProfileDecoder.decode(
            json: Self.profile(soc: "\"" + String(repeating: "s", count: 32) + "\"", remotes: [edge, small]), sourcePath: Self.file)
        #expect(profile.remoteProcessors.map(\.memory.count) == [32, 1])
        // Adjacent regions (end of one == start of the next) do not overlap.
        #expect(profile.remoteProcessors[0].memory[1].da == 4096)
    }

    @Test func profilesBuiltInCodeValidateWithTheSamePaths() {
        var profile = SoCProfile(
            name: "soc", description: "", host: HostProfile(coreType: "a9", cores: 1),
            remoteProcessors: [
                RemoteProcessorProfile(
                    name: "m3", coreType: "cortex-m3", firmware: "fw",
                    memory: [MemoryRegionProfile(name: "ram", kind: .carveout, da: 0, pa: 0, size: 4096)])
            ], sourcePath: "built-in")
        #expect(throws: Never.self) { try profile.validate() }
        profile.remoteProcessors[0].watchdogTimeoutMs = 10
        #expect(throws: ProfileError.invalid(
            file: "built-in", path: JSONPath([.key("remoteprocs"), .index(0), .key("watchdogMs")]),
            reason: "must be 0 (disabled) or at least 50, found 10")) { try profile.validate() }
    }
}

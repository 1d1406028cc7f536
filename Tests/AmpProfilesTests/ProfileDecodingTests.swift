import Testing

import AmpJSON
import AmpProfiles

extension ProfileTests {
    @Test func minimalProfileGetsTheModelDefaults() throws {
        let profile = try ProfileDecoder.decode(
            json: Self.profile(host: "{\"coreType\": \"cortex-a9\"}"), sourcePath: "dir/t.json")
        #expect(profile.description == "")
        #expect(profile.sourcePath == "dir/t.json")
        #expect(profile.host == HostProfile(coreType: "cortex-a9", cores: 1))
        let expected = RemoteProcessorProfile(
            name: "a", coreType: "cortex-m3", firmware: "fw",
            memory: [MemoryRegionProfile(name: "ram", kind: .carveout, da: 0x9F00_0000, pa: 0x9D00_0000, size: 0x10_0000)])
        #expect(profile.remoteProcessors == [expected])
        #expect(expected.cores == 1 && expected.doorbell == .futex && expected.autoBoot && expected.recovery)
        #expect(expected.coredump == .disabled && expected.watchdogTimeoutMs == 0 && expected.rpmsgBufferSize == 512)
    }

    @Test func everyOptionalFieldIsRead() throws {
        let remote = Self.remote("b", [
            "cores": "3", "firmwareArguments": "[\"-v\", \"--fast\"]", "doorbell": "\"eventfd\"", "autoBoot": "false",
            "recovery": "false", "coredump": "\"inline\"", "watchdogMs": "\"250\"", "rpmsgBufferSize": "\"0x1000\"",
        ])
        let profile = try ProfileDecoder.decode(
            json: Self.profile(remotes: [remote], extra: ", \"description\": \"demo board\""), sourcePath: Self.file)
        #expect(profile.description == "demo board")
        let decoded = try #require(profile.remoteProcessors.first)
        #expect(decoded.cores == 3)
        #expect(decoded.firmwareArguments == ["-v", "--fast"])
        #expect(decoded.doorbell == .eventfd)
        #expect(!decoded.autoBoot && !decoded.recovery)
        #expect(decoded.coredump == .inline)
        #expect(decoded.watchdogTimeoutMs == 250)
        #expect(decoded.rpmsgBufferSize == 4096)
    }

    @Test func nullMeansDefault() throws {
        let remote = Self.remote("a", ["coredump": "null", "cores": "null"])
        let profile = try ProfileDecoder.decode(json: Self.profile(remotes: [remote]), sourcePath: Self.file)
        #expect(profile.remoteProcessors.first?.coredump == .disabled)
        #expect(profile.remoteProcessors.first?.cores == 1)
    }

    @Test func addressesAcceptIntegersHexAndDecimalStrings() throws {
        let region = Self.region(da: "\"0X9f000000\"", pa: "2634022912", size: "\"1048576\"")
        let profile = try ProfileDecoder.decode(
            json: Self.profile(remotes: [Self.remote("a", ["memory": "[\(region)]"])]), sourcePath: Self.file)
        #expect(profile.remoteProcessors.first?.memory == [
            MemoryRegionProfile(name: "ram", kind: .carveout, da: 0x9F00_0000, pa: 0x9D00_0000, size: 0x10_0000)
        ])
    }

    static let numberCases: [(value: String, expected: String)] = [
        ("\"0x100000000\"", "t.json: $.remoteprocs[0].memory[0].da: 0x100000000 is out of range for UInt32 (0...4294967295)"),
        ("\"4294967296\"", "t.json: $.remoteprocs[0].memory[0].da: 4294967296 is out of range for UInt32 (0...4294967295)"),
        ("\"99999999999999999999\"", "t.json: $.remoteprocs[0].memory[0].da: 99999999999999999999 is out of range for UInt32 (0...4294967295)"),
        ("-4096", "t.json: $.remoteprocs[0].memory[0].da: -4096 is out of range for UInt32 (0...4294967295)"),
        ("\"0x\"", "t.json: $.remoteprocs[0].memory[0].da: expected an integer, a hex string like \"0x1000\" or a decimal string like \"4096\", found the string \"0x\""),
        ("\"-4096\"", "t.json: $.remoteprocs[0].memory[0].da: expected an integer, a hex string like \"0x1000\" or a decimal string like \"4096\", found the string \"-4096\""),
        ("\"0x1000g\"", "t.json: $.remoteprocs[0].memory[0].da: expected an integer, a hex string like \"0x1000\" or a decimal string like \"4096\", found the string \"0x1000g\""),
        ("\"\"", "t.json: $.remoteprocs[0].memory[0].da: expected an integer, a hex string like \"0x1000\" or a decimal string like \"4096\", found the string \"\""),
        ("4096.5", "t.json: $.remoteprocs[0].memory[0].da: expected an integer, found 4096.5 (a number with a fraction or exponent)"),
        ("true", "t.json: $.remoteprocs[0].memory[0].da: expected an integer, found the boolean true"),
    ]

    @Test(arguments: numberCases)
    func badNumbersNameThePath(value: String, expected: String) {
        let region = Self.region(da: value)
        #expect(Self.failure(Self.profile(remotes: [Self.remote("a", ["memory": "[\(region)]"])])) == expected)
    }

    @Test func syntaxErrorsReportLineAndColumn() {
        let text = "{\n  \"soc\": \"t\",\n  \"host\": {\"coreType\": \"x\",}\n}"
        let error = Self.decodeError(text)
        guard case .syntax(let file, let line, let column, _)? = error else {
            Issue.record("expected a syntax error, got \(String(describing: error))")
            return
        }
        #expect(file == Self.file)
        #expect(line == 3)
        #expect(column == 28)  // the "}" right after the trailing comma
        #expect(error?.description == "t.json: line 3, column 28: expected a string key, found '}'")
    }

    static let shapeCases: [(label: String, text: String, expected: String)] = [
        ("unknown root key", profile(extra: ", \"remoteProcs\": []"),
         "t.json: $.remoteProcs: unknown key (allowed: soc, description, host, remoteprocs)"),
        ("unknown remote key", profile(remotes: [remote("a", ["autoboot": "true"])]),
         "t.json: $.remoteprocs[0].autoboot: unknown key (allowed: name, coreType, cores, firmware, firmwareArguments, doorbell, bootAfter, autoBoot, recovery, coredump, watchdogMs, rpmsgBufferSize, rpmsgTransport, smdEdge, memory)"),
        ("unknown region key", profile(remotes: [remote("a", ["memory": "[{\"name\": \"r\", \"kind\": \"carveout\", \"da\": 0, \"pa\": 0, \"size\": 4096, \"len\": 1}]"])]),
         "t.json: $.remoteprocs[0].memory[0].len: unknown key (allowed: name, kind, da, pa, size)"),
        ("unknown host key", profile(host: "{\"coreType\": \"a9\", \"smp\": true}"),
         "t.json: $.host.smp: unknown key (allowed: coreType, cores)"),
        ("missing soc", "{\"host\": {\"coreType\": \"a9\"}, \"remoteprocs\": []}",
         "t.json: $: missing required key \"soc\""),
        ("missing firmware", profile(remotes: [remote("a", ["firmware": nil])]),
         "t.json: $.remoteprocs[0]: missing required key \"firmware\""),
        ("missing pa", profile(remotes: [remote("a", ["memory": "[{\"name\": \"r\", \"kind\": \"carveout\", \"da\": 0, \"size\": 4096}]"])]),
         "t.json: $.remoteprocs[0].memory[0]: missing required key \"pa\""),
        ("root not an object", "[]", "t.json: $: expected an object, found an array"),
        ("remoteprocs not an array", "{\"soc\": \"t\", \"host\": {\"coreType\": \"a9\"}, \"remoteprocs\": {}}",
         "t.json: $.remoteprocs: expected an array, found an object"),
        ("bad doorbell", profile(remotes: [remote("a", ["doorbell": "\"mailbox\""])]),
         "t.json: $.remoteprocs[0].doorbell: must be one of futex, eventfd; found \"mailbox\""),
        ("bad coredump", profile(remotes: [remote("a", ["coredump": "\"full\""])]),
         "t.json: $.remoteprocs[0].coredump: must be one of disabled, enabled, inline; found \"full\""),
        ("bad kind", profile(remotes: [remote("a", ["memory": "[\(region(kind: "rom"))]"])]),
         "t.json: $.remoteprocs[0].memory[0].kind: must be one of carveout, devmem, smem; found \"rom\""),
        ("autoBoot not a boolean", profile(remotes: [remote("a", ["autoBoot": "\"yes\""])]),
         "t.json: $.remoteprocs[0].autoBoot: expected a boolean, found the string \"yes\""),
        ("bootAfter not strings", profile(remotes: [remote("a", ["bootAfter": "[\"b\", 3]"])]),
         "t.json: $.remoteprocs[0].bootAfter[1]: expected a string, found the integer 3"),
    ]

    @Test(arguments: shapeCases)
    func shapeErrorsNameThePath(label: String, text: String, expected: String) {
        #expect(Self.failure(text) == expected, "\(label)")
    }

    @Test func unreadableFiles() {
        #expect(throws: ProfileError.unreadable(file: "/nonexistent/x.json", reason: "cannot open: No such file or directory")) {
            try ProfileDecoder.load(path: "/nonexistent/x.json")
        }
        #expect(throws: ProfileError.unreadable(file: Self.profilesDirectory, reason: "not a regular file")) {
            try ProfileDecoder.load(path: Self.profilesDirectory)
        }
    }
}

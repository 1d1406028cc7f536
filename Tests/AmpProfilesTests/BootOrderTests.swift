import Testing

import AmpProfiles

extension ProfileTests {
    static func chain(_ remotes: [(name: String, after: [String], autoBoot: Bool)]) -> SoCProfile {
        SoCProfile(
            name: "s", description: "", host: HostProfile(coreType: "a9", cores: 1),
            remoteProcessors: remotes.map { remote in
                RemoteProcessorProfile(
                    name: remote.name, coreType: "x", firmware: "fw",
                    memory: [MemoryRegionProfile(name: "ram", kind: .carveout, da: 0, pa: 0, size: 4096)],
                    bootAfter: remote.after, autoBoot: remote.autoBoot)
            }, sourcePath: "s.json")
    }

    @Test func bootOrderPutsDependenciesFirstTransitively() throws {
        let profile = Self.chain([
            ("app", ["modem", "gps"], true),
            ("modem", ["adsp"], false),
            ("gps", ["adsp", "sensors"], false),
            ("adsp", [], false),
            ("sensors", [], true),
            ("idle", [], false),
        ])
        try profile.validate()
        #expect(profile.bootOrder(for: "app") == ["adsp", "modem", "sensors", "gps", "app"])
        #expect(profile.bootOrder(for: "gps") == ["adsp", "sensors", "gps"])
        #expect(profile.bootOrder(for: "adsp") == ["adsp"])
        #expect(profile.bootOrder(for: "idle") == ["idle"])
        #expect(profile.bootOrder(for: "nope") == [])
        #expect(profile.autoBootOrder == ["adsp", "modem", "sensors", "gps", "app"])
    }

    @Test func autoBootOrderFollowsProfileOrder() {
        let profile = Self.chain([("b", [], true), ("a", [], true), ("c", ["a"], false), ("d", ["c"], true)])
        #expect(profile.autoBootOrder == ["b", "a", "c", "d"])
    }

    @Test func bootOrderDoesNotLoopOnUnvalidatedCycles() {
        let profile = Self.chain([("x", ["y"], true), ("y", ["x", "ghost"], true)])
        #expect(profile.bootOrder(for: "x") == ["y", "x"])
        #expect(profile.bootOrder(for: "y") == ["x", "y"])
        do {
            try profile.validate()
            Issue.record("validated a profile with an unknown dependency")
        } catch {
            // The unknown name is reported before the cycle: it is checked per processor, cycles last.
            #expect(error.description == "s.json: $.remoteprocs[1].bootAfter[1]: no remote processor named \"ghost\"")
        }
    }

    @Test func longDependencyChainsDoNotRecurse() {
        let count = 20_000
        let remotes = (0..<count).map { index in
            (name: "p\(index)", after: index + 1 < count ? ["p\(index + 1)"] : [String](), autoBoot: false)
        }
        let profile = Self.chain(remotes)
        let order = profile.bootOrder(for: "p0")
        #expect(order.count == count)
        #expect(order.first == "p\(count - 1)")
        #expect(order.last == "p0")
    }
}

import Foundation
import Testing

import AmpProfiles

extension ProfileTests {
    /// A scratch directory tree for firmware lookups, removed when the test ends.
    final class FirmwareTree {
        let root: String

        init() throws {
            root = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("ampsoc-profiles-" + UUID().uuidString).path
            for directory in ["profiles/sub", "env1", "env2", "bin", ".build/debug", "abs", "profiles/fw-dir"] {
                try FileManager.default.createDirectory(atPath: root + "/" + directory, withIntermediateDirectories: true)
            }
            for file in [
                "profiles/fw-local", "profiles/sub/fw-rel", "env2/fw-env", "env2/fw-local", "bin/ampsoc", "bin/fw-exe",
                ".build/debug/fw-build", "abs/fw-abs", "bin/fw-dir",
            ] {
                #expect(FileManager.default.createFile(atPath: root + "/" + file, contents: Data("ELF".utf8)))
            }
        }

        deinit { try? FileManager.default.removeItem(atPath: root) }

        var profilePath: String { root + "/profiles/p.json" }

        func locator(searchPath: String? = nil) -> FirmwareLocator {
            FirmwareLocator(
                environment: searchPath.map { ["AMPSOC_FIRMWARE_PATH": $0, "UNRELATED": "/abs"] } ?? [:],
                executablePath: root + "/bin/ampsoc", currentDirectory: "/nowhere")
        }
    }

    @Test func locatorResolvesEachKindOfName() throws {
        let tree = try FirmwareTree()
        let root = tree.root
        let locator = tree.locator(searchPath: "\(root)/env1::\(root)/env2")
        #expect(try locator.locate("\(root)/abs/fw-abs", profilePath: tree.profilePath) == "\(root)/abs/fw-abs")
        #expect(try locator.locate("sub/fw-rel", profilePath: tree.profilePath) == "\(root)/profiles/sub/fw-rel")
        #expect(try locator.locate("./sub//fw-rel", profilePath: tree.profilePath) == "\(root)/profiles/sub/fw-rel")
        #expect(try locator.locate("fw-env", profilePath: tree.profilePath) == "\(root)/env2/fw-env")
        // The search path comes before the profile's directory.
        #expect(try locator.locate("fw-local", profilePath: tree.profilePath) == "\(root)/env2/fw-local")
        #expect(try tree.locator().locate("fw-local", profilePath: tree.profilePath) == "\(root)/profiles/fw-local")
        #expect(try locator.locate("fw-exe", profilePath: tree.profilePath) == "\(root)/bin/fw-exe")
        #expect(try locator.locate("fw-build", profilePath: tree.profilePath) == "\(root)/profiles/../.build/debug/fw-build")
        // A directory with the firmware's name is not firmware: the search goes on.
        #expect(try locator.locate("fw-dir", profilePath: tree.profilePath) == "\(root)/bin/fw-dir")
    }

    @Test func locatorErrorListsEveryPlaceSearched() throws {
        let tree = try FirmwareTree()
        let root = tree.root
        let locator = tree.locator(searchPath: "\(root)/env1:\(root)/env2")
        let expected = FirmwareNotFoundError(
            firmware: "missing",
            searched: [
                "\(root)/env1/missing", "\(root)/env2/missing", "\(root)/profiles/missing", "\(root)/bin/missing",
                "\(root)/profiles/../.build/debug/missing",
            ])
        #expect(throws: expected) { try locator.locate("missing", profilePath: tree.profilePath) }
        #expect(expected.description == "firmware \"missing\" not found; searched: " + expected.searched.joined(separator: ", "))
        #expect(throws: FirmwareNotFoundError(firmware: "/abs/none", searched: ["/abs/none"])) {
            try locator.locate("/abs/none", profilePath: tree.profilePath)
        }
        #expect(throws: FirmwareNotFoundError(firmware: "sub/none", searched: ["\(root)/profiles/sub/none"])) {
            try locator.locate("sub/none", profilePath: tree.profilePath)
        }
    }

    @Test func relativeProfilePathsResolveAgainstTheWorkingDirectory() throws {
        let tree = try FirmwareTree()
        let locator = FirmwareLocator(environment: [:], executablePath: nil, currentDirectory: tree.root)
        #expect(try locator.locate("fw-local", profilePath: "profiles/p.json") == "\(tree.root)/profiles/fw-local")
        #expect(try locator.locate("fw-build", profilePath: "profiles/p.json") == "\(tree.root)/profiles/../.build/debug/fw-build")
        #expect(locator.candidates(for: "x", profilePath: "p.json") == ["\(tree.root)/x", "\(tree.root)/../.build/debug/x"])
        #expect(locator.candidates(for: "", profilePath: "p.json") == [])
    }

    @Test func locatorFindsTheFirmwareOfAProfile() throws {
        let tree = try FirmwareTree()
        let profile = try ProfileDecoder.decode(
            json: Self.profile(remotes: [Self.remote("a", ["firmware": "\"sub/fw-rel\""])]), sourcePath: tree.profilePath)
        let remote = try #require(profile.remoteProcessors.first)
        #expect(try tree.locator().locateFirmware(of: remote, in: profile) == "\(tree.root)/profiles/sub/fw-rel")
    }

    @Test func currentProcessLocatorUsesProcSelfExe() {
        let locator = FirmwareLocator.forCurrentProcess()
        #expect(locator.executablePath?.hasPrefix("/") == true)
        #expect(locator.currentDirectory == FileManager.default.currentDirectoryPath)
        #expect(locator.environment[FirmwareLocator.searchPathVariable] == ProcessInfo.processInfo.environment["AMPSOC_FIRMWARE_PATH"])
    }
}

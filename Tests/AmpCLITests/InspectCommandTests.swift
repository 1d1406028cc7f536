import AmpJSON
import AmpWire
import Foundation
import Synchronization
import Testing
@testable import AmpCLI

/// `ampsoc inspect` through the command-line front end: output format, outcomes and exit statuses.
@Suite struct InspectCommandTests {
    /// Runs the command line in-process, capturing stdout and stderr.
    static func run(_ arguments: [String]) -> (status: Int32, stdout: String, stderr: String) {
        let out = Mutex(""), err = Mutex("")
        let console = Console(writeOut: { text in out.withLock { $0 += text } }, writeErr: { text in err.withLock { $0 += text } })
        let status = AmpsocCommandLine.main(arguments, console: console)
        return (status, out.withLock { $0 }, err.withLock { $0 })
    }

    static func object(_ value: JSONValue?) -> JSONObject? {
        if case .object(let object)? = value { return object }
        return nil
    }

    static func int(_ value: JSONValue?) -> Int64? {
        if case .int(let number)? = value { return number }
        return nil
    }

    static func temporaryFile(_ bytes: [UInt8]) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ampsoc-inspect-\(UUID().uuidString).elf")
        try Data(bytes).write(to: url)
        return url
    }

    @Test func jsonMatchesTheReferenceDumpOfEveryFixture() throws {
        for image in try FixturePaths.firmwareImages() {
            let result = Self.run(["inspect", image.path, "--json"])
            #expect(result.status == 0, "\(image.lastPathComponent): \(result.stderr)")
            #expect(result.stderr.isEmpty)
            let report = try #require(Self.object(try JSONValue.parse(result.stdout)))
            #expect(report.keys == ["file", "elf", "segments", "resourceTable", "warnings"])
            let referenceURL = image.deletingPathExtension().appendingPathExtension("rsc.json")
            let reference = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: referenceURL)) as? [String: Any])
            let referenceELF = try #require(reference["elf"] as? [String: Any])
            let elf = try #require(Self.object(report["elf"]))
            #expect(elf.keys == ["class", "endian", "type", "machine", "entry"])
            #expect(Self.int(elf["machine"]) == Int64(referenceELF["e_machine"] as? Int ?? -1))
            #expect(Self.int(elf["entry"]) == Int64(referenceELF["e_entry"] as? Int ?? -1))
            guard case .array(let segments)? = report["segments"] else { Issue.record("segments"); continue }
            #expect(segments.count == referenceELF["e_phnum"] as? Int)

            guard let referenceTable = reference["table"] as? [String: Any] else {
                #expect(report["resourceTable"] == .null, "\(image.lastPathComponent) has no table in the reference")
                guard case .array(let warnings)? = report["warnings"] else { Issue.record("warnings"); continue }
                #expect(!warnings.isEmpty)
                continue
            }
            let table = try #require(Self.object(report["resourceTable"]))
            #expect(table.keys == ["sectionIndex", "fileOffset", "address", "size", "version", "count", "offsets", "entries"])
            let section = try #require(reference["section"] as? [String: Any])
            #expect(Self.int(table["sectionIndex"]) == Int64(section["index"] as? Int ?? -1))
            #expect(Self.int(table["fileOffset"]) == Int64(section["sh_offset"] as? Int ?? -1))
            #expect(Self.int(table["address"]) == Int64(section["sh_addr"] as? Int ?? -1))
            #expect(Self.int(table["size"]) == Int64(section["sh_size"] as? Int ?? -1))
            #expect(Self.int(table["count"]) == Int64(referenceTable["num"] as? Int ?? -1))
            guard case .array(let entries)? = table["entries"],
                let referenceEntries = referenceTable["entries"] as? [[String: Any]]
            else { Issue.record("entries"); continue }
            #expect(entries.count == referenceEntries.count)
            for (entry, expected) in zip(entries.compactMap(Self.object), referenceEntries) {
                #expect(Self.int(entry["offset"]) == Int64(expected["offset"] as? Int ?? -1))
                #expect(Self.int(entry["type"]) == Int64(expected["type"] as? Int ?? -1))
                if case .string(let kind)? = entry["kind"], kind == "unknown" || kind == "vendor" {
                    // "data" is the entry's raw bytes after the type word.
                    let raw = try #require(expected["raw_hex"] as? String)
                    #expect(entry["data"] == .string(String(raw.dropFirst(8))))
                    #expect(Self.int(entry["size"]) == Int64(expected["raw_len_to_next"] as? Int ?? -1))
                }
                if case .string("vdev")? = entry["kind"], case .array(let vrings)? = entry["vrings"] {
                    let expectedVrings = try #require(expected["vrings"] as? [[String: Any]])
                    for (vring, reference) in zip(vrings.compactMap(Self.object), expectedVrings) {
                        for key in ["da", "align", "num", "notifyid", "pa"] {
                            #expect(Self.int(vring[key]) == Int64(reference[key] as? Int ?? -1), "\(key)")
                        }
                    }
                    #expect(entry["config"] == .string(expected["config_hex"] as? String ?? "?"))
                }
            }
        }
    }

    @Test func textReportListsEveryEntry() throws {
        let image = FixturePaths.firmwareFixtures.appendingPathComponent("zcu102-r5-xlnx-echo-test.elf")
        let result = Self.run(["inspect", image.path])
        #expect(result.status == 0)
        #expect(result.stdout.contains("Entry 0 at offset 48: vdev (type 3)"))
        #expect(result.stdout.contains("Vring 1: da any (0xffffffff), align 4096, num 256, notify id 2, pa 0x0"))
        #expect(result.stdout.contains("Entry 1 at offset 116: trace (type 2)"))
        #expect(result.stdout.contains("Name             r5_trace"))
    }

    @Test func malformedImagesExitOneWithOneErrorLine() throws {
        let image = FixturePaths.firmwareFixtures.appendingPathComponent("stm32mp157c-dk2-zephyr-hello.elf")
        var bytes = try [UInt8](Data(contentsOf: image))
        // Table at file offset 28100 (0x6dc4): set its version to 2.
        bytes[28100] = 2
        let file = try Self.temporaryFile(bytes)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = Self.run(["inspect", file.path, "--json"])
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr == "error: \(file.path): resource_table.ver at offset 28100 (0x6dc4): must be 1, found 2\n"
            || result.stderr.hasPrefix("error: \(file.path): resource_table.ver at offset 28100 (0x6dc4)"))
        #expect(result.stderr.split(separator: "\n").count == 1)

        let truncated = try Self.temporaryFile(Array(bytes[0..<40]))
        defer { try? FileManager.default.removeItem(at: truncated) }
        let short = Self.run(["inspect", truncated.path])
        #expect(short.status == 1)
        #expect(short.stderr.hasPrefix("error: \(truncated.path): "))
    }

    @Test func missingFileAndBadArguments() {
        let missing = Self.run(["inspect", "/nonexistent/firmware.elf"])
        #expect(missing.status == 1)
        #expect(missing.stderr.hasPrefix("error: /nonexistent/firmware.elf: cannot read"))
        let noFile = Self.run(["inspect"])
        #expect(noFile.status == 2)
        #expect(noFile.stderr.hasPrefix("error: missing argument FILE"))
        let badOption = Self.run(["inspect", "x.elf", "--jason"])
        #expect(badOption.status == 2)
        #expect(badOption.stderr.contains("did you mean '--json'?"))
        let help = Self.run(["inspect", "--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("Exit status:"))
    }

    @Test func theBuiltExecutableBehavesTheSame() throws {
        let image = FixturePaths.firmwareFixtures.appendingPathComponent("zcu102-r5-xlnx-split-rpu0.elf")
        let process = Process()
        process.executableURL = FixturePaths.ampsocExecutable
        process.arguments = ["inspect", image.path, "--json"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let report = try #require(Self.object(try JSONValue.parse([UInt8](data))))
        #expect(report["resourceTable"] == .null)
    }
}

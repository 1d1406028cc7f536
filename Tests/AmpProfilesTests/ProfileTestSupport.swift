import Testing

import AmpJSON
import AmpProfiles

/// Tests of profile decoding, validation, boot order and firmware lookup.
@Suite struct ProfileTests {}

extension ProfileTests {
    /// The repository's soc-profiles directory, found from this file's path.
    static let profilesDirectory: String = {
        var components = #filePath.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        components.removeLast(3)  // Tests/AmpProfilesTests/ProfileTestSupport.swift
        return components.joined(separator: "/") + "/soc-profiles"
    }()

    /// The file name errors of test documents report.
    static let file = "t.json"

    /// One remote processor object as JSON text: the minimal valid fields, with `changes` applied in order
    /// (a key with a nil value is removed; an unknown key is appended).
    static func remote(_ name: String = "a", _ changes: KeyValuePairs<String, String?> = [:]) -> String {
        var members: [(String, String)] = [
            ("name", "\"\(name)\""),
            ("coreType", "\"cortex-m3\""),
            ("firmware", "\"fw\""),
            ("memory", "[\(region())]"),
        ]
        for (key, value) in changes {
            if let index = members.firstIndex(where: { $0.0 == key }) {
                if let value { members[index].1 = value } else { members.remove(at: index) }
            } else if let value {
                members.append((key, value))
            }
        }
        return "{" + members.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}"
    }

    /// One memory region object as JSON text.
    static func region(
        _ name: String = "ram", kind: String = "carveout", da: String = "\"0x9F000000\"", pa: String = "\"0x9D000000\"",
        size: String = "\"0x100000\""
    ) -> String {
        "{\"name\": \"\(name)\", \"kind\": \"\(kind)\", \"da\": \(da), \"pa\": \(pa), \"size\": \(size)}"
    }

    /// A whole profile as JSON text.
    static func profile(
        soc: String = "\"t\"", host: String = "{\"coreType\": \"cortex-a9\", \"cores\": 2}", remotes: [String] = [remote()],
        extra: String = ""
    ) -> String {
        "{\"soc\": \(soc), \"host\": \(host), \"remoteprocs\": [\(remotes.joined(separator: ", "))]\(extra)}"
    }

    /// The ProfileError that decoding `text` throws, or nil (recording an issue) when it does not throw.
    static func decodeError(_ text: String) -> ProfileError? {
        do {
            let profile = try ProfileDecoder.decode(json: text, sourcePath: file)
            Issue.record("decoded without error: \(profile)")
            return nil
        } catch {
            return error
        }
    }

    /// The description of the error decoding `text` throws.
    static func failure(_ text: String) -> String {
        decodeError(text)?.description ?? "(no error)"
    }
}

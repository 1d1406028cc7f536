import Foundation

/// Locations of the repository and the shared firmware fixtures (../shared beside the clone).
enum FixturePaths {
    static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let firmwareFixtures: URL = packageRoot.deletingLastPathComponent()
        .appendingPathComponent("shared/fixtures/firmware")

    /// Every fixture ELF, sorted by name. Fails loudly when the fixtures are missing.
    static func firmwareImages() throws -> [URL] {
        let names = try FileManager.default.contentsOfDirectory(atPath: firmwareFixtures.path)
        let images = names.filter { $0.hasSuffix(".elf") }.sorted().map { firmwareFixtures.appendingPathComponent($0) }
        guard !images.isEmpty else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: firmwareFixtures.path])
        }
        return images
    }

    /// The built `ampsoc` executable next to the test bundle.
    static var ampsocExecutable: URL {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("ampsoc")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return packageRoot.appendingPathComponent(".build/debug/ampsoc")
    }
}

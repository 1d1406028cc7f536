// Finds the file a profile's `firmware` string names (docs/profiles.md, "Firmware lookup"):
//
//   - an absolute path is used as is;
//   - a path containing a slash is relative to the profile file's directory;
//   - a bare name is searched for, in order, in each directory of AMPSOC_FIRMWARE_PATH (colon-separated),
//     the profile's directory, the directory of the running executable (the sample firmware executables are
//     built next to `ampsoc`), and <profile directory>/../.build/debug.
//
// The first regular file found wins. Results and the places listed in errors are absolute paths. The
// environment, the executable's path and the working directory are inputs, so tests need not touch the
// process's own state.

import AmpJSON
import AmpSystem
import Glibc

/// Resolves firmware names from profiles to files.
public struct FirmwareLocator: Sendable {
    /// The environment variable holding extra firmware directories, separated by colons.
    public static let searchPathVariable = "AMPSOC_FIRMWARE_PATH"

    /// Environment variables; only `searchPathVariable` is read.
    public var environment: [String: String]
    /// The running executable's path, whose directory is searched for bare names; nil skips that place.
    public var executablePath: String?
    /// Directory that relative paths (including a relative profile path) are resolved against.
    public var currentDirectory: String

    /// A locator with explicit inputs (for tests, or a host that sanitises its environment).
    public init(environment: [String: String], executablePath: String?, currentDirectory: String) {
        self.environment = environment
        self.executablePath = executablePath
        self.currentDirectory = currentDirectory
    }

    /// A locator for this process: its AMPSOC_FIRMWARE_PATH, `/proc/self/exe` and working directory.
    public static func forCurrentProcess() -> FirmwareLocator {
        var environment: [String: String] = [:]
        if let value = getenv(searchPathVariable) { environment[searchPathVariable] = String(cString: value) }
        return FirmwareLocator(
            environment: environment, executablePath: readLink("/proc/self/exe"),
            currentDirectory: currentWorkingDirectory() ?? "/")
    }

    /// The candidate files for `firmware`, in search order, as absolute paths without repeats.
    /// `profilePath` is the profile file's path (its directory anchors relative names).
    public func candidates(for firmware: String, profilePath: String) -> [String] {
        guard !firmware.isEmpty else { return [] }
        let profileDirectory = PathText.directory(of: profilePath)
        if firmware.hasPrefix("/") { return [PathText.tidy(firmware)] }
        if firmware.contains("/") { return [absolute(PathText.join(profileDirectory, firmware))] }

        var directories: [String] = []
        if let searchPath = environment[Self.searchPathVariable] {
            directories += searchPath.split(separator: ":", omittingEmptySubsequences: true).map(String.init)
        }
        directories.append(profileDirectory)
        if let executablePath { directories.append(PathText.directory(of: executablePath)) }
        directories.append(PathText.join(profileDirectory, "../.build/debug"))

        var result: [String] = []
        for directory in directories {
            let candidate = absolute(PathText.join(directory, firmware))
            if !result.contains(candidate) { result.append(candidate) }
        }
        return result
    }

    /// The first existing regular file among `candidates(for:profilePath:)`.
    ///
    /// - Throws: `FirmwareNotFoundError` listing every place searched.
    public func locate(_ firmware: String, profilePath: String) throws(FirmwareNotFoundError) -> String {
        let places = candidates(for: firmware, profilePath: profilePath)
        guard let found = places.first(where: Self.isRegularFile) else {
            throw FirmwareNotFoundError(firmware: firmware, searched: places)
        }
        return found
    }

    /// The firmware file of `remote`, a processor of `profile`.
    public func locateFirmware(of remote: RemoteProcessorProfile, in profile: SoCProfile) throws(FirmwareNotFoundError) -> String {
        try locate(remote.firmware, profilePath: profile.sourcePath)
    }

    private func absolute(_ path: String) -> String {
        PathText.absolute(path, currentDirectory: currentDirectory)
    }

    static func isRegularFile(_ path: String) -> Bool { FileIO.isRegularFile(path) }
    static func readLink(_ path: String) -> String? { FileIO.readLink(path) }
    static func currentWorkingDirectory() -> String? { FileIO.currentDirectory() }
}

/// No file was found for a profile's firmware.
public struct FirmwareNotFoundError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The firmware string from the profile.
    public var firmware: String
    /// Every path tried, in order.
    public var searched: [String]

    public init(firmware: String, searched: [String]) {
        self.firmware = firmware
        self.searched = searched
    }

    /// `firmware "x" not found; searched: /a/x, /b/x`.
    public var description: String {
        let places = searched.isEmpty ? "nothing (empty firmware name)" : searched.joined(separator: ", ")
        return "firmware \(JSONValue.string(firmware).encoded()) not found; searched: \(places)"
    }
}

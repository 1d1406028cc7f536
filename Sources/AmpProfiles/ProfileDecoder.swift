import AmpSystem
// Turns soc-profiles/*.json into a validated SoCProfile. Decoding is strict: unknown keys are errors (so a
// typo such as "autoboot" is reported instead of silently ignored), values must have the documented type,
// and every error names the JSON path at fault. After decoding, SoCProfile.validate() checks the rules
// that span values (ranges, alignment, overlaps, names, boot dependencies). The format is documented in
// docs/profiles.md.

import AmpJSON

/// Reads SoC profiles.
public enum ProfileDecoder {
    /// Reads, decodes and validates the profile file at `path`.
    ///
    /// - Throws: `ProfileError.unreadable` when the file cannot be read, `.syntax` when it is not JSON,
    ///   `.invalid` (with the JSON path) when it is not a valid profile.
    public static func load(path: String) throws(ProfileError) -> SoCProfile {
        let bytes: [UInt8]
        do {
            bytes = try FileIO.readFile(path, limit: ProfileLimits.fileSize)
        } catch {
            let reason = switch (error.call, error.code) {
            case (_, .fileTooLarge): "larger than \(ProfileLimits.fileSize) bytes; not a profile"
            case (_, .isDirectory): "not a regular file"
            case ("open", let code): "cannot open: \(code)"
            case (_, let code): "cannot read: \(code)"
            }
            throw .unreadable(file: path, reason: reason)
        }
        return try decode(bytes: bytes, sourcePath: path)
    }

    /// Decodes and validates a profile from JSON text. `sourcePath` is recorded in the profile (relative
    /// firmware paths resolve against its directory) and names the file in errors.
    public static func decode(json text: String, sourcePath: String) throws(ProfileError) -> SoCProfile {
        try decode(bytes: Array(text.utf8), sourcePath: sourcePath)
    }

    static func decode(bytes: [UInt8], sourcePath: String) throws(ProfileError) -> SoCProfile {
        let value: JSONValue
        do {
            value = try JSONValue.parse(bytes)
        } catch {
            throw .syntax(file: sourcePath, line: error.line, column: error.column, message: error.message)
        }
        let profile: SoCProfile
        do {
            profile = try decodeProfile(JSONNode(value), sourcePath: sourcePath)
        } catch {
            throw .invalid(error, file: sourcePath)
        }
        try profile.validate()
        return profile
    }

    // MARK: Shape

    static func decodeProfile(_ root: JSONNode, sourcePath: String) throws(JSONDecodingError) -> SoCProfile {
        typealias Key = ProfileKeys.Root
        try root.rejectUnknownKeys(allowed: Key.all)
        let name = try root.required(Key.soc).string()
        let description = try root.optional(Key.description)?.string() ?? ""
        let host = try decodeHost(root.required(Key.host))
        var remotes: [RemoteProcessorProfile] = []
        for node in try root.required(Key.remoteprocs).array() {
            remotes.append(try decodeRemote(node))
        }
        return SoCProfile(name: name, description: description, host: host, remoteProcessors: remotes, sourcePath: sourcePath)
    }

    static func decodeHost(_ node: JSONNode) throws(JSONDecodingError) -> HostProfile {
        typealias Key = ProfileKeys.Host
        try node.rejectUnknownKeys(allowed: Key.all)
        return HostProfile(
            coreType: try node.required(Key.coreType).string(),
            cores: try node.optional(Key.cores)?.profileInteger(Int.self) ?? 1)
    }

    static func decodeRemote(_ node: JSONNode) throws(JSONDecodingError) -> RemoteProcessorProfile {
        typealias Key = ProfileKeys.Remote
        try node.rejectUnknownKeys(allowed: Key.all)
        // Keys are read in the documented order, so the first error reported is the first in a typical file.
        // Missing optional keys keep the model initialiser's defaults, so the two cannot drift apart.
        var remote = RemoteProcessorProfile(
            name: try node.required(Key.name).string(),
            coreType: try node.required(Key.coreType).string(),
            firmware: "",
            memory: [])
        if let cores = try node.optional(Key.cores) { remote.cores = try cores.profileInteger(Int.self) }
        remote.firmware = try node.required(Key.firmware).string()
        if let arguments = try node.optional(Key.firmwareArguments) {
            remote.firmwareArguments = try strings(arguments)
        }
        if let doorbell = try node.optional(Key.doorbell) { remote.doorbell = try enumeration(doorbell, DoorbellKind.self) }
        if let bootAfter = try node.optional(Key.bootAfter) { remote.bootAfter = try strings(bootAfter) }
        if let autoBoot = try node.optional(Key.autoBoot) { remote.autoBoot = try autoBoot.bool() }
        if let recovery = try node.optional(Key.recovery) { remote.recovery = try recovery.bool() }
        if let coredump = try node.optional(Key.coredump) { remote.coredump = try enumeration(coredump, CoredumpMode.self) }
        if let watchdog = try node.optional(Key.watchdogMs) { remote.watchdogTimeoutMs = try watchdog.profileUInt32() }
        if let bufferSize = try node.optional(Key.rpmsgBufferSize) {
            remote.rpmsgBufferSize = try bufferSize.profileUInt32()
        }
        if let transport = try node.optional(Key.rpmsgTransport) {
            remote.rpmsgTransport = try enumeration(transport, RpmsgTransportKind.self)
        }
        if let edge = try node.optional(Key.smdEdge) { remote.smdEdge = try edge.profileUInt32() }
        for regionNode in try node.required(Key.memory).array() {
            remote.memory.append(try decodeRegion(regionNode))
        }
        return remote
    }

    static func decodeRegion(_ node: JSONNode) throws(JSONDecodingError) -> MemoryRegionProfile {
        typealias Key = ProfileKeys.Region
        try node.rejectUnknownKeys(allowed: Key.all)
        return MemoryRegionProfile(
            name: try node.required(Key.name).string(),
            kind: try enumeration(node.required(Key.kind), MemoryRegionProfile.Kind.self),
            da: try node.required(Key.da).profileUInt32(),
            pa: try node.required(Key.pa).profileUInt32(),
            size: try node.required(Key.size).profileUInt32())
    }

    // MARK: Helpers

    /// An array of strings.
    static func strings(_ node: JSONNode) throws(JSONDecodingError) -> [String] {
        var result: [String] = []
        for element in try node.array() { result.append(try element.string()) }
        return result
    }

    /// A string naming one case of `T`: `must be one of futex, eventfd; found "mailbox"`.
    static func enumeration<T: RawRepresentable & CaseIterable>(_ node: JSONNode, _ type: T.Type) throws(JSONDecodingError) -> T
    where T.RawValue == String {
        let text = try node.string()
        guard let value = T(rawValue: text) else {
            let allowed = T.allCases.map(\.rawValue).joined(separator: ", ")
            throw node.error("must be one of \(allowed); found \(JSONValue.string(text).encoded())")
        }
        return value
    }
}

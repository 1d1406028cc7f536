// The rules a SoC profile must satisfy beyond its JSON shape (docs/profiles.md, "Validation"). Each rule
// failure names the JSON path of the value at fault; paths are rebuilt from model indices, since the model
// mirrors the file's layout, so a profile built in code is checked with the same messages.

import AmpJSON

/// Limits enforced by `SoCProfile.validate()`.
public enum ProfileLimits {
    /// Largest profile file accepted, in bytes.
    public static let fileSize = 4 << 20
    /// Longest SoC or remote processor name.
    public static let maxNameLength = 32
    /// Longest memory region name (it is published in an 8-byte, NUL-terminated field).
    public static let maxRegionNameLength = 7
    /// Most memory regions per remote processor (the control block's region table).
    public static let maxRegions = 32
    /// Page size: region addresses and sizes are multiples of it.
    public static let pageSize: UInt32 = 4096
    /// Allowed core counts, for the host and each remote processor.
    public static let cores = 1...16
    /// Shortest watchdog timeout in milliseconds (0 disables the watchdog).
    public static let minWatchdogMs: UInt32 = 50
    /// Allowed rpmsg buffer sizes (powers of two only).
    public static let rpmsgBufferSizes: ClosedRange<UInt32> = 64...65536
    /// Largest SMD edge id (allocation entries keep it in 8 bits).
    public static let maxSmdEdge: UInt32 = 255
    /// Sizes of an smem region: room for the SMEM header (0x20D0 bytes) and channels, at most 64 MiB.
    public static let smemSizes: ClosedRange<UInt32> = 0x1_0000...0x400_0000
}

extension SoCProfile {
    /// Checks every validation rule; `ProfileDecoder` calls this after decoding.
    ///
    /// - Throws: `ProfileError.invalid` naming `sourcePath`, the JSON path at fault and the reason.
    public func validate() throws(ProfileError) {
        do {
            try ProfileValidator(profile: self).validate()
        } catch {
            throw .invalid(error, file: sourcePath)
        }
    }
}

/// Checks one profile, in file order: SoC, host, each remote processor, then the boot dependency graph.
struct ProfileValidator {
    typealias Paths = ProfilePaths
    typealias RemoteKey = ProfileKeys.Remote
    typealias RegionKey = ProfileKeys.Region

    let profile: SoCProfile

    func validate() throws(JSONDecodingError) {
        try checkName(profile.name, maxLength: ProfileLimits.maxNameLength, at: JSONPath.root.appending(key: ProfileKeys.Root.soc))
        try checkNotEmpty(profile.host.coreType, at: Paths.host(ProfileKeys.Host.coreType))
        try checkCores(profile.host.cores, at: Paths.host(ProfileKeys.Host.cores))
        guard !profile.remoteProcessors.isEmpty else {
            throw JSONDecodingError(path: Paths.remoteprocs, reason: "must list at least one remote processor")
        }
        for index in profile.remoteProcessors.indices {
            try checkRemote(at: index)
        }
        if let cycle = profile.firstBootDependencyCycle() {
            throw JSONDecodingError(
                path: Paths.remote(cycle.remoteIndex, RemoteKey.bootAfter).appending(index: cycle.entryIndex),
                reason: "boot dependency cycle: " + cycle.names.joined(separator: " -> "))
        }
    }

    // MARK: Remote processors

    private func checkRemote(at index: Int) throws(JSONDecodingError) {
        let remote = profile.remoteProcessors[index]
        let namePath = Paths.remote(index, RemoteKey.name)
        try checkName(remote.name, maxLength: ProfileLimits.maxNameLength, at: namePath)
        if let first = profile.remoteProcessors[..<index].firstIndex(where: { $0.name == remote.name }) {
            throw JSONDecodingError(
                path: namePath,
                reason: "duplicate remote processor name \(quoted(remote.name)) (first at \(Paths.remote(first, RemoteKey.name)))")
        }
        try checkNotEmpty(remote.coreType, at: Paths.remote(index, RemoteKey.coreType))
        try checkCores(remote.cores, at: Paths.remote(index, RemoteKey.cores))
        try checkNotEmpty(remote.firmware, at: Paths.remote(index, RemoteKey.firmware))
        try checkBootAfter(of: index)
        let watchdog = remote.watchdogTimeoutMs
        guard watchdog == 0 || watchdog >= ProfileLimits.minWatchdogMs else {
            throw JSONDecodingError(
                path: Paths.remote(index, RemoteKey.watchdogMs),
                reason: "must be 0 (disabled) or at least \(ProfileLimits.minWatchdogMs), found \(watchdog)")
        }
        let bufferSize = remote.rpmsgBufferSize
        guard ProfileLimits.rpmsgBufferSizes.contains(bufferSize), bufferSize.nonzeroBitCount == 1 else {
            let range = ProfileLimits.rpmsgBufferSizes
            throw JSONDecodingError(
                path: Paths.remote(index, RemoteKey.rpmsgBufferSize),
                reason: "must be a power of two in \(range.lowerBound)...\(range.upperBound), found \(bufferSize)")
        }
        try checkMemory(of: index)
        try checkTransport(of: index)
    }

    /// SMD remotes need an edge id and exactly one smem region; virtio remotes have neither.
    private func checkTransport(of index: Int) throws(JSONDecodingError) {
        let remote = profile.remoteProcessors[index]
        let smemRegions = remote.memory.indices.filter { remote.memory[$0].kind == .smem }
        switch remote.rpmsgTransport {
        case .virtio:
            if remote.smdEdge != nil {
                throw JSONDecodingError(
                    path: Paths.remote(index, RemoteKey.smdEdge), reason: "only for \"rpmsgTransport\": \"smd\"")
            }
            if let region = smemRegions.first {
                throw JSONDecodingError(
                    path: Paths.remote(index, RemoteKey.memory).appending(index: region).appending(key: RegionKey.kind),
                    reason: "an smem region is only for \"rpmsgTransport\": \"smd\"")
            }
        case .smd:
            guard let edge = remote.smdEdge else {
                throw JSONDecodingError(
                    path: Paths.remote(index, RemoteKey.smdEdge), reason: "required with \"rpmsgTransport\": \"smd\"")
            }
            guard edge <= ProfileLimits.maxSmdEdge else {
                throw JSONDecodingError(
                    path: Paths.remote(index, RemoteKey.smdEdge),
                    reason: "must be 0...\(ProfileLimits.maxSmdEdge) (the 8-bit edge field of SMD allocation entries), found \(edge)")
            }
            guard smemRegions.count == 1, let region = smemRegions.first else {
                throw JSONDecodingError(
                    path: Paths.remote(index, RemoteKey.memory),
                    reason: "an SMD remote needs exactly one region of kind \"smem\", found \(smemRegions.count)")
            }
            let size = remote.memory[region].size
            guard ProfileLimits.smemSizes.contains(size) else {
                throw JSONDecodingError(
                    path: Paths.remote(index, RemoteKey.memory).appending(index: region).appending(key: RegionKey.size),
                    reason: "an smem region must be \(ProfileLimits.smemSizes.lowerBound)...\(ProfileLimits.smemSizes.upperBound) bytes, found \(size)")
            }
        }
    }

    private func checkBootAfter(of index: Int) throws(JSONDecodingError) {
        let remote = profile.remoteProcessors[index]
        for (entry, dependency) in remote.bootAfter.enumerated() {
            let path = Paths.remote(index, RemoteKey.bootAfter).appending(index: entry)
            guard dependency != remote.name else {
                throw JSONDecodingError(path: path, reason: "a remote processor cannot boot after itself")
            }
            guard profile.remoteProcessor(named: dependency) != nil else {
                throw JSONDecodingError(path: path, reason: "no remote processor named \(quoted(dependency))")
            }
            guard !remote.bootAfter[..<entry].contains(dependency) else {
                throw JSONDecodingError(path: path, reason: "\(quoted(dependency)) is listed twice")
            }
        }
    }

    // MARK: Memory map

    private func checkMemory(of index: Int) throws(JSONDecodingError) {
        let regions = profile.remoteProcessors[index].memory
        let memoryPath = Paths.remote(index, RemoteKey.memory)
        guard (1...ProfileLimits.maxRegions).contains(regions.count) else {
            throw JSONDecodingError(
                path: memoryPath, reason: "must list 1 to \(ProfileLimits.maxRegions) regions, found \(regions.count)")
        }
        for regionIndex in regions.indices {
            try checkRegion(regions, at: regionIndex, remoteIndex: index)
        }
        guard regions.contains(where: { $0.kind == .carveout }) else {
            throw JSONDecodingError(path: memoryPath, reason: "must contain at least one carveout region")
        }
    }

    private func checkRegion(_ regions: [MemoryRegionProfile], at regionIndex: Int, remoteIndex: Int) throws(JSONDecodingError) {
        let region = regions[regionIndex]
        func path(_ key: String) -> JSONPath { Paths.region(remoteIndex, regionIndex, key) }

        try checkName(region.name, maxLength: ProfileLimits.maxRegionNameLength, at: path(RegionKey.name))
        if let first = regions[..<regionIndex].firstIndex(where: { $0.name == region.name }) {
            throw JSONDecodingError(
                path: path(RegionKey.name),
                reason: "duplicate region name \(quoted(region.name)) (first at \(Paths.region(remoteIndex, first, RegionKey.name)))")
        }
        let page = ProfileLimits.pageSize
        guard region.size > 0 else { throw JSONDecodingError(path: path(RegionKey.size), reason: "must be > 0") }
        guard region.size % page == 0 else {
            throw JSONDecodingError(
                path: path(RegionKey.size), reason: "must be a multiple of \(page) (0x1000), found \(hex(region.size))")
        }
        guard region.da % page == 0 else {
            throw JSONDecodingError(path: path(RegionKey.da), reason: "must be \(page)-aligned, found \(hex(region.da))")
        }
        guard region.pa % page == 0 else {
            throw JSONDecodingError(path: path(RegionKey.pa), reason: "must be \(page)-aligned, found \(hex(region.pa))")
        }
        guard !region.da.addingReportingOverflow(region.size).overflow else {
            throw JSONDecodingError(
                path: path(RegionKey.size),
                reason: "da \(hex(region.da)) + size \(hex(region.size)) overflows the 32-bit device address space")
        }
        guard !region.pa.addingReportingOverflow(region.size).overflow else {
            throw JSONDecodingError(
                path: path(RegionKey.size),
                reason: "pa \(hex(region.pa)) + size \(hex(region.size)) overflows the 32-bit physical address space")
        }
        // Sizes of earlier regions were checked, so every end below is computed without overflow.
        if let other = regions[..<regionIndex].first(where: { $0.da < region.da + region.size && region.da < $0.da + $0.size }) {
            throw JSONDecodingError(
                path: Paths.region(remoteIndex, regionIndex),
                reason: "device addresses \(span(region)) overlap region \(quoted(other.name)) (\(span(other)))")
        }
    }

    // MARK: Scalars

    /// Names: 1 to `maxLength` characters from A-Z, a-z, 0-9, `_` and `-`.
    private func checkName(_ name: String, maxLength: Int, at path: JSONPath) throws(JSONDecodingError) {
        guard !name.isEmpty else { throw JSONDecodingError(path: path, reason: "must not be empty") }
        if let bad = name.unicodeScalars.first(where: { !Self.isNameCharacter($0) }) {
            throw JSONDecodingError(
                path: path, reason: "contains \(quoted(String(bad))); only A-Z, a-z, 0-9, _ and - are allowed")
        }
        guard name.utf8.count <= maxLength else {
            throw JSONDecodingError(path: path, reason: "must be at most \(maxLength) characters, found \(name.utf8.count)")
        }
    }

    private static func isNameCharacter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "A"..."Z", "a"..."z", "0"..."9", "_", "-": return true
        default: return false
        }
    }

    private func checkNotEmpty(_ text: String, at path: JSONPath) throws(JSONDecodingError) {
        guard !text.isEmpty else { throw JSONDecodingError(path: path, reason: "must not be empty") }
    }

    private func checkCores(_ cores: Int, at path: JSONPath) throws(JSONDecodingError) {
        let range = ProfileLimits.cores
        guard range.contains(cores) else {
            throw JSONDecodingError(path: path, reason: "must be in \(range.lowerBound)...\(range.upperBound), found \(cores)")
        }
    }

    private func quoted(_ text: String) -> String { JSONValue.string(text).encoded() }

    /// `0x9D000000`: eight upper-case hex digits.
    private func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
    }

    /// `0x00000000...0x000FFFFF`: first and last device address of a checked (non-empty) region.
    private func span(_ region: MemoryRegionProfile) -> String {
        "\(hex(region.da))...\(hex(region.da + (region.size - 1)))"
    }
}

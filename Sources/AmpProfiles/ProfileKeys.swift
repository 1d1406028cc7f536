// The JSON keys of a SoC profile (docs/profiles.md), shared by the decoder and the validator so that
// validation errors name exactly the paths that decoding reads.

import AmpJSON

enum ProfileKeys {
    enum Root {
        static let soc = "soc"
        static let description = "description"
        static let host = "host"
        static let remoteprocs = "remoteprocs"
        static let all = [soc, description, host, remoteprocs]
    }

    enum Host {
        static let coreType = "coreType"
        static let cores = "cores"
        static let all = [coreType, cores]
    }

    enum Remote {
        static let name = "name"
        static let coreType = "coreType"
        static let cores = "cores"
        static let firmware = "firmware"
        static let firmwareArguments = "firmwareArguments"
        static let doorbell = "doorbell"
        static let bootAfter = "bootAfter"
        static let autoBoot = "autoBoot"
        static let recovery = "recovery"
        static let coredump = "coredump"
        static let watchdogMs = "watchdogMs"
        static let rpmsgBufferSize = "rpmsgBufferSize"
        static let rpmsgTransport = "rpmsgTransport"
        static let smdEdge = "smdEdge"
        static let memory = "memory"
        static let all = [
            name, coreType, cores, firmware, firmwareArguments, doorbell, bootAfter, autoBoot, recovery, coredump,
            watchdogMs, rpmsgBufferSize, rpmsgTransport, smdEdge, memory,
        ]
    }

    enum Region {
        static let name = "name"
        static let kind = "kind"
        static let da = "da"
        static let pa = "pa"
        static let size = "size"
        static let all = [name, kind, da, pa, size]
    }
}

/// JSON paths of profile values, built from model indices (the model mirrors the JSON layout).
enum ProfilePaths {
    static let remoteprocs = JSONPath.root.appending(key: ProfileKeys.Root.remoteprocs)

    static func host(_ key: String) -> JSONPath {
        JSONPath.root.appending(key: ProfileKeys.Root.host).appending(key: key)
    }

    static func remote(_ index: Int) -> JSONPath {
        remoteprocs.appending(index: index)
    }

    static func remote(_ index: Int, _ key: String) -> JSONPath {
        remote(index).appending(key: key)
    }

    static func region(_ remoteIndex: Int, _ regionIndex: Int) -> JSONPath {
        remote(remoteIndex, ProfileKeys.Remote.memory).appending(index: regionIndex)
    }

    static func region(_ remoteIndex: Int, _ regionIndex: Int, _ key: String) -> JSONPath {
        region(remoteIndex, regionIndex).appending(key: key)
    }
}

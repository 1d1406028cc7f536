// swift-tools-version: 6.1
// ampsoc: an emulated asymmetric-multiprocessing SoC, one process per processor.
// Targets mirror the layers in docs/architecture.md: shim -> system -> wire -> ... -> executables.
import PackageDescription

let package = Package(
    name: "ampsoc",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "ampsoc", targets: ["ampsoc"]),
        .library(name: "AmpWire", targets: ["AmpWire"]),
    ],
    targets: [
        // C shim: futex, eventfd, epoll, signalfd, pidfd, fences; what Glibc's module map lacks.
        .target(name: "CAmpShim"),
        // System layer: errno-typed errors and the one place where syscalls are made.
        .target(name: "AmpSystem", dependencies: ["CAmpShim"]),
        // Wire layer: pure parse/serialise of ELF, resource table, vring, rpmsg; no I/O.
        .target(name: "AmpWire"),
        // JSON values with stable key order, a strict parser with line/column errors, and an encoder.
        .target(name: "AmpJSON"),
        // SoC profiles: the model of soc-profiles/*.json, decoding with JSON-path errors, validation.
        .target(name: "AmpProfiles", dependencies: ["AmpJSON", "AmpSystem"]),
        // Host remoteproc core: firmware loading, resource handling, lifecycle, crashes, recovery, coredump, trace.
        .target(
            name: "AmpRemoteproc",
            dependencies: ["AmpSystem", "AmpWire", "AmpProfiles", "AmpRpmsg", "AmpRpmsgVirtio", "AmpSMD", "AmpRpmsgSMD"]),
        // Virtio split virtqueues (legacy layout) over shared memory: driver side (host) and device side (remote).
        .target(name: "AmpVirtio", dependencies: ["AmpWire", "CAmpShim"]),
        // rpmsg core (transport-agnostic, as Linux's rpmsg_core), name service, driver model, host drivers.
        .target(name: "AmpRpmsg", dependencies: ["AmpWire"]),
        // The host's virtio rpmsg transport (Linux's virtio_rpmsg_bus): rings, buffer pool, RX thread, validation.
        .target(name: "AmpRpmsgVirtio", dependencies: ["AmpRpmsg", "AmpVirtio", "AmpSystem", "AmpWire", "CAmpShim"]),
        // Remote-core runtime ("mini RTOS") that firmware links: attach, message loop, trace, heartbeat, crash reports.
        .target(name: "AmpRemote", dependencies: ["AmpSystem", "AmpWire", "AmpVirtio", "AmpSMD"]),
        // Qualcomm SMEM item heap and SMD channels (FIFO pairs, channel info, states) over shared memory.
        .target(name: "AmpSMD", dependencies: ["AmpWire", "CAmpShim"]),
        // The host's SMD rpmsg transport (Linux's qcom_smd): one edge per remote, channels on the rpmsg bus by name.
        .target(name: "AmpRpmsgSMD", dependencies: ["AmpRpmsg", "AmpSMD", "AmpSystem", "AmpWire"]),
        // Host rpmsg drivers that bridge channels to userland: endpoint sockets (rpmsg-raw) and terminals (rpmsg-tty).
        .target(name: "AmpHostDrivers", dependencies: ["AmpRpmsg", "AmpSystem", "AmpWire", "CAmpShim"]),
        // The Swift API of a running emulated SoC: launch from a profile, inspect, wait, send, inject crashes.
        .target(
            name: "AmpSoC",
            dependencies: ["AmpRemoteproc", "AmpProfiles", "AmpRpmsg", "AmpRpmsgVirtio", "AmpRpmsgSMD", "AmpHostDrivers", "AmpJSON", "AmpSystem", "AmpWire"]),
        // The control socket of a running instance: protocol, server, client.
        .target(name: "AmpControl", dependencies: ["AmpSoC", "AmpJSON", "AmpSystem", "AmpRemoteproc", "AmpRpmsg", "AmpRpmsgSMD", "AmpWire"]),
        // Command-line front end: argument parsing, subcommands, help, exit codes, and the commands.
        .target(name: "AmpCLI", dependencies: ["AmpWire", "AmpJSON", "AmpSystem", "AmpProfiles", "AmpRemoteproc", "AmpBench", "AmpSoC", "AmpControl"]),
        .executableTarget(name: "ampsoc", dependencies: ["AmpCLI"]),
        // `ampsoc bench`: transports, timing and statistics, and the peer process the baselines talk to.
        .target(name: "AmpBench", dependencies: ["AmpSystem", "CAmpShim"]),
        .executableTarget(name: "ampsoc-bench-peer", dependencies: ["AmpBench"], path: "Sources/ampsoc-bench-peer"),
        // Sample firmware (remote-core executables built on AmpRemote) and the resource table they share.
        .target(name: "AmpSampleTable", path: "firmware-samples/Common"),
        .executableTarget(
            name: "ampsoc-fw-basic", dependencies: ["AmpRemote", "AmpSampleTable", "AmpSampleSupport"], path: "firmware-samples/basic"),
        .executableTarget(
            name: "ampsoc-fw-faulty", dependencies: ["AmpRemote", "AmpSampleTable", "AmpSampleSupport"], path: "firmware-samples/faulty"),
        // rpmsg sample firmware: echo, the peer of Linux's rpmsg_client_sample, several services, a hostile device.
        .target(name: "AmpSampleSupport", dependencies: ["AmpRemote"], path: "firmware-samples/Support"),
        .executableTarget(
            name: "ampsoc-fw-echo", dependencies: ["AmpRemote", "AmpSampleTable", "AmpSampleSupport"], path: "firmware-samples/echo"),
        .executableTarget(
            name: "ampsoc-fw-client-sample", dependencies: ["AmpRemote", "AmpSampleTable", "AmpSampleSupport"],
            path: "firmware-samples/client-sample"),
        .executableTarget(
            name: "ampsoc-fw-services", dependencies: ["AmpRemote", "AmpSampleTable", "AmpSampleSupport"], path: "firmware-samples/services"),
        .executableTarget(
            name: "ampsoc-fw-hostile", dependencies: ["AmpRemote", "AmpSampleTable", "AmpSampleSupport", "AmpWire"],
            path: "firmware-samples/hostile"),
        // A firmware console on an "rpmsg-tty" channel (a small line-oriented shell).
        .executableTarget(
            name: "ampsoc-fw-console", dependencies: ["AmpRemote", "AmpSampleTable", "AmpSampleSupport"],
            path: "firmware-samples/console"),
        // The remote end of `ampsoc bench`'s full-stack column: an echo service and a counting sink.
        .executableTarget(
            name: "ampsoc-fw-bench", dependencies: ["AmpRemote", "AmpSampleTable", "AmpSampleSupport", "AmpWire"],
            path: "firmware-samples/bench"),

        // Where the built executables are and whether a process lives: shared by the tests that run processes.
        .target(name: "AmpTestSupport", path: "Tests/AmpTestSupport"),
        .testTarget(name: "AmpWireTests", dependencies: ["AmpWire"]),
        .testTarget(name: "AmpJSONTests", dependencies: ["AmpJSON"]),
        .executableTarget(name: "amp-system-testpeer", dependencies: ["AmpSystem"], path: "Tests/AmpSystemTestPeer"),
        .testTarget(name: "AmpSystemTests", dependencies: ["AmpSystem", "amp-system-testpeer"]),
        .testTarget(name: "AmpVirtioTests", dependencies: ["AmpVirtio", "AmpWire"]),
        .testTarget(name: "AmpRpmsgTests", dependencies: ["AmpRpmsg", "AmpWire"]),
        .testTarget(
            name: "AmpRpmsgVirtioTests",
            dependencies: ["AmpTestSupport", "AmpRpmsgVirtio", "AmpRpmsg", "AmpVirtio", "AmpSystem", "AmpWire"]),
        .testTarget(name: "AmpProfilesTests", dependencies: ["AmpProfiles", "AmpJSON"]),
        .testTarget(name: "AmpRemoteprocTests", dependencies: ["AmpRemoteproc", "AmpWire", "AmpSystem", "AmpProfiles"]),
        .testTarget(
            name: "AmpRemoteTests",
            dependencies: [
                "AmpTestSupport", "AmpRemote", "AmpSystem", "AmpWire", "AmpVirtio", "AmpSMD", "AmpSampleSupport", "ampsoc-fw-basic", "ampsoc-fw-faulty",
                "ampsoc-fw-echo", "ampsoc-fw-client-sample", "ampsoc-fw-services", "ampsoc-fw-hostile",
            ]),
        // Whole topologies with real processes: the host in-process and the ampsoc executable.
        .testTarget(
            name: "AmpIntegrationTests",
            dependencies: [
                "AmpTestSupport",
                "AmpRemoteproc", "AmpProfiles", "AmpWire", "AmpSystem", "AmpJSON",
                "ampsoc", "ampsoc-fw-basic", "ampsoc-fw-faulty",
            ]),
        // virtio rpmsg end to end: the host in-process with the rpmsg sample firmware, recovery included.
        .testTarget(
            name: "AmpRpmsgIntegrationTests",
            dependencies: [
                "AmpTestSupport",
                "AmpRemoteproc", "AmpProfiles", "AmpRpmsg", "AmpRpmsgVirtio", "AmpSystem", "AmpWire", "ampsoc-fw-echo",
                "ampsoc-fw-client-sample", "ampsoc-fw-hostile",
            ]),
        .testTarget(name: "AmpSMDTests", dependencies: ["AmpSMD", "AmpWire"]),
        .testTarget(name: "AmpRpmsgSMDTests", dependencies: ["AmpTestSupport", "AmpRpmsgSMD", "AmpSMD", "AmpRpmsg", "AmpSystem", "AmpWire"]),
        .testTarget(name: "AmpHostDriversTests", dependencies: ["AmpTestSupport", "AmpHostDrivers", "AmpRpmsg", "AmpSystem", "AmpWire"]),
        .testTarget(
            name: "AmpSoCTests",
            dependencies: ["AmpTestSupport", "AmpSoC", "AmpRemoteproc", "AmpRpmsg", "AmpJSON", "AmpSystem", "AmpSMD", "AmpRpmsgSMD", "AmpWire", "ampsoc-fw-basic", "ampsoc-fw-echo", "ampsoc-fw-services", "ampsoc-fw-client-sample", "ampsoc-fw-faulty", "ampsoc-fw-console"]),
        .testTarget(
            name: "AmpControlTests",
            dependencies: ["AmpTestSupport", "AmpControl", "AmpSoC", "AmpJSON", "AmpSystem", "ampsoc", "ampsoc-fw-echo", "ampsoc-fw-services", "ampsoc-fw-console"]),
        .testTarget(name: "AmpCLITests", dependencies: ["AmpCLI", "AmpWire", "AmpJSON", "ampsoc"]),
        .testTarget(
            name: "AmpBenchTests",
            dependencies: ["AmpBench", "AmpCLI", "AmpSystem", "AmpJSON", "ampsoc", "ampsoc-bench-peer", "ampsoc-fw-bench"]),
    ],
    swiftLanguageModes: [.v6]
)

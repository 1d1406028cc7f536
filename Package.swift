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
        // Command-line front end: argument parsing, subcommands, help, exit codes, and the commands.
        .target(name: "AmpCLI", dependencies: ["AmpWire", "AmpJSON", "AmpSystem"]),
        .executableTarget(name: "ampsoc", dependencies: ["AmpCLI"]),

        .testTarget(name: "AmpWireTests", dependencies: ["AmpWire"]),
        .testTarget(name: "AmpJSONTests", dependencies: ["AmpJSON"]),
        .executableTarget(name: "amp-system-testpeer", dependencies: ["AmpSystem"], path: "Tests/AmpSystemTestPeer"),
        .testTarget(name: "AmpSystemTests", dependencies: ["AmpSystem", "amp-system-testpeer"]),
        .testTarget(name: "AmpCLITests", dependencies: ["AmpCLI", "AmpWire", "AmpJSON"]),
    ],
    swiftLanguageModes: [.v6]
)

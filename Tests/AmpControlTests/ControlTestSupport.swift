import AmpControl
import AmpSoC
import AmpTestSupport
import Foundation
import Glibc
import Synchronization
import Testing

/// Shared helpers of the control tests: built products, a three-remote profile (ipu: services firmware,
/// dsp: echo firmware, con: console firmware), private runtime directories, and leftover checks.
enum ControlTestSupport {
    static let packageRoot = TestProducts.packageRoot

    /// The directory holding the built executables.
    static let productsDirectory = TestProducts.directory

    static func product(_ name: String) -> String { TestProducts.path(name) }

    /// A fresh private directory (0700) under /tmp with a short path, so socket paths stay short.
    static func temporaryDirectory(_ label: String) throws -> URL {
        let url = URL(fileURLWithPath: "/tmp/actl-\(label.prefix(6))-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        return url
    }

    /// A unique instance name.
    static func uniqueName(_ label: String) -> String {
        "c\(label.prefix(8))\(UInt32.random(in: 0...UInt32.max))"
    }

    static func memory(_ base: UInt32) -> [[String: String]] {
        [
            ["name": "text", "kind": "carveout", "da": "0x00000000", "pa": hex(base), "size": "0x100000"],
            ["name": "ipc", "kind": "carveout", "da": "0x9F000000", "pa": hex(base + 0x20_0000), "size": "0x100000"],
        ]
    }

    static func hex(_ value: UInt32) -> String { "0x" + String(value, radix: 16, uppercase: true) }

    /// Writes the test profile (SoC name `soc`) into `directory` and returns its path.
    static func writeProfile(in directory: URL, soc: String = "ctltest", console: Bool = true) throws -> String {
        func remote(_ name: String, _ firmware: String, _ base: UInt32, doorbell: String) -> [String: Any] {
            [
                "name": name, "coreType": "cortex-m3", "firmware": product(firmware), "doorbell": doorbell,
                "recovery": true, "coredump": "disabled", "watchdogMs": 2000, "memory": memory(base),
            ]
        }
        var remotes = [
            remote("ipu", "ampsoc-fw-services", 0x9D00_0000, doorbell: "futex"),
            remote("dsp", "ampsoc-fw-echo", 0x9C00_0000, doorbell: "eventfd"),
        ]
        if console { remotes.append(remote("con", "ampsoc-fw-console", 0x9B00_0000, doorbell: "futex")) }
        let object: [String: Any] = [
            "soc": soc, "description": "control-socket test SoC", "host": ["coreType": "cortex-a9", "cores": 2],
            "remoteprocs": remotes,
        ]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        let url = directory.appendingPathComponent("\(soc).json")
        try data.write(to: url)
        return url.path
    }

    /// Shared-memory segments of `instance`.
    static func segments(of instance: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/dev/shm")) ?? []).filter { $0.contains(".\(instance).") }
    }

    /// Entries of a directory (empty when it does not exist).
    static func entries(of directory: String) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
    }

    /// Polls `condition` every 20 ms for up to `limit` seconds.
    @discardableResult
    static func poll(limit: Double = 10, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(limit)
        while !condition() {
            if Date() > deadline { return false }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return true
    }
}

/// An in-process instance for server tests: a launched ``EmulatedSoC`` with its lock, endpoint directory
/// and ``ControlServer`` in a private runtime directory.
final class LaunchedInstance {
    let directory: URL
    let runtime: RuntimeDirectory
    let lock: InstanceLock
    let soc: EmulatedSoC
    let server: ControlServer

    init(_ label: String) throws {
        directory = try ControlTestSupport.temporaryDirectory(label)
        let environment = ["XDG_RUNTIME_DIR": directory.path]
        runtime = try RuntimeDirectory.resolve(environment: environment)
        let name = ControlTestSupport.uniqueName(label)
        lock = try InstanceLock.acquire(name: name, runtime: runtime)
        var options = SoCOptions(name: name)
        options.socketDirectory = lock.endpointDirectory
        options.coredumpDirectory = directory.path
        let profile = try ControlTestSupport.writeProfile(in: directory, console: false)
        soc = try EmulatedSoC.launch(profilePath: profile, options: options)
        server = try ControlServer(soc: soc, instance: lock)
        server.start()
    }

    var environment: [String: String] { ["XDG_RUNTIME_DIR": directory.path] }

    func client() throws -> ControlClient {
        try ControlClient.connect(name: lock.name, environment: environment)
    }

    /// Stops everything and checks nothing is left.
    func finish() {
        server.beginStop()
        soc.shutdown()
        #expect(server.finish(), "client threads did not end")
        lock.release()
        #expect(ControlTestSupport.entries(of: runtime.path).isEmpty, "left in the runtime directory: \(ControlTestSupport.entries(of: runtime.path))")
        #expect(ControlTestSupport.segments(of: lock.name).isEmpty)
        try? FileManager.default.removeItem(at: directory)
    }
}

import AmpSoC
import AmpTestSupport
import Foundation
import Testing

/// Writes an omap4-like profile for the Swift API tests (ipu runs the services firmware, dsp the echo
/// firmware, both with omap4's memory maps) and launches it with a unique instance name.
enum SoCTestProfile {
    static let packageRoot = TestProducts.packageRoot

    /// The directory holding the built executables.
    static let productsDirectory = TestProducts.directory

    static func product(_ name: String) -> String { TestProducts.path(name) }

    static let ipuMemory = TestMemoryMaps.omap4IPU
    static let dspMemory = TestMemoryMaps.omap4DSP

    /// Writes the profile into a fresh temporary directory and returns (directory, profile path).
    static func write(
        ipuFirmware: String = "ampsoc-fw-services", dspFirmware: String = "ampsoc-fw-echo", recovery: Bool = true
    ) throws -> (URL, String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ampsoc-soc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        func remote(_ name: String, firmware: String, doorbell: String, memory: [[String: String]]) -> [String: Any] {
            [
                "name": name, "coreType": name == "ipu" ? "cortex-m3" : "c64x", "firmware": product(firmware),
                "doorbell": doorbell, "recovery": recovery, "coredump": "disabled", "watchdogMs": 2000,
                "memory": memory,
            ]
        }
        let object: [String: Any] = [
            "soc": "omap4api", "description": "omap4-like topology for the Swift API tests",
            "host": ["coreType": "cortex-a9", "cores": 2],
            "remoteprocs": [
                remote("ipu", firmware: ipuFirmware, doorbell: "futex", memory: ipuMemory),
                remote("dsp", firmware: dspFirmware, doorbell: "eventfd", memory: dspMemory),
            ],
        ]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        let path = directory.appendingPathComponent("omap4api.json")
        try data.write(to: path)
        return (directory, path.path)
    }

    /// Launches the test profile and returns the SoC with its instance name and temporary directory.
    static func launch(
        label: String, recovery: Bool = true, ipuFirmware: String = "ampsoc-fw-services",
        dspFirmware: String = "ampsoc-fw-echo"
    ) throws -> (EmulatedSoC, URL) {
        let (directory, path) = try write(ipuFirmware: ipuFirmware, dspFirmware: dspFirmware, recovery: recovery)
        var options = SoCOptions(name: "api\(label.prefix(8))\(UInt32.random(in: 0...UInt32.max))")
        options.coredumpDirectory = directory.path
        return (try EmulatedSoC.launch(profilePath: path, options: options), directory)
    }

    /// Shuts `soc` down and checks nothing is left: firmware processes, segments, the socket directory.
    static func finish(_ soc: EmulatedSoC, directory: URL) throws {
        let pids = try soc.processors().compactMap(\.pid)
        soc.shutdown()
        for pid in pids { #expect(!processExists(pid), "process \(pid) survived shutdown") }
        let segments = ((try? FileManager.default.contentsOfDirectory(atPath: "/dev/shm")) ?? [])
            .filter { $0.contains(".\(soc.name).") }
        #expect(segments.isEmpty, "segments left: \(segments)")
        #expect(!FileManager.default.fileExists(atPath: soc.socketDirectory), "socket directory left")
        try? FileManager.default.removeItem(at: directory)
    }

    /// Whether a process with this pid exists and is not a zombie.
    static func processExists(_ pid: Int32) -> Bool { TestProcesses.isAlive(pid) }
}

// What every test target that runs real processes needs: where the built executables are and whether a
// process is still alive. A library target of the package used only by its test targets.

import Foundation

/// The package and its built products, as seen from a running test binary.
public enum TestProducts {
    /// The package root.
    public static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Executables every full build makes, to recognise the products directory.
    static let markers = ["ampsoc", "ampsoc-fw-basic", "ampsoc-fw-echo"]

    /// The directory holding the built executables (ampsoc, the firmware samples, the peers): the first
    /// directory at or above the running test binary that holds one of them, else `.build/debug`.
    public static let directory: URL = {
        var directory = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<5 {
            if markers.contains(where: { FileManager.default.isExecutableFile(atPath: directory.appendingPathComponent($0).path) }) {
                return directory
            }
            directory = directory.deletingLastPathComponent()
        }
        return packageRoot.appendingPathComponent(".build/debug")
    }()

    /// The path of the built executable `name`.
    public static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
}

/// Processes seen through /proc.
public enum TestProcesses {
    /// Whether a process with this pid exists and is not a zombie (state Z or X in /proc/PID/stat).
    public static func isAlive(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        let state = stat[stat.index(after: close)...].dropFirst().first
        return state != nil && state != "Z" && state != "X"
    }
}

/// Memory maps of omap4's remote processors (soc-profiles/omap4.json) for profiles written by tests; the
/// sample firmware's resource table places its carveouts in "ipc" at 0x9F000000.
public enum TestMemoryMaps {
    /// The IPU's map without its device memory.
    public static let omap4IPU: [[String: String]] = [
        ["name": "text", "kind": "carveout", "da": "0x00000000", "pa": "0x9D000000", "size": "0x100000"],
        ["name": "data", "kind": "carveout", "da": "0x80000000", "pa": "0x9D100000", "size": "0x100000"],
        ["name": "ipc", "kind": "carveout", "da": "0x9F000000", "pa": "0x9D200000", "size": "0x100000"],
    ]

    /// The DSP's map without its device memory.
    public static let omap4DSP: [[String: String]] = [
        ["name": "text", "kind": "carveout", "da": "0x20000000", "pa": "0x9C000000", "size": "0x100000"],
        ["name": "data", "kind": "carveout", "da": "0x80000000", "pa": "0x9C100000", "size": "0x100000"],
        ["name": "ipc", "kind": "carveout", "da": "0x9F000000", "pa": "0x9C200000", "size": "0x100000"],
    ]
}

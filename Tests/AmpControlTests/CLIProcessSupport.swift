import AmpJSON
import Foundation
import Glibc
import Synchronization
import Testing

/// The real `ampsoc` executable: a background `ampsoc run` instance, and one-shot verbs against it, all
/// with a private runtime directory (XDG_RUNTIME_DIR) so tests never see other instances.
final class BackgroundInstance: @unchecked Sendable {
    let name: String
    let directory: URL
    let process = Process()
    private let output = Mutex<(stdout: String, stderr: String)>(("", ""))
    private let drained = DispatchGroup()

    /// Starts `ampsoc run PROFILE --name NAME --events json --coredump-dir DIR` and waits for its control socket line.
    init(name: String, directory: URL, profile: String, extra: [String] = [], waitForSocket: Bool = true) throws {
        self.name = name
        self.directory = directory
        process.executableURL = URL(fileURLWithPath: ControlTestSupport.product("ampsoc"))
        // Coredumps (the tests enable them) go to the test's own directory, removed with it.
        process.arguments = ["run", profile, "--name", name, "--events", "json", "--coredump-dir", directory.path] + extra
        process.environment = AmpsocCLI.environment(directory)
        process.currentDirectoryURL = directory
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        collect(out.fileHandleForReading, error: false)
        collect(err.fileHandleForReading, error: true)
        try process.run()
        if waitForSocket {
            let ready = ControlTestSupport.poll(limit: 20) { self.stdout.contains("control socket") || !self.process.isRunning }
            try #require(ready && process.isRunning, "instance \(name) did not start: \(stderr)")
        }
    }

    private func collect(_ handle: FileHandle, error: Bool) {
        drained.enter()
        Thread.detachNewThread { [self] in
            while true {
                let data = handle.availableData
                if data.isEmpty { break }
                let text = String(decoding: data, as: UTF8.self)
                output.withLock { if error { $0.stderr += text } else { $0.stdout += text } }
            }
            drained.leave()
        }
    }

    var stdout: String { output.withLock { $0.stdout } }
    var stderr: String { output.withLock { $0.stderr } }

    /// The runtime directory the instance uses.
    var runtimeDirectory: String { directory.path + "/ampsoc" }

    /// Sends SIGTERM and returns the exit status (kills it after `limit` seconds).
    func stop(limit: Double = 20) -> Int32 {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        return waitForExit(limit: limit)
    }

    func waitForExit(limit: Double = 20) -> Int32 {
        if !ControlTestSupport.poll(limit: limit, { !process.isRunning }) {
            Issue.record("ampsoc run \(name) did not exit within \(limit) s; killing it")
            kill(process.processIdentifier, SIGKILL)
        }
        process.waitUntilExit()
        _ = drained.wait(timeout: .now() + 5)
        return process.terminationStatus
    }
}

/// One run of the `ampsoc` executable.
struct CLIResult {
    var status: Int32
    var stdout: String
    var stderr: String

    /// stdout parsed as one JSON object.
    func json() throws -> JSONObject {
        guard case .object(let object) = try JSONValue.parse(stdout) else { throw CLIError("not an object: \(stdout)") }
        return object
    }

    /// stdout as JSON lines.
    func jsonLines() throws -> [JSONObject] {
        try stdout.split(separator: "\n").map { line in
            guard case .object(let object) = try JSONValue.parse(String(line)) else { throw CLIError("not an object: \(line)") }
            return object
        }
    }
}

struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

enum AmpsocCLI {
    /// The environment of every process the tests start: a private XDG_RUNTIME_DIR.
    static func environment(_ directory: URL) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["XDG_RUNTIME_DIR"] = directory.path
        return environment
    }

    /// Runs `ampsoc ARGUMENTS` to completion (bounded by `limit` seconds).
    static func run(_ arguments: [String], directory: URL, limit: Double = 30) throws -> CLIResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ControlTestSupport.product("ampsoc"))
        process.arguments = arguments
        process.environment = environment(directory)
        process.currentDirectoryURL = directory
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let errors = Mutex(Data())
        let drained = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            let data = err.fileHandleForReading.readDataToEndOfFile()
            errors.withLock { $0 = data }
            drained.signal()
        }
        let timer = DispatchWorkItem { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        DispatchQueue.global().asyncAfter(deadline: .now() + limit, execute: timer)
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        timer.cancel()
        drained.wait()
        return CLIResult(
            status: process.terminationStatus, stdout: String(decoding: data, as: UTF8.self),
            stderr: String(decoding: errors.withLock { $0 }, as: UTF8.self))
    }
}

import AmpJSON
import Foundation
import Synchronization
import Testing

/// The real `ampsoc` executable run as a child of the test, with its stdout (JSON event lines) and stderr
/// collected as they arrive.
final class AmpsocProcess: @unchecked Sendable {
    let process = Process()
    private let output = Mutex<(stdout: String, stderr: String)>(("", ""))
    private let finished = DispatchGroup()

    init(_ arguments: [String], environment: [String: String]? = nil) throws {
        process.executableURL = URL(fileURLWithPath: Integration.product("ampsoc"))
        process.arguments = arguments
        process.currentDirectoryURL = Integration.packageRoot
        if let environment { process.environment = environment }
        let outPipe = Pipe(), errPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        process.standardInput = FileHandle.nullDevice
        collect(outPipe.fileHandleForReading, isError: false)
        collect(errPipe.fileHandleForReading, isError: true)
        try process.run()
    }

    private func collect(_ handle: FileHandle, isError: Bool) {
        finished.enter()
        Thread.detachNewThread { [self] in
            while true {
                let data = handle.availableData
                if data.isEmpty { break }
                let text = String(decoding: data, as: UTF8.self)
                output.withLock { if isError { $0.stderr += text } else { $0.stdout += text } }
            }
            finished.leave()
        }
    }

    var stdout: String { output.withLock { $0.stdout } }
    var stderr: String { output.withLock { $0.stderr } }

    /// The JSON event objects printed so far.
    var events: [JSONObject] {
        stdout.split(separator: "\n").compactMap { line in
            if case .object(let object)? = try? JSONValue.parse(String(line)) { return object }
            return nil
        }
    }

    func hasEvent(_ fields: [String: String]) -> Bool {
        events.contains { event in fields.allSatisfy { event[$0.key] == .string($0.value) } }
    }

    /// Polls `condition` every 20 ms for up to `limit` seconds.
    @discardableResult
    func wait(limit: Double = 20, until condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(limit)
        while !condition() {
            if Date() > deadline { return false }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return true
    }

    /// Waits for the process to exit (bounded; kills it past the limit) and returns its status.
    func waitForExit(limit: Double = 30) -> Int32 {
        if !wait(limit: limit, until: { !process.isRunning }) {
            Issue.record("ampsoc did not exit within \(limit) s; killing it")
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        process.waitUntilExit()
        _ = finished.wait(timeout: .now() + 5)
        return process.terminationStatus
    }
}

extension Integration {
    /// Firmware processes started for `instance` that are still alive (found through their environment).
    static func firmwareProcesses(of instance: String) -> [Int32] {
        let needle = Array("AMPSOC_SEGMENT=/ampsoc.\(instance).".utf8)
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { Int32($0) }.filter { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { return false }
            let bytes = [UInt8](data)
            guard bytes.count >= needle.count else { return false }
            return bytes.split(separator: 0).contains { $0.starts(with: needle) } && processExists(pid)
        }
    }
}

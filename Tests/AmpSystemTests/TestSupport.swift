import Dispatch
import Foundation
import Glibc
import Testing

@testable import AmpSystem

/// Helpers shared by the AmpSystem tests: the test peer's path, unique segment names, /dev/shm checks, pipes.
enum TestSupport {
    /// The `amp-system-testpeer` executable: found next to the test bundle by walking up from the directory of
    /// /proc/self/exe to the build products directory.
    static func peerPath() throws -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        try #require(length > 0, "readlink /proc/self/exe failed")
        var directory = String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        while let slash = directory.lastIndex(of: "/"), !directory.isEmpty {
            directory = String(directory[..<slash])
            let candidate = directory + "/amp-system-testpeer"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        Issue.record("amp-system-testpeer not found above /proc/self/exe")
        throw SystemError(call: "find test peer", subject: "amp-system-testpeer", code: .noSuchFile)
    }

    /// A fresh segment name owned by this process, unique per call.
    static func uniqueSegmentName(_ label: String) throws -> String {
        let salt = UInt32.random(in: 0...UInt32.max)
        return try SegmentNames.make(instance: "test-\(label)", rproc: "r\(salt)").path
    }

    /// Whether /dev/shm holds `name` (given with its leading "/").
    static func segmentExists(_ name: String) -> Bool {
        access("/dev/shm" + name, F_OK) == 0
    }

    /// Creates a segment name the way a creator that then crashed would leave it (no object owns it).
    static func createAbandonedSegment(_ name: String) throws {
        let fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0o600)
        try #require(fd >= 0, "shm_open \(name) failed: errno \(errno)")
        close(fd)
    }

    /// A pipe, both ends close-on-exec: (read end, write end).
    static func makePipe() throws -> (read: Int32, write: Int32) {
        try PipePair.create()
    }

    /// Reads from `fd` until `count` newline-terminated lines arrived, EOF, or `timeout`; returns the lines.
    static func readLines(_ fd: Int32, count: Int, timeout: Duration = .seconds(5)) throws -> [String] {
        let deadline = MonotonicClock.deadline(after: timeout)
        var bytes: [UInt8] = []
        while bytes.filter({ $0 == 10 }).count < count {
            var pollEntry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let remaining = MonotonicClock.remaining(until: deadline)
            if remaining == 0 { break }
            let ready = poll(&pollEntry, 1, Int32(clamping: remaining / 1_000_000 + 1))
            if ready < 0 && errno == EINTR { continue }
            if ready <= 0 { break }
            var chunk = [UInt8](repeating: 0, count: 256)
            let got = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if got <= 0 { break }
            bytes += chunk[0..<got]
        }
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    /// Runs `body` on a new thread (blocking waits stay off the Swift concurrency pool); wait on the result.
    static func background(_ body: @escaping @Sendable () -> Void) -> DispatchSemaphore {
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            body()
            done.signal()
        }
        thread.start()
        return done
    }

    /// Milliseconds elapsed since `start` (a MonotonicClock reading).
    static func milliseconds(since start: UInt64) -> Double {
        Double(MonotonicClock.nanoseconds() - start) / 1_000_000
    }

    /// Whether a process with this pid exists at all (also as a zombie).
    static func processExists(_ pid: pid_t) -> Bool {
        access("/proc/\(pid)", F_OK) == 0
    }
}

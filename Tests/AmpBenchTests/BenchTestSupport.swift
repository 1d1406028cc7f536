import AmpSystem
import Glibc
import Testing

/// The one suite of AmpBenchTests; its tests live in the other files as extensions. Serialized: the transport
/// tests start peer processes, and two benchmarks at once on a 2-CPU machine only slow each other down.
@Suite(.serialized) struct BenchTests {}

/// Helpers: built executables, running `ampsoc` with its output captured, /proc and /dev/shm scans.
enum BenchTestSupport {
    /// The directory of the running test binary (the build products directory).
    static func productsDirectory() throws -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        try #require(length > 0, "readlink /proc/self/exe failed")
        let path = String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let slash = try #require(path.lastIndex(of: "/"))
        return String(path[..<slash])
    }

    /// A built executable of this package, `name`, next to the test binary.
    static func executable(_ name: String) throws -> String {
        let path = try productsDirectory() + "/" + name
        try #require(access(path, X_OK) == 0, "\(path) is not built")
        return path
    }

    /// What a finished child printed and how it ended.
    struct Captured {
        var status: ChildProcess.ExitStatus
        var standardOutput: String
        var standardError: String
        var pid: pid_t
    }

    /// A signal to send the child once its standard error contains `marker`.
    struct SignalOnOutput {
        var signal: Int32
        var marker: String
    }

    /// Runs `executable` with `arguments` (and `environment` added to this process's), capturing standard
    /// output and standard error, and waits up to `timeout` for it to finish. With `signal`, sends it once
    /// standard error shows its marker (failing the test if the child ends first).
    static func run(
        _ executable: String, _ arguments: [String], environment extra: [String: String] = [:],
        signal: SignalOnOutput? = nil, timeout: Duration = .seconds(60)
    ) throws -> Captured {
        let output = try PipePair.create()
        let errors = try PipePair.create()
        var environment: [String: String] = [:]
        var entry = environ
        while let pointer = entry.pointee {
            let text = String(cString: pointer)
            if let equals = text.firstIndex(of: "=") {
                environment[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            entry += 1
        }
        environment.merge(extra) { $1 }
        let child: ChildProcess
        do {
            defer {
                close(output.write)
                close(errors.write)
            }
            child = try ChildProcess.spawn(
                executable: executable, arguments: arguments, environment: environment,
                inheritFDs: [(from: output.write, to: 1), (from: errors.write, to: 2)])
        }
        defer {
            close(output.read)
            close(errors.read)
        }
        let deadline = MonotonicClock.nanoseconds() + MonotonicClock.nanoseconds(of: timeout)
        var errorsBefore: [UInt8] = []
        if let signal {
            let marker = Array(signal.marker.utf8)
            while !errorsBefore.contains(marker) {
                let more = try readSome(errors.read, deadline: deadline, what: executable)
                try #require(!more.isEmpty, "\(executable) ended before printing \"\(signal.marker)\"")
                errorsBefore += more
            }
            try #require(kill(child.pid, signal.signal) == 0, "kill(\(child.pid), \(signal.signal)) failed: errno \(errno)")
        }
        let standardOutput = try readToEnd(output.read, deadline: deadline, what: executable)
        let standardError = String(decoding: errorsBefore, as: UTF8.self)
            + (try readToEnd(errors.read, deadline: deadline, what: executable))
        let status = try #require(try child.waitForExit(timeout: .seconds(10)), "\(executable) did not exit")
        return Captured(status: status, standardOutput: standardOutput, standardError: standardError, pid: child.pid)
    }

    /// Reads `fd` until end of file; fails the test if `deadline` passes first.
    static func readToEnd(_ fd: Int32, deadline: UInt64, what: String) throws -> String {
        var bytes: [UInt8] = []
        while true {
            let more = try readSome(fd, deadline: deadline, what: what)
            if more.isEmpty { return String(decoding: bytes, as: UTF8.self) }
            bytes += more
        }
    }

    /// The next bytes `fd` has (waiting for some), empty at end of file; fails the test if `deadline` passes
    /// first.
    static func readSome(_ fd: Int32, deadline: UInt64, what: String) throws -> [UInt8] {
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let now = MonotonicClock.nanoseconds()
            try #require(now < deadline, "\(what) did not finish in time")
            var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&entry, 1, Int32(clamping: (deadline - now) / 1_000_000 + 1))
            if ready < 0 && errno == EINTR { continue }
            try #require(ready >= 0, "poll failed: errno \(errno)")
            if ready == 0 { continue }
            let got = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if got < 0 && errno == EINTR { continue }
            try #require(got >= 0, "read failed: errno \(errno)")
            return Array(chunk[0..<got])
        }
    }

    /// Names in /dev/shm of ampsoc segments created by `pid`.
    static func segments(createdBy pid: pid_t) throws -> [String] {
        guard let directory = opendir("/dev/shm") else { return [] }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if let parsed = SegmentNames.parse(name), parsed.creatorPID == pid { names.append(name) }
        }
        return names
    }

    /// Pids of running `ampsoc-bench-peer` processes started by `parent` (their command line has
    /// "--parent <parent>"), found by scanning /proc/<pid>/cmdline.
    static func benchPeers(startedBy parent: pid_t) -> [pid_t] {
        guard let directory = opendir("/proc") else { return [] }
        defer { closedir(directory) }
        var found: [pid_t] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard let pid = pid_t(name), let words = commandLine(of: pid) else { continue }
            guard let first = words.first, first.hasSuffix("ampsoc-bench-peer") else { continue }
            if let flag = words.firstIndex(of: "--parent"), flag + 1 < words.count, words[flag + 1] == String(parent) {
                found.append(pid)
            }
        }
        return found
    }

    /// The NUL-separated words of /proc/<pid>/cmdline, nil when the process is gone.
    static func commandLine(of pid: pid_t) -> [String]? {
        guard let bytes = try? FileIO.readFile("/proc/\(pid)/cmdline", limit: 1 << 16) else { return nil }
        return bytes.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Whether a process with this pid exists (a reaped child's pid is gone until reused).
    static func processExists(_ pid: pid_t) -> Bool {
        access("/proc/\(pid)", F_OK) == 0
    }
}

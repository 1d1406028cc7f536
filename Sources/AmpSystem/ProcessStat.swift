import Glibc

/// The two facts the system layer needs from `/proc/<pid>/stat` (proc(5)): the process state letter (field 3)
/// and its start time in clock ticks since boot (field 22). A pid plus its start time names one process for
/// good, even after the pid is recycled.
public struct ProcessStat: Equatable, Sendable {
    /// Field 3: "R", "S", "D", "Z" (zombie), "X" (dead), ...
    public var state: Character
    /// Field 22: start time after boot, in clock ticks.
    public var startTime: UInt64

    public init(state: Character, startTime: UInt64) {
        self.state = state
        self.startTime = startTime
    }

    /// Whether the process has finished (zombie or dead): it can no longer use anything it created.
    public var hasExited: Bool { state == "Z" || state == "X" }

    /// Reads `/proc/<pid>/stat`. Throws ENOENT (``Errno/noSuchFile``) when no such process exists, and EINVAL
    /// naming the file when its text does not parse.
    public static func read(pid: pid_t) throws(SystemError) -> ProcessStat {
        let path = "/proc/\(pid)/stat"
        let bytes = try FileIO.readFile(path, limit: 1 << 16)
        guard let stat = parse(bytes) else {
            throw SystemError(call: "parse (expected fields 3 and 22)", subject: path, code: .invalidArgument)
        }
        return stat
    }

    /// The calling process's own start time.
    public static func ownStartTime() throws(SystemError) -> UInt64 {
        try read(pid: getpid()).startTime
    }

    /// Parses the text of a stat file. Field 2 (the command name) is in parentheses and may itself contain
    /// spaces and ")", so fields are counted from the last ")".
    public static func parse(_ bytes: [UInt8]) -> ProcessStat? {
        guard let close = bytes.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        let rest = bytes[(close + 1)...].split(whereSeparator: { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\n") })
        // rest[0] is field 3, so field 22 is rest[19].
        guard rest.count >= 20, rest[0].count == 1, let letter = rest[0].first,
              let startTime = UInt64(String(decoding: rest[19], as: UTF8.self))
        else { return nil }
        return ProcessStat(state: Character(Unicode.Scalar(letter)), startTime: startTime)
    }
}

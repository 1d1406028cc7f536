import AmpSystem
import Glibc

/// CPU use of a set of processes over a window, as a percentage of one core: the idle-topology target
/// ("an idle topology uses below 2% of a core") is checked with it.
///
/// Source: `/proc/<pid>/stat` (proc(5)) fields 14 `utime` and 15 `stime`, the process's user and system CPU
/// time in clock ticks (`sysconf(_SC_CLK_TCK)`, 100 a second), summed over all its threads. The figure is
/// (ticks after - ticks before) / ticks per second / wall-clock window * 100, summed over the pids, so two
/// processes each busy half the time read 100. One tick over a 2 s window is 0.5%.
public enum CPUUsageMeter {
    /// User plus system CPU time of `pid` so far, in clock ticks. Throws ENOENT when there is no such
    /// process, EINVAL naming the file when it does not parse.
    public static func cpuTicks(pid: pid_t) throws(SystemError) -> UInt64 {
        let path = "/proc/\(pid)/stat"
        let bytes = try FileIO.readFile(path, limit: 1 << 16)
        guard let ticks = parseCPUTicks(bytes) else {
            throw SystemError(call: "parse (expected fields 14 utime and 15 stime)", subject: path, code: .invalidArgument)
        }
        return ticks
    }

    /// Fields 14 (`utime`) plus 15 (`stime`) of a stat file's text, or nil when they are missing or not
    /// numbers. Field 2 (the command name) is in parentheses and may contain spaces and ")", so fields are
    /// counted from the last ")": the first word after it is field 3.
    public static func parseCPUTicks(_ bytes: [UInt8]) -> UInt64? {
        guard let close = bytes.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        let fields = bytes[(close + 1)...].split(whereSeparator: { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\n") })
        // fields[0] is field 3, so field 14 is fields[11] and field 15 is fields[12].
        guard fields.count >= 13,
              let user = UInt64(String(decoding: fields[11], as: UTF8.self)),
              let system = UInt64(String(decoding: fields[12], as: UTF8.self))
        else { return nil }
        return user + system
    }

    /// Sleeps for `window` and returns the CPU the processes `pids` used meanwhile, in percent of one core.
    /// Every pid must exist at the start and at the end of the window.
    public static func percentOfOneCore(pids: [pid_t], window: Duration) throws(BenchError) -> Double {
        try withSystemErrors { () throws(SystemError) -> Double in
            let ticksPerSecond = try BenchSys.clockTicksPerSecond()
            let startTicks = try totalTicks(pids)
            let start = MonotonicClock.nanoseconds()
            BenchSys.sleep(nanoseconds: MonotonicClock.nanoseconds(of: window))
            let endTicks = try totalTicks(pids)
            let elapsed = Double(max(MonotonicClock.nanoseconds() &- start, 1)) / 1e9
            let used = Double(endTicks >= startTicks ? endTicks - startTicks : 0) / Double(ticksPerSecond)
            return used / elapsed * 100
        }
    }

    /// ``cpuTicks(pid:)`` summed over `pids`.
    private static func totalTicks(_ pids: [pid_t]) throws(SystemError) -> UInt64 {
        var total: UInt64 = 0
        for pid in pids { total += try cpuTicks(pid: pid) }
        return total
    }
}

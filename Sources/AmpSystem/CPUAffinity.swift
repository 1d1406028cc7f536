/// How many CPUs this process may run on, which decides whether spinning while waiting can ever help.
public enum CPUAffinity {
    /// CPUs in the calling thread's affinity mask (`sched_getaffinity(2)` + `CPU_COUNT`), at least 1.
    /// When the call fails the answer is 1, the safe choice for spin-then-sleep waiters (they then only sleep).
    public static func usableCPUCount() -> Int {
        let count = Sys.usableCPUCount()
        return count > 0 ? Int(count) : 1
    }
}

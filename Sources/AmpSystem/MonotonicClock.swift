/// The monotonic clock (`clock_gettime(CLOCK_MONOTONIC)`), in nanoseconds, plus deadline arithmetic shared by
/// every wait with a timeout in this layer.
public enum MonotonicClock {
    /// Nanoseconds on CLOCK_MONOTONIC (`clock_gettime(2)`; served by the vDSO, no kernel entry).
    public static func nanoseconds() -> UInt64 {
        Sys.monotonicNanoseconds()
    }

    /// CLOCK_MONOTONIC as of the last clock tick (CLOCK_MONOTONIC_COARSE): a few nanoseconds to read instead
    /// of tens, but up to ``coarseLagNanoseconds`` behind ``nanoseconds()``. For "can this deadline have
    /// passed yet?" checks on hot paths, before paying for a precise reading.
    public static func coarseNanoseconds() -> UInt64 {
        Sys.coarseMonotonicNanoseconds()
    }

    /// How far ``coarseNanoseconds()`` may lag ``nanoseconds()``: two ticks of the coarse clock (its
    /// resolution, 1-10 ms depending on the kernel's HZ), so that `coarse + lag < deadline` proves the
    /// deadline is still ahead.
    public static let coarseLagNanoseconds: UInt64 = 2 * Sys.coarseMonotonicResolution(fallback: 10_000_000)

    /// `duration` in whole nanoseconds, clamped to 0...UInt64.max / 2 (negative durations become 0).
    public static func nanoseconds(of duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        if seconds < 0 || (seconds == 0 && attoseconds <= 0) { return 0 }
        let limit = UInt64.max / 2
        let (wholeSeconds, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
        if overflow || wholeSeconds > limit { return limit }
        return min(limit, wholeSeconds + UInt64(max(0, attoseconds) / 1_000_000_000))
    }

    /// The deadline `timeout` from now, or nil for no timeout.
    public static func deadline(after timeout: Duration?) -> UInt64? {
        guard let timeout else { return nil }
        return nanoseconds() &+ nanoseconds(of: timeout)
    }

    /// The deadline `timeout` from now.
    public static func deadline(after timeout: Duration) -> UInt64 {
        nanoseconds() &+ nanoseconds(of: timeout)
    }

    /// Nanoseconds left until `deadline` (0 when passed), or -1 for no deadline, in the shim's timeout convention.
    static func remaining(until deadline: UInt64?) -> Int64 {
        guard let deadline else { return -1 }
        let now = nanoseconds()
        return deadline > now ? Int64(clamping: deadline - now) : 0
    }
}

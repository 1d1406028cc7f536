/// A deadline that starts when it is first needed: the first ``nanosecondsLeft(after:)`` fixes it at that
/// moment plus the given duration. A path that usually does not wait (a blocking send that finds a buffer)
/// thus reads the clock only once it has to wait.
public struct LazyDeadline {
    private var end: UInt64?

    public init() {}

    /// Whether the deadline has been fixed (the caller waited before).
    public var isStarted: Bool { end != nil }

    /// Nanoseconds left until the deadline; the first call fixes it at now + `duration`. Nil once it passed.
    public mutating func nanosecondsLeft(after duration: Duration) -> UInt64? {
        let now = MonotonicClock.nanoseconds()
        let end = self.end ?? now &+ MonotonicClock.nanoseconds(of: duration)
        self.end = end
        return now < end ? end - now : nil
    }
}

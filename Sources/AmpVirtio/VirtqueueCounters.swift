// Running totals kept by each side of a virtqueue, for diagnostics (vring dumps, traces, benchmarks).
// They survive `reset()`, so a host can report how often a remote broke its rings across recoveries.

/// Totals of the driver side (the host) of one virtqueue.
public struct VirtqueueDriverCounters: Sendable, Equatable {
    /// Buffers added with `add(address:length:deviceWritable:token:)`.
    public var added: UInt64 = 0
    /// Buffers the device returned and `takeUsed()` handed back.
    public var used: UInt64 = 0
    /// Protocol violations detected (each breaks the queue until `reset()`).
    public var violations: UInt64 = 0
    /// `publish()` calls that said the device must be notified.
    public var notifications: UInt64 = 0
    /// `publish()` calls with new buffers for which the device had suppressed notifications.
    public var suppressedNotifications: UInt64 = 0

    public init() {}
}

/// Totals of the device side (a remote core) of one virtqueue.
public struct VirtqueueDeviceCounters: Sendable, Equatable {
    /// Buffers taken from the available ring with `takeAvailable()`.
    public var taken: UInt64 = 0
    /// Buffers returned with `addUsed(head:length:)`.
    public var used: UInt64 = 0
    /// Protocol violations detected (each breaks the queue until `reset()`).
    public var violations: UInt64 = 0
    /// `publishUsed()` calls that said the driver must be interrupted.
    public var interrupts: UInt64 = 0
    /// `publishUsed()` calls with new used entries for which the driver had suppressed interrupts.
    public var suppressedInterrupts: UInt64 = 0

    public init() {}
}

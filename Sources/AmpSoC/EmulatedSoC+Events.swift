import AmpRemoteproc

// The event stream of a running SoC: the same events `ampsoc run` prints (states, crashes, trace lines,
// coredumps, channels, driver output, errors).
extension EmulatedSoC {
    /// Starts a stream of every host event from now on. Up to `capacity` unread events are kept; beyond
    /// that the oldest are dropped (``SoCEventSubscription/dropped``). The stream ends at shutdown.
    public func subscribeEvents(capacity: Int = 10_000) -> SoCEventSubscription {
        hub.subscribe(capacity: capacity)
    }
}

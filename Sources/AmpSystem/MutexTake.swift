import Synchronization

extension Mutex {
    /// Takes the value out and leaves nil: for state held until a one-time teardown, which then works on it
    /// with the lock released.
    public func take<Wrapped>() -> Value where Value == Wrapped? {
        withLock { value in
            defer { value = nil }
            return value
        }
    }
}

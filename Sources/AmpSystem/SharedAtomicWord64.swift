import Synchronization

/// A 64-bit atomic word inside a ``SharedMemorySegment`` (the control block's `heartbeat`, `faultAddress` and
/// `traces[i].written`): Synchronization's `Atomic<UInt64>` bound onto the mapping, so a reader in the host
/// never sees a torn value. ``SharedAtomicWord`` is its 32-bit counterpart.
public struct SharedAtomicWord64: @unchecked Sendable {
    /// The segment holding the word (kept alive by this value).
    public let segment: SharedMemorySegment
    /// Byte offset of the word in the segment.
    public let offset: Int
    private let pointer: UnsafeMutablePointer<Atomic<UInt64>>

    /// The word at `offset`: bounds-checked, and EINVAL unless 8-byte aligned.
    public init(segment: SharedMemorySegment, offset: Int) throws(SystemError) {
        try segment.checkRange(offset: offset, count: 8)
        guard offset % 8 == 0 else {
            throw SystemError(call: "atomic word (offset \(offset) is not 8-byte aligned)", subject: segment.name, code: .invalidArgument)
        }
        self.segment = segment
        self.offset = offset
        pointer = (segment.base + offset).bindMemory(to: Atomic<UInt64>.self, capacity: 1)
    }

    /// Acquiring load.
    public func load() -> UInt64 { pointer.pointee.load(ordering: .acquiring) }

    /// Releasing store: everything written before it is visible to a reader that loads the new value.
    public func store(_ value: UInt64) { pointer.pointee.store(value, ordering: .releasing) }

    /// Releasing wrapping increment by one.
    public func increment() { pointer.pointee.wrappingAdd(1, ordering: .releasing) }
}

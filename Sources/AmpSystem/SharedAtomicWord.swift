import Synchronization

/// A 32-bit atomic word inside a ``SharedMemorySegment``: Synchronization's `Atomic<UInt32>` bound onto the
/// mapping, so every operation is a plain locked instruction on memory the peer process sees too.
///
/// Obtain one from ``SharedMemorySegment/atomicWord(at:)`` (bounds and alignment checked). The word keeps its
/// segment alive. The raw ``address`` is what futex calls take. Orderings passed as arguments are dispatched
/// to constant orderings (the atomics require compile-time constants); the switch folds away when inlined.
public struct SharedAtomicWord: @unchecked Sendable {
    /// The segment holding the word.
    public let segment: SharedMemorySegment
    /// Byte offset of the word in the segment.
    public let offset: Int
    private let pointer: UnsafeMutablePointer<Atomic<UInt32>>

    init(segment: SharedMemorySegment, offset: Int) {
        self.segment = segment
        self.offset = offset
        self.pointer = (segment.base + offset).bindMemory(to: Atomic<UInt32>.self, capacity: 1)
    }

    /// The word's address in this process's mapping (for futex wait/wake).
    public var address: UnsafeMutableRawPointer { UnsafeMutableRawPointer(pointer) }

    /// Atomic load.
    @inline(__always)
    public func load(ordering: AtomicLoadOrdering = .acquiring) -> UInt32 {
        switch ordering {
        case .relaxed: pointer.pointee.load(ordering: .relaxed)
        case .acquiring: pointer.pointee.load(ordering: .acquiring)
        default: pointer.pointee.load(ordering: .sequentiallyConsistent)
        }
    }

    /// Atomic store.
    @inline(__always)
    public func store(_ value: UInt32, ordering: AtomicStoreOrdering = .releasing) {
        switch ordering {
        case .relaxed: pointer.pointee.store(value, ordering: .relaxed)
        case .releasing: pointer.pointee.store(value, ordering: .releasing)
        default: pointer.pointee.store(value, ordering: .sequentiallyConsistent)
        }
    }

    /// Atomic exchange; returns the previous value.
    @inline(__always)
    @discardableResult
    public func exchange(_ value: UInt32, ordering: AtomicUpdateOrdering = .acquiringAndReleasing) -> UInt32 {
        switch ordering {
        case .relaxed: pointer.pointee.exchange(value, ordering: .relaxed)
        case .acquiring: pointer.pointee.exchange(value, ordering: .acquiring)
        case .releasing: pointer.pointee.exchange(value, ordering: .releasing)
        case .acquiringAndReleasing: pointer.pointee.exchange(value, ordering: .acquiringAndReleasing)
        default: pointer.pointee.exchange(value, ordering: .sequentiallyConsistent)
        }
    }

    /// Atomic wrapping add; returns the previous value.
    @inline(__always)
    @discardableResult
    public func wrappingAdd(_ value: UInt32, ordering: AtomicUpdateOrdering = .acquiringAndReleasing) -> UInt32 {
        switch ordering {
        case .relaxed: pointer.pointee.wrappingAdd(value, ordering: .relaxed).oldValue
        case .acquiring: pointer.pointee.wrappingAdd(value, ordering: .acquiring).oldValue
        case .releasing: pointer.pointee.wrappingAdd(value, ordering: .releasing).oldValue
        case .acquiringAndReleasing: pointer.pointee.wrappingAdd(value, ordering: .acquiringAndReleasing).oldValue
        default: pointer.pointee.wrappingAdd(value, ordering: .sequentiallyConsistent).oldValue
        }
    }

    /// Atomic wrapping subtract; returns the previous value.
    @inline(__always)
    @discardableResult
    public func wrappingSubtract(_ value: UInt32, ordering: AtomicUpdateOrdering = .acquiringAndReleasing) -> UInt32 {
        switch ordering {
        case .relaxed: pointer.pointee.wrappingSubtract(value, ordering: .relaxed).oldValue
        case .acquiring: pointer.pointee.wrappingSubtract(value, ordering: .acquiring).oldValue
        case .releasing: pointer.pointee.wrappingSubtract(value, ordering: .releasing).oldValue
        case .acquiringAndReleasing: pointer.pointee.wrappingSubtract(value, ordering: .acquiringAndReleasing).oldValue
        default: pointer.pointee.wrappingSubtract(value, ordering: .sequentiallyConsistent).oldValue
        }
    }

    /// Atomic bitwise OR; returns the previous value.
    @inline(__always)
    @discardableResult
    public func bitwiseOr(_ value: UInt32, ordering: AtomicUpdateOrdering = .acquiringAndReleasing) -> UInt32 {
        switch ordering {
        case .relaxed: pointer.pointee.bitwiseOr(value, ordering: .relaxed).oldValue
        case .acquiring: pointer.pointee.bitwiseOr(value, ordering: .acquiring).oldValue
        case .releasing: pointer.pointee.bitwiseOr(value, ordering: .releasing).oldValue
        case .acquiringAndReleasing: pointer.pointee.bitwiseOr(value, ordering: .acquiringAndReleasing).oldValue
        default: pointer.pointee.bitwiseOr(value, ordering: .sequentiallyConsistent).oldValue
        }
    }

    /// Atomic compare-and-exchange (strong).
    @inline(__always)
    public func compareExchange(
        expected: UInt32, desired: UInt32, ordering: AtomicUpdateOrdering = .acquiringAndReleasing
    ) -> (exchanged: Bool, original: UInt32) {
        switch ordering {
        case .relaxed: pointer.pointee.compareExchange(expected: expected, desired: desired, ordering: .relaxed)
        case .acquiring: pointer.pointee.compareExchange(expected: expected, desired: desired, ordering: .acquiring)
        case .releasing: pointer.pointee.compareExchange(expected: expected, desired: desired, ordering: .releasing)
        case .acquiringAndReleasing: pointer.pointee.compareExchange(expected: expected, desired: desired, ordering: .acquiringAndReleasing)
        default: pointer.pointee.compareExchange(expected: expected, desired: desired, ordering: .sequentiallyConsistent)
        }
    }
}

import Glibc
import Synchronization

/// A POSIX shared-memory segment mapped read-write and shared (`shm_open(3)` + `mmap(2)` with MAP_SHARED).
///
/// The host creates one per remote processor with ``create(name:size:)``; the remote process maps it with
/// ``open(name:)``. The creator owns the name: it is unlinked when the creating object is deinitialised (or earlier
/// with ``unlink()``), so a crashed creator's segments are the only ones left for ``StaleSegmentCleaner``.
/// The mapping is removed (`munmap(2)`) on deinit. The descriptor is closed right after mapping, so it can
/// never leak into a spawned child.
///
/// Every helper that touches memory checks `offset` and `count` against ``size`` and throws a ``SystemError``
/// naming the segment (errno ERANGE, or EINVAL for a misaligned atomic word) rather than touching memory outside
/// the mapping. Concurrent access by the peer is expected: use ``atomicWord(at:)`` for synchronisation words.
public final class SharedMemorySegment: @unchecked Sendable {
    /// The segment's name as passed to shm_open, e.g. "/ampsoc.host.1234-5678.dsp0".
    public let name: String
    /// Start of the mapping (page aligned).
    public let base: UnsafeMutableRawPointer
    /// Length of the mapping in bytes.
    public let size: Int
    /// Whether this object created the name and unlinks it on deinit.
    public let ownsName: Bool
    private let nameUnlinked = Atomic<Bool>(false)

    private init(name: String, base: UnsafeMutableRawPointer, size: Int, ownsName: Bool) {
        self.name = name
        self.base = base
        self.size = size
        self.ownsName = ownsName
    }

    deinit {
        _ = Sys.munmap(base, size)
        if ownsName, !nameUnlinked.exchange(true, ordering: .acquiringAndReleasing) {
            _ = Sys.shmUnlink(name)
        }
    }

    /// Creates and maps a new segment of `size` bytes, zero-filled: `shm_open(name, O_CREAT|O_EXCL|O_RDWR, 0600)`,
    /// `fchmod(0600)` (so the umask cannot change the mode), `ftruncate(size)`, `mmap(MAP_SHARED)`.
    /// Throws EEXIST (``Errno/fileExists``) if the name is taken. On any failure the new name is unlinked again.
    public static func create(name: String, size: Int) throws(SystemError) -> SharedMemorySegment {
        try validate(name: name)
        guard size > 0 else { throw SystemError(call: "ftruncate", subject: name, code: .invalidArgument) }
        let fd = try Sys.retrying("shm_open", name, Sys.shmOpen(name, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0o600))
        defer { _ = Sys.close(fd) }
        do {
            _ = try Sys.retrying("fchmod", name, Sys.fchmod(fd, 0o600))
            _ = try Sys.retrying("ftruncate", name, Sys.ftruncate(fd, size))
            let base = try map(fd: fd, size: size, name: name)
            return SharedMemorySegment(name: name, base: base, size: size, ownsName: true)
        } catch {
            _ = Sys.shmUnlink(name)
            throw error
        }
    }

    /// Maps an existing segment created by a peer: `shm_open(name, O_RDWR)`, `fstat(2)` for its size,
    /// `mmap(MAP_SHARED)`. The name is not unlinked by this object.
    public static func open(name: String) throws(SystemError) -> SharedMemorySegment {
        try validate(name: name)
        let fd = try Sys.retrying("shm_open", name, Sys.shmOpen(name, O_RDWR | O_CLOEXEC, 0))
        defer { _ = Sys.close(fd) }
        var info = stat()
        _ = try Sys.checked("fstat", name, Sys.fstat(fd, &info))
        let size = Int(info.st_size)
        guard size > 0 else { throw SystemError(call: "mmap (segment is empty)", subject: name, code: .invalidArgument) }
        let base = try map(fd: fd, size: size, name: name)
        return SharedMemorySegment(name: name, base: base, size: size, ownsName: false)
    }

    /// Removes the name (`shm_unlink(3)`); existing mappings stay valid. A second call does nothing.
    public func unlink() throws(SystemError) {
        guard !nameUnlinked.exchange(true, ordering: .acquiringAndReleasing) else { return }
        _ = try Sys.checked("shm_unlink", name, Sys.shmUnlink(name))
    }

    private static func map(fd: Int32, size: Int, name: String) throws(SystemError) -> UnsafeMutableRawPointer {
        try Sys.mmapShared(fd, size, subject: name)
    }

    /// shm_open names are "/" plus a single path component; glibc rejects 254 or more characters after the slash.
    private static func validate(name: String) throws(SystemError) {
        let component = name.utf8.dropFirst()
        guard name.utf8.first == UInt8(ascii: "/"), !component.isEmpty, !component.contains(UInt8(ascii: "/")) else {
            throw SystemError(call: "shm_open (name must be \"/\" and one component)", subject: name, code: .invalidArgument)
        }
        guard component.count < Int(NAME_MAX) - 1 else {
            throw SystemError(call: "shm_open", subject: name, code: .nameTooLong)
        }
    }
}

// MARK: - Bounds-checked access

extension SharedMemorySegment {
    /// Throws ERANGE naming the segment unless `offset..<offset+count` lies inside the mapping.
    public func checkRange(offset: Int, count: Int) throws(SystemError) {
        guard offset >= 0, count >= 0, offset <= size, count <= size - offset else {
            throw SystemError(
                call: "bounds check (offset \(offset), count \(count), segment size \(size))", subject: name,
                code: .outOfRange)
        }
    }

    /// The 32-bit atomic word at `offset` (4-byte aligned), bound as `Atomic<UInt32>` on the mapping.
    public func atomicWord(at offset: Int) throws(SystemError) -> SharedAtomicWord {
        try checkRange(offset: offset, count: 4)
        guard offset % 4 == 0 else {
            throw SystemError(call: "atomic word (offset \(offset) is not 4-byte aligned)", subject: name, code: .invalidArgument)
        }
        return SharedAtomicWord(segment: self, offset: offset)
    }

    /// Copies `bytes` into the mapping at `offset` (memcpy).
    public func write(_ bytes: some Collection<UInt8>, at offset: Int) throws(SystemError) {
        try checkRange(offset: offset, count: bytes.count)
        let target = UnsafeMutableRawBufferPointer(start: base + offset, count: bytes.count)
        target.copyBytes(from: bytes)
    }

    /// Copies `count` bytes out of the mapping at `offset` (memcpy).
    public func read(at offset: Int, count: Int) throws(SystemError) -> [UInt8] {
        try checkRange(offset: offset, count: count)
        return [UInt8](UnsafeRawBufferPointer(start: base + offset, count: count))
    }

    /// Copies `destination.count` bytes out of the mapping at `offset` into `destination`.
    public func read(at offset: Int, into destination: UnsafeMutableRawBufferPointer) throws(SystemError) {
        try checkRange(offset: offset, count: destination.count)
        guard let target = destination.baseAddress else { return }
        target.copyMemory(from: base + offset, byteCount: destination.count)
    }

    /// Sets `count` bytes at `offset` to zero (memset).
    /// Zeroes the whole segment. `madvise(MADV_REMOVE)` gives the pages of the shared-memory file back (they
    /// then read as zeros, so a large, mostly unused segment costs no memory); where that is refused, the pages
    /// are cleared with memset.
    public func zeroAll() throws(SystemError) {
        if Sys.madvise(base, size, MADV_REMOVE) < 0 {
            try zero(at: 0, count: size)
        }
    }

    public func zero(at offset: Int, count: Int) throws(SystemError) {
        try checkRange(offset: offset, count: count)
        (base + offset).initializeMemory(as: UInt8.self, repeating: 0, count: count)
    }
}

import Glibc
import AmpSystem

/// The writer of trace buffer 0: a character ring in device memory that the host reads incrementally
/// (docs/shared-memory.md, "Trace buffers"; Linux shows it as debugfs traceN).
///
/// Text goes to `written % len`, wrapping at the end of the buffer; after the bytes are in place the
/// control block's `traces[0].written` (the total ever written) advances with release order, so a reader that
/// loads the new total (acquiring) sees the text. The runtime is the only writer of the buffer and the counter.
final class TraceLog {
    /// The buffer inside the mapping, or nil when the resource table has no trace entry.
    private let buffer: UnsafeMutableRawBufferPointer?
    private let written: SharedAtomicWord64?
    private var total: UInt64
    private var notedMissing = false

    /// A log writing into `buffer` and publishing its total in `written` (starting from the value it holds).
    init(buffer: UnsafeMutableRawBufferPointer, written: SharedAtomicWord64) {
        self.buffer = buffer.isEmpty ? nil : buffer
        self.written = written
        total = written.load()
    }

    /// A log with nowhere to write: ``append(_:)`` notes that once on stderr and otherwise does nothing.
    init() {
        buffer = nil
        written = nil
        total = 0
    }

    /// Whether there is a trace buffer.
    var isAvailable: Bool { buffer != nil }

    /// Appends `text` and a newline. Text longer than the buffer leaves only its last `len` bytes in it, but
    /// the total counts every byte.
    func append(_ text: String) {
        guard let buffer, let base = buffer.baseAddress, let written else {
            if !notedMissing {
                notedMissing = true
                RemoteConsole.note("trace: the resource table has no trace entry; trace output is discarded")
            }
            return
        }
        var bytes = Array(text.utf8)
        bytes.append(UInt8(ascii: "\n"))
        let length = UInt64(buffer.count)
        let skipped = bytes.count > buffer.count ? bytes.count - buffer.count : 0
        var position = Int((total &+ UInt64(skipped)) % length)
        var index = skipped
        bytes.withUnsafeBytes { source in
            guard let sourceBase = source.baseAddress else { return }
            while index < bytes.count {
                let chunk = min(buffer.count - position, bytes.count - index)
                (base + position).copyMemory(from: sourceBase + index, byteCount: chunk)
                index += chunk
                position = (position + chunk) % buffer.count
            }
        }
        total &+= UInt64(bytes.count)
        written.store(total)
    }
}

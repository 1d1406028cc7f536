import Glibc
import Synchronization

/// The runtime's own diagnostics on stderr (not the trace buffer): one line each, prefixed with the remote
/// processor's name once known, written with a single `write(2)` where possible so lines from several
/// processes sharing a terminal do not interleave.
enum RemoteConsole {
    /// The remote processor's name, set once the environment is parsed.
    static let rprocName = Mutex<String?>(nil)

    /// Writes "ampsoc-remote[<rproc>]: <text>" and a newline to stderr.
    static func note(_ text: String) {
        let prefix = rprocName.withLock { $0 }.map { "ampsoc-remote[\($0)]" } ?? "ampsoc-remote"
        let line = Array("\(prefix): \(text)\n".utf8)
        line.withUnsafeBytes { bytes in
            guard let base = bytes.baseAddress else { return }
            var offset = 0
            while offset < bytes.count {
                let result = write(2, base + offset, bytes.count - offset)
                if result < 0 && errno == EINTR { continue }
                if result <= 0 { return }
                offset += result
            }
        }
    }
}

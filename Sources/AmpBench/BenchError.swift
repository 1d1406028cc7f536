import AmpSystem
import Glibc

/// Why a benchmark measurement could not run. Each case names the transport or file at fault.
public enum BenchError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A system call failed (spawning, shared memory, sockets, /proc).
    case system(SystemError)
    /// The peer executable is not where it was looked for.
    case peerMissing(path: String)
    /// The peer process of `transport` failed: it exited, did not become ready, or stopped answering.
    case peerFailed(transport: String, detail: String)
    /// The peer of `transport` answered something unexpected (wrong length, wrong kind, wrong count).
    case protocolViolation(transport: String, detail: String)
    /// A payload of `size` bytes is outside what `transport`'s messages carry (`minimum...maximum` bytes).
    case payloadSize(transport: String, size: Int, minimum: Int, maximum: Int)
    /// A stop signal (SIGINT, SIGTERM, SIGHUP) arrived before the measurements were complete; the run stopped
    /// at the next step and shut every column it had started down.
    case interrupted(signal: Int32)

    public var description: String {
        switch self {
        case .system(let error):
            return error.description
        case .peerMissing(let path):
            return "benchmark peer executable not found at \(path) (build it with 'swift build', or set AMPSOC_BENCH_PEER)"
        case .peerFailed(let transport, let detail):
            return "\(transport) peer: \(detail)"
        case .protocolViolation(let transport, let detail):
            return "\(transport) peer answered wrongly: \(detail)"
        case .payloadSize(let transport, let size, let minimum, let maximum):
            return "\(transport): a payload of \(size) bytes is outside \(minimum)...\(maximum)"
        case .interrupted(let signal):
            return "interrupted by signal \(signal)\(Self.signalName(signal).map { " (\($0))" } ?? ""); every column was shut down"
        }
    }

    /// The names of the stop signals a run handles.
    private static func signalName(_ signal: Int32) -> String? {
        switch signal {
        case SIGINT: "SIGINT"
        case SIGTERM: "SIGTERM"
        case SIGHUP: "SIGHUP"
        default: nil
        }
    }
}

/// Runs `body`, turning a ``SystemError`` it throws into ``BenchError/system(_:)``.
@inline(__always)
func withSystemErrors<T>(_ body: () throws(SystemError) -> T) throws(BenchError) -> T {
    do { return try body() } catch { throw .system(error) }
}

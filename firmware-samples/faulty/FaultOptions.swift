import AmpRemote
import Glibc

/// Command-line options of ampsoc-fw-faulty: which misbehaviour to show, when, and whether only once.
struct FaultOptions {
    /// The misbehaviours, by their option value.
    enum Crash: String, CaseIterable {
        /// A fatal error reported through the runtime (crash type 2).
        case fatal
        /// An access through the runtime to a device address outside every region (crash type 0).
        case mmufault
        /// `exit(3)` while running.
        case exit
        /// The loop and the heartbeat stop: the process blocks forever.
        case hang
        /// The process dies from SIGSEGV.
        case segv
    }

    /// The misbehaviour; nil runs normally.
    var crash: Crash?
    /// Seconds after the firmware starts running.
    var afterSeconds: Double = 1
    /// With a marker, misbehave only if this path does not exist yet (creating it first).
    var onceMarker: String?
    /// Milliseconds between "tick N" traces.
    var tickMilliseconds: Int64 = 1000

    static let usage = """
        usage: ampsoc-fw-faulty [--crash fatal|mmufault|exit|hang|segv] [--after SECONDS] [--once-marker PATH] \
        [--tick-ms MILLISECONDS]
        """

    /// Parses `arguments` (without argv[0]); on a bad option prints the problem and the usage, and exits 2.
    static func parse(_ arguments: [String]) -> FaultOptions {
        var options = FaultOptions()
        var remaining = arguments[...]
        while let option = remaining.popFirst() {
            switch option {
            case "--crash":
                let kinds = Crash.allCases.map(\.rawValue).joined(separator: "|")
                guard let text = remaining.popFirst() else { fail("--crash needs one of \(kinds)") }
                guard let crash = Crash(rawValue: text) else { fail("--crash \"\(text)\" is not one of \(kinds)") }
                options.crash = crash
            case "--after":
                guard let text = remaining.popFirst(), let value = Double(text), value.isFinite, value >= 0, value <= 86_400 else {
                    fail("--after needs a number of seconds, 0...86400")
                }
                options.afterSeconds = value
            case "--once-marker":
                guard let path = remaining.popFirst(), !path.isEmpty else { fail("--once-marker needs a path") }
                options.onceMarker = path
            case "--tick-ms":
                guard let text = remaining.popFirst(), let value = Int64(text), value >= 1, value <= 86_400_000 else {
                    fail("--tick-ms needs a number of milliseconds, 1...86400000")
                }
                options.tickMilliseconds = value
            case "-h", "--help":
                print(usage)
                exit(0)
            default:
                fail("unknown option \"\(option)\"")
            }
        }
        return options
    }

    /// Whether to misbehave this time: always without a marker; with one, only if creating it succeeds
    /// (`open(O_CREAT | O_EXCL)`), so a restarted firmware finds it and runs normally. Another failure to
    /// create it ends the process with status 2.
    func claimMisbehaviour() -> Bool {
        guard crash != nil else { return false }
        guard let onceMarker else { return true }
        let fd = open(onceMarker, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        if fd >= 0 {
            close(fd)
            return true
        }
        let error = errno
        if error == EEXIST { return false }
        Self.fail("cannot create --once-marker \(onceMarker): \(String(cString: strerror(error)))")
    }

    static func fail(_ message: String) -> Never {
        writeToStandardError("ampsoc-fw-faulty: \(message)\n\(usage)\n")
        exit(RemoteExitCode.usage)
    }

    /// Writes `text` to stderr (`write(2)`; the C `stderr` global is off limits in Swift 6 mode).
    static func writeToStandardError(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }
}

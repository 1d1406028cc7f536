import AmpSampleSupport
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

    static let program = "ampsoc-fw-faulty"
    static let usage = """
        usage: ampsoc-fw-faulty [--crash fatal|mmufault|exit|hang|segv] [--after SECONDS] [--once-marker PATH] \
        \(TickSampleOptions.usage)
        """

    /// Parses `arguments` (without argv[0]); on a bad option prints the problem and the usage, and exits 2.
    static func parse(_ arguments: [String]) -> FaultOptions {
        var options = FaultOptions()
        var commandLine = SampleCommandLine(program: program, usage: usage, arguments: arguments)
        var ticks = TickSampleOptions()
        while let option = commandLine.next() {
            if ticks.accept(option, from: &commandLine) { continue }
            switch option {
            case "--crash":
                options.crash = commandLine.choice(for: option, Crash.self)
            case "--after":
                guard let text = commandLine.value(after: option), let value = Double(text), value.isFinite, value >= 0,
                    value <= 86_400
                else {
                    commandLine.fail("--after needs a number of seconds, 0...86400")
                }
                options.afterSeconds = value
            case "--once-marker":
                guard let path = commandLine.value(after: option), !path.isEmpty else {
                    commandLine.fail("--once-marker needs a path")
                }
                options.onceMarker = path
            default:
                commandLine.unknown(option)
            }
        }
        options.tickMilliseconds = ticks.tickMilliseconds
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

    /// Prints the problem and the usage on stderr and exits with status 2, as a bad option does.
    static func fail(_ message: String) -> Never {
        SampleCommandLine(program: program, usage: usage, arguments: []).fail(message)
    }
}

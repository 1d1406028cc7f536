// Command-line scanning shared by the rpmsg sample firmware: options with values, a usage text, and the
// sample convention for mistakes (a message and the usage on stderr, exit status 2).

import AmpRemote
import Glibc

/// Scans a sample's arguments one option at a time.
///
/// ```swift
/// var commandLine = SampleCommandLine(program: "ampsoc-fw-echo", usage: "usage: ampsoc-fw-echo [--mode MODE]")
/// while let option = commandLine.next() {
///     switch option {
///     case "--mode": mode = commandLine.choice(for: option, EchoMode.self)
///     default: commandLine.unknown(option)
///     }
/// }
/// ```
public struct SampleCommandLine {
    /// The program name used in messages.
    public let program: String
    /// The usage text printed with `--help` and after a mistake.
    public let usage: String
    private var remaining: ArraySlice<String>

    /// Scans `arguments` (without argv[0]; by default this process's).
    public init(program: String, usage: String, arguments: [String] = Array(CommandLine.arguments.dropFirst())) {
        self.program = program
        self.usage = usage
        remaining = arguments[...]
    }

    /// The next option, or nil at the end. `-h` and `--help` print the usage and exit 0.
    public mutating func next() -> String? {
        guard let option = remaining.popFirst() else { return nil }
        if option == "-h" || option == "--help" {
            print(usage)
            exit(0)
        }
        return option
    }

    /// The value after `option` as given, or nil when the arguments end there (for values the other
    /// helpers do not cover; the caller checks it and calls ``fail(_:)`` with its own message).
    public mutating func value(after option: String) -> String? {
        remaining.popFirst()
    }

    /// The value after `option`: a whole number in `range`.
    public mutating func number(for option: String, in range: ClosedRange<Int64>) -> Int64 {
        guard let text = remaining.popFirst(), let value = Int64(text), range.contains(value) else {
            fail("\(option) needs a number, \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }

    /// The value after `option`: a number of milliseconds, 1...86400000.
    public mutating func milliseconds(for option: String) -> Int64 {
        number(for: option, in: 1...86_400_000)
    }

    /// The value after `option`: one of `Choice`'s raw values.
    public mutating func choice<Choice: RawRepresentable & CaseIterable>(for option: String, _: Choice.Type) -> Choice
    where Choice.RawValue == String {
        let names = Choice.allCases.map(\.rawValue).joined(separator: "|")
        guard let text = remaining.popFirst() else { fail("\(option) needs one of \(names)") }
        guard let value = Choice(rawValue: text) else { fail("\(option) \"\(text)\" is not one of \(names)") }
        return value
    }

    /// Fails for an option the sample does not know.
    public func unknown(_ option: String) -> Never {
        fail("unknown option \"\(option)\"")
    }

    /// Prints "<program>: <message>" and the usage on stderr and exits with status 2.
    public func fail(_ message: String) -> Never {
        Self.writeToStandardError("\(program): \(message)\n\(usage)\n")
        exit(RemoteExitCode.usage)
    }

    /// Writes `text` to stderr (`write(2)`; the C `stderr` global is off limits in Swift 6 mode).
    public static func writeToStandardError(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }
}

/// The rpmsg options every rpmsg sample accepts, turned into the device's configuration.
public struct RpmsgSampleOptions {
    /// The usage fragment for these options.
    public static let usage = "[--wait-trace-ms MILLISECONDS] [--send-timeout-ms MILLISECONDS]"

    /// The device settings chosen so far.
    public var configuration = RpmsgRemoteConfiguration()

    public init() {}

    /// Consumes `option` if it is one of these (and its value); returns whether it was.
    public mutating func accept(_ option: String, from commandLine: inout SampleCommandLine) -> Bool {
        switch option {
        case "--wait-trace-ms":
            configuration.driverWaitTraceInterval = .milliseconds(commandLine.milliseconds(for: option))
        case "--send-timeout-ms":
            configuration.sendTimeout = .milliseconds(commandLine.milliseconds(for: option))
        default:
            return false
        }
        return true
    }
}

/// Exit statuses of `ampsoc`, documented in `ampsoc --help`. Scripts and CI jobs rely on them.
public enum ExitCode: Int32, Sendable, CaseIterable {
    /// The command did what was asked.
    case success = 0
    /// The command failed: bad input data (firmware, profile), a failed operation, a runtime error.
    case failure = 1
    /// The command line itself is wrong: unknown command or option, missing or malformed argument.
    case usage = 2

    /// One-line meaning, for help texts.
    public var meaning: String {
        switch self {
        case .success: "success"
        case .failure: "the operation failed (bad firmware or profile, runtime error); a line starting \"error:\" says why"
        case .usage: "the command line is wrong (unknown command or option, bad or missing argument)"
        }
    }
}

/// A failure that ends a command with a message on stderr and a non-zero exit status.
public struct CommandError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var exitCode: ExitCode
    /// For usage errors: the command whose `--help` the user should read.
    public var helpCommand: String?

    public init(_ message: String, exitCode: ExitCode = .failure, helpCommand: String? = nil) {
        self.message = message
        self.exitCode = exitCode
        self.helpCommand = helpCommand
    }

    /// A usage error about the command line of `command` (its full path, e.g. "ampsoc inspect").
    public static func usage(_ message: String, command: String) -> CommandError {
        CommandError(message, exitCode: .usage, helpCommand: command)
    }

    public var description: String { message }
}

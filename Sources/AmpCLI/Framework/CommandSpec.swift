/// An option of a command: a flag (`--json`) or an option taking a value (`--duration 5`, `--duration=5`).
public struct OptionSpec: Sendable {
    /// Long name without dashes, e.g. "json".
    public var name: String
    /// Optional one-letter short form, e.g. "n" for `-n`.
    public var short: Character?
    /// Placeholder for the value in help (e.g. "SECONDS"); nil for a flag.
    public var valueName: String?
    public var help: String

    public static func flag(_ name: String, short: Character? = nil, help: String) -> OptionSpec {
        OptionSpec(name: name, short: short, valueName: nil, help: help)
    }

    public static func value(_ name: String, _ valueName: String, short: Character? = nil, help: String) -> OptionSpec {
        OptionSpec(name: name, short: short, valueName: valueName, help: help)
    }

    var isFlag: Bool { valueName == nil }
}

/// A positional argument of a command.
public struct PositionalSpec: Sendable {
    public var name: String
    public var help: String
    public var isOptional: Bool
    /// When non-empty, the only accepted values.
    public var choices: [String]

    public init(_ name: String, help: String, optional: Bool = false, choices: [String] = []) {
        self.name = name
        self.help = help
        self.isOptional = optional
        self.choices = choices
    }
}

/// What a command receives when it runs.
public struct Invocation: Sendable {
    /// The parsed arguments.
    public var arguments: ParsedArguments
    /// Where to write.
    public var console: Console
}

/// A command (or a group of subcommands) of the command line. A spec with subcommands dispatches to them;
/// a spec with a `run` action executes it.
public struct CommandSpec: Sendable {
    public var name: String
    /// One line for command lists.
    public var summary: String
    /// Paragraphs shown by `--help` after the usage line.
    public var discussion: String
    public var positionals: [PositionalSpec]
    public var options: [OptionSpec]
    public var subcommands: [CommandSpec]
    /// Exit statuses this command documents in its help, beyond the global ones.
    public var exitCodes: [ExitCode]
    public var run: (@Sendable (Invocation) throws(CommandError) -> ExitCode)?

    public init(
        name: String, summary: String, discussion: String = "",
        positionals: [PositionalSpec] = [], options: [OptionSpec] = [],
        subcommands: [CommandSpec] = [], exitCodes: [ExitCode] = [.success, .failure, .usage],
        run: (@Sendable (Invocation) throws(CommandError) -> ExitCode)? = nil
    ) {
        self.name = name
        self.summary = summary
        self.discussion = discussion
        self.positionals = positionals
        self.options = options
        self.subcommands = subcommands
        self.exitCodes = exitCodes
        self.run = run
    }

    func option(named name: String) -> OptionSpec? { options.first { $0.name == name } }
    func option(short: Character) -> OptionSpec? { options.first { $0.short == short } }
    func subcommand(named name: String) -> CommandSpec? { subcommands.first { $0.name == name } }
}

import Testing
@testable import AmpCLI

@Suite struct ArgumentParserTests {
    static let leaf = CommandSpec(
        name: "leaf", summary: "A leaf.",
        positionals: [
            PositionalSpec("NAME", help: "a name"),
            PositionalSpec("ACTION", help: "what", optional: true, choices: ["start", "stop"]),
        ],
        options: [
            .flag("json", help: "json"),
            .value("timeout", "SECONDS", short: "t", help: "timeout"),
        ],
        run: { _ in .success })
    static let root = CommandSpec(
        name: "tool", summary: "Root.",
        subcommands: [CommandSpec(name: "group", summary: "Group.", subcommands: [leaf])])

    func parsed(_ arguments: [String]) throws -> ParsedArguments {
        guard case .run(_, let parsed) = try ArgumentParser.parse(arguments, root: Self.root) else {
            Issue.record("expected a runnable command for \(arguments)")
            throw CommandError("not runnable")
        }
        return parsed
    }

    func usageError(_ arguments: [String]) -> CommandError? {
        do {
            _ = try ArgumentParser.parse(arguments, root: Self.root)
            return nil
        } catch {
            return error
        }
    }

    @Test func optionsAndPositionalsInAnyOrder() throws {
        let parsed = try parsed(["group", "leaf", "--timeout", "2.5", "ipu", "--json", "stop"])
        #expect(parsed.commandPath == "tool group leaf")
        #expect(parsed.positional("NAME") == "ipu")
        #expect(parsed.positional("ACTION") == "stop")
        #expect(parsed.has("json"))
        #expect(try parsed.seconds("timeout") == 2.5)
    }

    @Test func inlineShortAndRepeatedValues() throws {
        let parsed = try parsed(["group", "leaf", "x", "--timeout=1", "-t", "3"])
        #expect(parsed.options["timeout"] == ["1", "3"])
        #expect(parsed.value("timeout") == "3")
        #expect(!parsed.has("json"))
        #expect(parsed.positional("ACTION") == nil)
    }

    @Test func doubleDashEndsOptions() throws {
        let parsed = try parsed(["group", "leaf", "--", "--json"])
        #expect(parsed.positional("NAME") == "--json")
        #expect(!parsed.has("json"))
    }

    @Test func helpAtEveryLevel() throws {
        guard case .help(let spec, let path) = try ArgumentParser.parse(["group", "leaf", "x", "--help"], root: Self.root) else {
            Issue.record("expected help"); return
        }
        #expect(spec.name == "leaf")
        #expect(path == ["tool", "group", "leaf"])
        guard case .help(let groupSpec, _) = try ArgumentParser.parse(["group"], root: Self.root) else {
            Issue.record("expected help for a bare group"); return
        }
        #expect(groupSpec.name == "group")
        guard case .help(let rootSpec, _) = try ArgumentParser.parse(["-h"], root: Self.root) else {
            Issue.record("expected root help"); return
        }
        #expect(rootSpec.name == "tool")
    }

    @Test func errorsNameTheBadArgument() {
        let unknownCommand = usageError(["gruop"])
        #expect(unknownCommand?.message == "unknown command 'gruop' for 'tool' (did you mean 'group'?)")
        #expect(unknownCommand?.exitCode == .usage)
        #expect(unknownCommand?.helpCommand == "tool")

        #expect(usageError(["group", "leaf", "x", "--jsno"])?.message
            == "unknown option '--jsno' for 'tool group leaf' (did you mean '--json'?)")
        #expect(usageError(["group", "leaf", "x", "-q"])?.message == "unknown option '-q' for 'tool group leaf'")
        #expect(usageError(["group", "leaf"])?.message == "missing argument NAME")
        #expect(usageError(["group", "leaf", "x", "go"])?.message
            == "invalid ACTION 'go': expected one of start, stop")
        #expect(usageError(["group", "leaf", "x", "stop", "extra"])?.message == "unexpected argument 'extra'")
        #expect(usageError(["group", "leaf", "x", "--timeout"])?.message == "option '--timeout' needs a value SECONDS")
        #expect(usageError(["group", "leaf", "x", "--json=1"])?.message == "option '--json' takes no value")
    }

    @Test func typedValuesNameTheOption() throws {
        let parsed = try parsed(["group", "leaf", "x", "--timeout", "soon"])
        #expect(throws: CommandError.self) { try parsed.seconds("timeout") }
        do {
            _ = try parsed.seconds("timeout")
        } catch {
            #expect(error.message == "invalid value 'soon' for --timeout: expected a non-negative number of seconds")
            #expect(error.exitCode == .usage)
        }
        #expect(ParsedArguments.parseInteger("0x1F") == 31)
        #expect(ParsedArguments.parseInteger("42") == 42)
        #expect(ParsedArguments.parseInteger("-1") == nil)
        #expect(ParsedArguments.parseInteger("0xZZ") == nil)
    }

    @Test func helpTextListsEverything() {
        let text = HelpFormatter.help(for: Self.leaf, path: ["tool", "group", "leaf"])
        #expect(text.hasPrefix("Usage: tool group leaf [OPTIONS] NAME [ACTION]\n"))
        #expect(text.contains("--timeout SECONDS"))
        #expect(text.contains("-t, --timeout"))
        #expect(text.contains("(one of: start, stop)"))
        #expect(text.contains("-h, --help"))
        #expect(text.contains("Exit status:"))
        #expect(text.contains("  2 "))
        let rootText = HelpFormatter.help(for: Self.root, path: ["tool"])
        #expect(rootText.contains("Commands:\n  group"))
    }

    @Test func editDistanceSuggestionsStayClose() {
        #expect(ArgumentParser.editDistance("kitten", "sitting") == 3)
        #expect(ArgumentParser.closest(to: "inspct", in: ["inspect", "run"]) == "inspect")
        #expect(ArgumentParser.closest(to: "zzzzzz", in: ["inspect", "run"]) == nil)
    }
}

/// Parses a command line against a tree of `CommandSpec`s.
///
/// Grammar: `ampsoc [global options] COMMAND [SUBCOMMAND...] [options and positionals in any order] [-- positionals]`.
/// Options are `--name`, `--name VALUE`, `--name=VALUE`, `-x`, `-x VALUE`; `--` ends options. `-h`/`--help`
/// is accepted everywhere. Every error names the offending argument and the command whose help explains it.
public enum ArgumentParser {
    /// The result of parsing: either help was requested for a command, or a command is ready to run.
    public enum Outcome: Sendable {
        case help(CommandSpec, path: [String])
        case run(CommandSpec, ParsedArguments)
    }

    public static func parse(_ arguments: [String], root: CommandSpec) throws(CommandError) -> Outcome {
        var spec = root
        var path = [root.name]
        var index = 0

        // Descend into subcommands. Help flags seen before the command is chosen show the current level.
        while !spec.subcommands.isEmpty {
            guard index < arguments.count else { return .help(spec, path: path) }
            let word = arguments[index]
            if word == "-h" || word == "--help" { return .help(spec, path: path) }
            if word.hasPrefix("-") {
                throw .usage("unknown option '\(word)' for '\(path.joined(separator: " "))'", command: path.joined(separator: " "))
            }
            guard let next = spec.subcommand(named: word) else {
                let names = spec.subcommands.map(\.name)
                var message = "unknown command '\(word)' for '\(path.joined(separator: " "))'"
                if let guess = closest(to: word, in: names) { message += " (did you mean '\(guess)'?)" }
                throw .usage(message, command: path.joined(separator: " "))
            }
            spec = next
            path.append(word)
            index += 1
        }

        let commandPath = path.joined(separator: " ")
        var positionalValues = [String]()
        var options = [String: [String]]()
        var optionsEnded = false
        while index < arguments.count {
            let word = arguments[index]
            index += 1
            if optionsEnded || word == "-" || !word.hasPrefix("-") {
                positionalValues.append(word)
                continue
            }
            if word == "--" { optionsEnded = true; continue }
            if word == "-h" || word == "--help" { return .help(spec, path: path) }

            let option: OptionSpec
            var inlineValue: String?
            if word.hasPrefix("--") {
                var name = String(word.dropFirst(2))
                if let equals = name.firstIndex(of: "=") {
                    inlineValue = String(name[name.index(after: equals)...])
                    name = String(name[..<equals])
                }
                guard let found = spec.option(named: name) else {
                    var message = "unknown option '--\(name)' for '\(commandPath)'"
                    if let guess = closest(to: name, in: spec.options.map(\.name)) { message += " (did you mean '--\(guess)'?)" }
                    throw .usage(message, command: commandPath)
                }
                option = found
            } else {
                let letters = Array(word.dropFirst())
                guard letters.count == 1, let found = spec.option(short: letters[0]) else {
                    throw .usage("unknown option '\(word)' for '\(commandPath)'", command: commandPath)
                }
                option = found
            }

            if option.isFlag {
                if inlineValue != nil {
                    throw .usage("option '--\(option.name)' takes no value", command: commandPath)
                }
                options[option.name, default: []].append("")
            } else if let inlineValue {
                options[option.name, default: []].append(inlineValue)
            } else {
                guard index < arguments.count else {
                    throw .usage("option '--\(option.name)' needs a value \(option.valueName ?? "")", command: commandPath)
                }
                options[option.name, default: []].append(arguments[index])
                index += 1
            }
        }

        var positionals = [String: String]()
        for (position, positional) in spec.positionals.enumerated() {
            guard position < positionalValues.count else {
                if positional.isOptional { continue }
                throw .usage("missing argument \(positional.name)", command: commandPath)
            }
            let value = positionalValues[position]
            if !positional.choices.isEmpty, !positional.choices.contains(value) {
                throw .usage(
                    "invalid \(positional.name) '\(value)': expected one of \(positional.choices.joined(separator: ", "))",
                    command: commandPath)
            }
            positionals[positional.name] = value
        }
        if positionalValues.count > spec.positionals.count {
            throw .usage("unexpected argument '\(positionalValues[spec.positionals.count])'", command: commandPath)
        }
        guard spec.run != nil else { return .help(spec, path: path) }
        return .run(spec, ParsedArguments(commandPath: commandPath, positionals: positionals, options: options))
    }

    /// The candidate closest to `word` by edit distance, if it is close enough to be a likely typo.
    static func closest(to word: String, in candidates: [String]) -> String? {
        let scored = candidates.map { ($0, editDistance(word, $0)) }.filter { $0.1 <= max(2, word.count / 3) }
        return scored.min { $0.1 < $1.1 }?.0
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + [Int](repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}

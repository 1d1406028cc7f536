/// Renders `--help` text for a command: usage line, discussion, subcommands, arguments, options, exit codes.
public enum HelpFormatter {
    public static func help(for spec: CommandSpec, path: [String]) -> String {
        let command = path.joined(separator: " ")
        var lines = [String]()
        lines.append("Usage: \(usage(for: spec, command: command))")
        lines.append("")
        lines.append(spec.summary)
        if !spec.discussion.isEmpty {
            lines.append("")
            lines.append(spec.discussion)
        }
        if !spec.subcommands.isEmpty {
            lines.append("")
            lines.append("Commands:")
            lines += table(spec.subcommands.map { ($0.name, $0.summary) })
            lines.append("")
            lines.append("Run '\(command) COMMAND --help' for a command's arguments and options.")
        }
        if !spec.positionals.isEmpty {
            lines.append("")
            lines.append("Arguments:")
            lines += table(spec.positionals.map { positional in
                var text = positional.help
                if !positional.choices.isEmpty { text += " (one of: \(positional.choices.joined(separator: ", ")))" }
                return (positional.name, text)
            })
        }
        lines.append("")
        lines.append("Options:")
        lines += table(spec.options.map { (optionLabel($0), $0.help) } + [("-h, --help", "Show this help and exit.")])
        if spec.subcommands.isEmpty || path.count == 1 {
            lines.append("")
            lines.append("Exit status:")
            lines += table(spec.exitCodes.map { (String($0.rawValue), $0.meaning) })
        }
        return lines.joined(separator: "\n")
    }

    static func usage(for spec: CommandSpec, command: String) -> String {
        if !spec.subcommands.isEmpty { return "\(command) COMMAND [OPTIONS]" }
        var parts = [command]
        if !spec.options.isEmpty { parts.append("[OPTIONS]") }
        for positional in spec.positionals {
            parts.append(positional.isOptional ? "[\(positional.name)]" : positional.name)
        }
        return parts.joined(separator: " ")
    }

    private static func optionLabel(_ option: OptionSpec) -> String {
        var label = option.short.map { "-\($0), " } ?? "    "
        label += "--\(option.name)"
        if let valueName = option.valueName { label += " \(valueName)" }
        return label
    }

    private static func table(_ rows: [(String, String)]) -> [String] {
        let width = min(28, (rows.map(\.0.count).max() ?? 0) + 2)
        return rows.map { name, text in
            let padded = name.count + 2 > width ? name + "\n  " + String(repeating: " ", count: width) : name + String(repeating: " ", count: width - name.count)
            return "  " + padded + text
        }
    }
}

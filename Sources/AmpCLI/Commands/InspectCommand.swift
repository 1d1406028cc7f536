import AmpJSON
import AmpSystem
import AmpWire

/// `ampsoc inspect FILE [--json]`: summarise a firmware ELF and its `.resource_table`.
enum InspectCommand {
    static var spec: CommandSpec {
        CommandSpec(
            name: "inspect",
            summary: "Summarise a firmware ELF: header, segments and its .resource_table entry by entry.",
            discussion: """
                Reads FILE (ELF32 or ELF64, either byte order), lists its program headers and decodes the \
                remoteproc resource table the way Linux does before booting a remote core, with warnings for \
                anything Linux would refuse or skip. A file without a table (no section, an empty or NOBITS \
                section) is reported with "resourceTable": null and a warning, and exits 0. A malformed ELF or \
                table exits 1 with one line on stderr naming the field and its file offset.
                """,
            positionals: [PositionalSpec("FILE", help: "Firmware ELF image to inspect.")],
            options: [.flag("json", help: "Print one JSON object (the format is in docs/cli.md) instead of text.")],
            run: run)
    }

    static func run(_ invocation: Invocation) throws(CommandError) -> ExitCode {
        let path = try invocation.arguments.required("FILE")
        let report = try FirmwareReport.load(path: path)
        if invocation.arguments.has("json") {
            invocation.console.out(report.json.encoded(pretty: true))
        } else {
            invocation.console.out(report.text)
        }
        return .success
    }
}

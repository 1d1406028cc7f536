// A small line-oriented shell as a serial console runs it, kept free of I/O so it can be tested byte for byte:
// bytes typed on the terminal go in, the bytes to show on the terminal come out.
//
// Line editing (the terminal is raw: the shell echoes and edits, the terminal does nothing):
//   printable ASCII and UTF-8 bytes   appended to the line and echoed; past `maximumLineLength` bytes: BEL (0x07)
//   DEL (0x7f) or BS (0x08)           erase the last character (all bytes of a UTF-8 sequence): "\b \b";
//                                     on an empty line nothing happens
//   CR (0x0d) or LF (0x0a)            end the line: "\r\n", the command's output, the prompt; CR LF counts once
//   ETX (0x03, Ctrl-C)                drop the line: "^C\r\n" and the prompt
//   other control bytes               ignored
// Output lines end with "\r\n"; the prompt is "ampsoc> ".
//
// Commands (the first word; the rest of the line is the argument):
//   help      the commands           version   the firmware's version
//   uptime    time since boot        echo TEXT TEXT as typed (spaces kept)
//   stats     the firmware's counters, then "console: lines N, bytes typed N" (this line included)
// An empty line just prompts again; anything else prints `error: unknown command "NAME" (try "help")`.

/// What the commands report, supplied by the firmware.
public struct ConsoleContext {
    /// The text of `version`, e.g. "ampsoc-fw-console 1.0 on ipu".
    public var version: String
    /// Time since boot, for `uptime`.
    public var uptime: () -> Duration
    /// Lines of `stats` (the firmware's counters).
    public var stats: () -> [String]

    public init(version: String, uptime: @escaping () -> Duration, stats: @escaping () -> [String]) {
        self.version = version
        self.uptime = uptime
        self.stats = stats
    }
}

/// The line editor: turns typed bytes into echo output and complete lines.
public struct ConsoleLineEditor {
    /// What one typed byte produced.
    public enum Event: Equatable {
        /// Bytes to show (echo, erase sequence, bell).
        case output([UInt8])
        /// A line was entered (CR or LF); its text, without the terminator.
        case line(String)
        /// The line was dropped (Ctrl-C).
        case interrupted
    }

    public static let backspace: UInt8 = 0x08
    public static let delete: UInt8 = 0x7f
    public static let carriageReturn: UInt8 = 0x0d
    public static let lineFeed: UInt8 = 0x0a
    public static let interrupt: UInt8 = 0x03
    public static let bell: UInt8 = 0x07
    /// What erasing one character shows: back, blank it, back again.
    public static let eraseSequence: [UInt8] = [0x08, 0x20, 0x08]

    /// Longest line kept, in bytes.
    public let maximumLineLength: Int
    /// The line typed so far.
    public private(set) var line: [UInt8] = []
    private var afterCarriageReturn = false

    public init(maximumLineLength: Int = 256) {
        self.maximumLineLength = max(1, maximumLineLength)
    }

    /// Handles one typed byte; nil when it has no visible effect.
    public mutating func feed(_ byte: UInt8) -> Event? {
        let followsCR = afterCarriageReturn
        afterCarriageReturn = byte == Self.carriageReturn
        switch byte {
        case Self.carriageReturn, Self.lineFeed:
            if byte == Self.lineFeed && followsCR { return nil }  // the LF of a CR LF pair
            let text = String(decoding: line, as: UTF8.self)
            line = []
            return .line(text)
        case Self.delete, Self.backspace:
            guard !line.isEmpty else { return nil }
            // Drop UTF-8 continuation bytes (10xxxxxx) together with their lead byte.
            while let last = line.popLast(), last & 0xc0 == 0x80, !line.isEmpty {}
            return .output(Self.eraseSequence)
        case Self.interrupt:
            line = []
            return .interrupted
        case 0x20...0x7e, 0x80...0xff:
            guard line.count < maximumLineLength else { return .output([Self.bell]) }
            line.append(byte)
            return .output([byte])
        default:
            return nil
        }
    }
}

/// The command interpreter: one line in, output lines out.
public struct ConsoleCommandInterpreter {
    /// Command names with their help text, in the order `help` lists them.
    public static let commands: [(name: String, summary: String)] = [
        ("help", "list the commands"),
        ("version", "show the firmware version"),
        ("uptime", "show the time since boot"),
        ("echo TEXT", "print TEXT"),
        ("stats", "show the rpmsg counters"),
    ]

    public let context: ConsoleContext

    public init(context: ConsoleContext) {
        self.context = context
    }

    /// The output of `line`, one string per output line (no terminators). `sessionStats` are lines `stats`
    /// prints after the context's.
    public func execute(_ line: String, sessionStats: [String] = []) -> [String] {
        let trimmed = line.drop { $0 == " " || $0 == "\t" }
        let name = trimmed.prefix { $0 != " " && $0 != "\t" }
        var argument = trimmed.dropFirst(name.count)
        if argument.first == " " || argument.first == "\t" { argument = argument.dropFirst() }
        switch name {
        case "":
            return []
        case "help":
            let width = Self.commands.map(\.name.count).max() ?? 0
            return ["commands:"] + Self.commands.map { command in
                "  " + command.name + String(repeating: " ", count: width - command.name.count) + "  " + command.summary
            }
        case "version":
            return [context.version]
        case "uptime":
            return ["up " + Self.format(context.uptime())]
        case "echo":
            return [String(argument)]
        case "stats":
            return context.stats() + sessionStats
        default:
            return ["error: unknown command \"\(name)\" (try \"help\")"]
        }
    }

    /// "S.mmm s" with milliseconds, e.g. "65.004 s".
    public static func format(_ duration: Duration) -> String {
        let parts = duration.components
        let milliseconds = max(0, parts.seconds) * 1000 + max(0, parts.attoseconds) / 1_000_000_000_000_000
        let fraction = String(milliseconds % 1000)
        return "\(milliseconds / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction) s"
    }
}

/// The whole console: line editor, interpreter, prompt; bytes in, bytes out.
///
/// ```swift
/// var shell = ConsoleShell(context: context)
/// send(shell.greeting)                 // banner and prompt
/// send(shell.feed(typedBytes))         // echo, and the output of any command completed
/// ```
public struct ConsoleShell {
    /// The prompt shown before each line.
    public static let prompt = "ampsoc> "

    public private(set) var editor: ConsoleLineEditor
    public let interpreter: ConsoleCommandInterpreter
    /// Lines entered so far (empty ones included).
    public private(set) var linesEntered = 0
    /// Bytes fed so far.
    public private(set) var bytesTyped = 0

    public init(context: ConsoleContext, maximumLineLength: Int = 256) {
        editor = ConsoleLineEditor(maximumLineLength: maximumLineLength)
        interpreter = ConsoleCommandInterpreter(context: context)
    }

    /// The banner and the first prompt.
    public var greeting: [UInt8] {
        Array("\r\n\(interpreter.context.version)\r\ntype \"help\" for the commands\r\n\(Self.prompt)".utf8)
    }

    /// Handles typed bytes; returns what to show on the terminal.
    public mutating func feed(_ bytes: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        for byte in bytes {
            bytesTyped += 1
            switch editor.feed(byte) {
            case nil:
                break
            case .output(let shown):
                output += shown
            case .interrupted:
                output += Array("^C\r\n\(Self.prompt)".utf8)
            case .line(let line):
                linesEntered += 1
                output += [ConsoleLineEditor.carriageReturn, ConsoleLineEditor.lineFeed]
                let session = "console: lines \(linesEntered), bytes typed \(bytesTyped)"
                for text in interpreter.execute(line, sessionStats: [session]) { output += Array((text + "\r\n").utf8) }
                output += Array(Self.prompt.utf8)
            }
        }
        return output
    }
}

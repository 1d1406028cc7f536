import AmpSampleSupport
import Testing

@Suite("ConsoleShellTests")
struct ConsoleShellTests {
    static var context: ConsoleContext {
        ConsoleContext(
            version: "ampsoc-fw-console 1.0 on ipu",
            uptime: { .seconds(65) + .milliseconds(4) },
            stats: { ["rpmsg: received 3, sent 9, dropped 0"] })
    }

    func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    @Test func greetingIsABannerAndThePrompt() {
        let shell = ConsoleShell(context: Self.context)
        #expect(text(shell.greeting) == "\r\nampsoc-fw-console 1.0 on ipu\r\ntype \"help\" for the commands\r\nampsoc> ")
        #expect(ConsoleShell.prompt == "ampsoc> ")
    }

    @Test func typedCharactersAreEchoedOneByOne() {
        var shell = ConsoleShell(context: Self.context)
        #expect(shell.feed(Array("version".utf8)) == Array("version".utf8))
        #expect(shell.editor.line == Array("version".utf8))
        #expect(text(shell.feed([0x0d])) == "\r\nampsoc-fw-console 1.0 on ipu\r\nampsoc> ")
        #expect(shell.editor.line.isEmpty)
        #expect(shell.linesEntered == 1)
        #expect(shell.bytesTyped == 8)
    }

    @Test func crLfCountsAsOneEnterAndLfAloneWorks() {
        var shell = ConsoleShell(context: Self.context)
        #expect(text(shell.feed(Array("echo a\r\n".utf8))) == "echo a\r\na\r\nampsoc> ")
        #expect(text(shell.feed(Array("echo b\n".utf8))) == "echo b\r\nb\r\nampsoc> ")
        #expect(text(shell.feed([0x0d, 0x0d])) == "\r\nampsoc> \r\nampsoc> ")  // two empty lines
        #expect(shell.linesEntered == 4)
    }

    @Test func backspaceAndDeleteEraseTheLastCharacter() {
        var shell = ConsoleShell(context: Self.context)
        let erase: [UInt8] = [0x08, 0x20, 0x08]
        #expect(shell.feed(Array("echx".utf8) + [0x7f]) == Array("echx".utf8) + erase)
        #expect(shell.feed(Array("o hi!".utf8) + [0x08]) == Array("o hi!".utf8) + erase)
        #expect(text(shell.feed([0x0d])) == "\r\nhi\r\nampsoc> ")
        // Nothing to erase: nothing happens.
        #expect(shell.feed([0x7f, 0x08]) == [])
        // A UTF-8 character is erased whole.
        #expect(shell.feed(Array("é".utf8) + [0x7f]) == [0xc3, 0xa9] + erase)
        #expect(shell.editor.line.isEmpty)
    }

    @Test func commandsAnswerExactly() {
        var shell = ConsoleShell(context: Self.context)
        #expect(text(shell.feed(Array("help\r".utf8))) == """
            help\r
            commands:\r
              help       list the commands\r
              version    show the firmware version\r
              uptime     show the time since boot\r
              echo TEXT  print TEXT\r
              stats      show the rpmsg counters\r
            ampsoc> 
            """)
        #expect(text(shell.feed(Array("uptime\r".utf8))) == "uptime\r\nup 65.004 s\r\nampsoc> ")
        #expect(text(shell.feed(Array("  echo   two  spaces \r".utf8))) == "  echo   two  spaces \r\n  two  spaces \r\nampsoc> ")
        #expect(text(shell.feed(Array("echo\r".utf8))) == "echo\r\n\r\nampsoc> ")
        #expect(text(shell.feed(Array("stats\r".utf8)))
            == "stats\r\nrpmsg: received 3, sent 9, dropped 0\r\nconsole: lines 5, bytes typed 45\r\nampsoc> ")
    }

    @Test func unknownCommandGivesAClearError() {
        var shell = ConsoleShell(context: Self.context)
        #expect(text(shell.feed(Array("reboot now\r".utf8)))
            == "reboot now\r\nerror: unknown command \"reboot\" (try \"help\")\r\nampsoc> ")
        #expect(text(shell.feed(Array("Help\r".utf8))) == "Help\r\nerror: unknown command \"Help\" (try \"help\")\r\nampsoc> ")
    }

    @Test func ctrlCDropsTheLineAndOtherControlBytesAreIgnored() {
        var shell = ConsoleShell(context: Self.context)
        #expect(text(shell.feed(Array("half".utf8) + [0x03])) == "half^C\r\nampsoc> ")
        #expect(shell.editor.line.isEmpty)
        #expect(shell.feed([0x1b, 0x01, 0x09, 0x00]) == [])
        #expect(shell.linesEntered == 0)
    }

    @Test func overlongLinesRingTheBell() {
        var shell = ConsoleShell(context: Self.context, maximumLineLength: 4)
        #expect(shell.feed(Array("echo!".utf8)) == Array("echo".utf8) + [0x07])
        #expect(text(shell.feed([0x0d])) == "\r\n\r\nampsoc> ")
    }

    @Test func uptimeFormatting() {
        #expect(ConsoleCommandInterpreter.format(.zero) == "0.000 s")
        #expect(ConsoleCommandInterpreter.format(.milliseconds(7)) == "0.007 s")
        #expect(ConsoleCommandInterpreter.format(.seconds(3600) + .milliseconds(120)) == "3600.120 s")
    }

    @Test func lineEditorEvents() {
        var editor = ConsoleLineEditor()
        #expect(editor.feed(0x61) == .output([0x61]))
        #expect(editor.feed(0x0a) == .line("a"))
        #expect(editor.feed(0x0d) == .line(""))
        #expect(editor.feed(0x0a) == nil)
        #expect(editor.feed(0x03) == .interrupted)
    }
}

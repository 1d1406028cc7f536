// ampsoc-fw-basic: the smallest useful remote-core firmware. It traces a boot banner naming its remote
// processor, traces "tick N" every second (or every --tick-ms milliseconds), traces each doorbell
// notification it receives, and stops when the host asks.
//
// Usage: ampsoc-fw-basic [--tick-ms MILLISECONDS]
// Started by the ampsoc host with the AMPSOC_* environment (docs/shared-memory.md); its resource table comes
// from the AmpSampleTable target.

import AmpRemote
import AmpSampleTable
import Glibc

/// Command-line options of the basic sample.
struct BasicOptions {
    var tickMilliseconds: Int64 = 1000

    static let usage = "usage: ampsoc-fw-basic [--tick-ms MILLISECONDS]"

    /// Parses `arguments` (without argv[0]); on a bad option prints the problem and the usage, and exits 2.
    static func parse(_ arguments: [String]) -> BasicOptions {
        var options = BasicOptions()
        var remaining = arguments[...]
        while let option = remaining.popFirst() {
            switch option {
            case "--tick-ms":
                guard let text = remaining.popFirst(), let value = Int64(text), value >= 1, value <= 86_400_000 else {
                    fail("--tick-ms needs a number of milliseconds, 1...86400000")
                }
                options.tickMilliseconds = value
            case "-h", "--help":
                print(usage)
                exit(0)
            default:
                fail("unknown option \"\(option)\"")
            }
        }
        return options
    }

    static func fail(_ message: String) -> Never {
        writeToStandardError("ampsoc-fw-basic: \(message)\n\(usage)\n")
        exit(RemoteExitCode.usage)
    }

    /// Writes `text` to stderr (`write(2)`; the C `stderr` global is off limits in Swift 6 mode).
    static func writeToStandardError(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }
}

let options = BasicOptions.parse(Array(CommandLine.arguments.dropFirst()))

RemoteCore.run { core in
    core.trace("ampsoc-fw-basic: boot on \(core.rprocName) (generation \(core.environment.generation))")
    var ticks = 0
    core.loop.every(.milliseconds(options.tickMilliseconds)) {
        ticks += 1
        core.trace("tick \(ticks)")
    }
    core.loop.onAnyNotify { bits in
        core.trace("notify: bits 0x\(String(bits, radix: 16))")
    }
    core.loop.onStop {
        core.trace("ampsoc-fw-basic: stopping after \(ticks) ticks")
    }
}

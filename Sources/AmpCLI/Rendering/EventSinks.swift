import AmpRemoteproc
import AmpSystem

/// Writes host events as one JSON object per line (`--events json`).
final class JSONLinesEventSink: HostEventSink {
    let console: Console
    init(console: Console) { self.console = console }
    func emit(_ event: HostEvent) { console.out(event.json.encoded()) }
}

/// Writes host events as readable log lines with the time since start: `[   1.234] ipu: state running`.
final class TextLogEventSink: HostEventSink {
    let console: Console
    private let start = MonotonicClock.nanoseconds()
    init(console: Console) { self.console = console }

    func emit(_ event: HostEvent) {
        let elapsed = Double(MonotonicClock.nanoseconds() - start) / 1e9
        let stamp = String(Int(elapsed)) + "." + String(Int(elapsed * 1000) % 1000).leftPadded(to: 3, with: "0")
        let line = "[\(stamp.leftPadded(to: 9, with: " "))] \(event.text)"
        switch event {
        case .error: console.err(line)
        default: console.out(line)
        }
    }
}

extension String {
    func leftPadded(to width: Int, with pad: Character) -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}

// The option of the samples that trace "tick N" periodically (ampsoc-fw-basic, ampsoc-fw-faulty): how
// often they tick, with the sample convention for a bad value (message and usage on stderr, exit status 2).

/// The `--tick-ms` option, parsed through a ``SampleCommandLine``.
///
/// ```swift
/// var ticks = TickSampleOptions()
/// while let option = commandLine.next() {
///     if ticks.accept(option, from: &commandLine) { continue }
///     ...
/// }
/// core.loop.every(.milliseconds(ticks.tickMilliseconds)) { ... }
/// ```
public struct TickSampleOptions {
    /// The usage fragment for this option.
    public static let usage = "[--tick-ms MILLISECONDS]"
    /// The largest interval accepted: one day.
    public static let maximumMilliseconds: Int64 = 86_400_000

    /// Milliseconds between two ticks (1000 unless given).
    public var tickMilliseconds: Int64 = 1000

    public init() {}

    /// Consumes `option` if it is `--tick-ms` (and its value: whole milliseconds, 1...86400000); returns
    /// whether it was. A bad value fails with "--tick-ms needs a number of milliseconds, 1...86400000".
    public mutating func accept(_ option: String, from commandLine: inout SampleCommandLine) -> Bool {
        guard option == "--tick-ms" else { return false }
        guard let text = commandLine.value(after: option), let value = Int64(text),
            (1...Self.maximumMilliseconds).contains(value)
        else {
            commandLine.fail("--tick-ms needs a number of milliseconds, 1...\(Self.maximumMilliseconds)")
        }
        tickMilliseconds = value
        return true
    }
}

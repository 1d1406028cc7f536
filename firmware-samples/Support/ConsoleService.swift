// The console's rpmsg side: the endpoint "rpmsg-tty" (which the host's rpmsg-tty driver turns into a
// pseudo-terminal), fed into a ConsoleShell, with the shell's output sent back in messages of at most the MTU.

import AmpRemote

/// A ConsoleShell on an announced "rpmsg-tty" endpoint (ampsoc-fw-console, and the IPU's ampsoc-fw-services).
public final class ConsoleService {
    /// The channel name the host's tty driver binds to.
    public static let channelName = "rpmsg-tty"

    private unowned let core: RemoteCore
    private let device: RpmsgRemoteDevice
    private var shell: ConsoleShell
    private var endpoint: RpmsgRemoteEndpoint?
    /// Whether the banner was sent (on the first message: the host's address is not known before).
    private var greeted = false
    private let sendFailures: SendFailures

    /// Sends of console output that failed (shared with the `stats` command).
    private final class SendFailures {
        var count = 0
    }

    /// Creates the endpoint (announced once the host's driver is ready) and the shell.
    /// - Parameters:
    ///   - version: what the `version` command prints.
    ///   - bootTime: when the firmware started, for `uptime`.
    public init(core: RemoteCore, version: String, bootTime: ContinuousClock.Instant) throws(RpmsgRemoteError) {
        self.core = core
        let device = try core.rpmsg
        self.device = device
        let failures = SendFailures()
        sendFailures = failures
        shell = ConsoleShell(context: ConsoleContext(
            version: version,
            uptime: { bootTime.duration(to: .now) },
            stats: {
                let totals = device.counters
                return [
                    "rpmsg: received \(totals.received), sent \(totals.sent), dropped \(totals.dropped), "
                        + "malformed \(totals.malformed), send timeouts \(totals.sendTimeouts)",
                    "console: failed sends \(failures.count)",
                ]
            }))
        endpoint = try device.createEndpoint(name: Self.channelName) { [unowned self] message in receive(message) }
    }

    /// Lines entered so far.
    public var linesEntered: Int { shell.linesEntered }

    private func receive(_ message: RpmsgReceivedMessage) {
        var output: [UInt8] = []
        if !greeted {
            greeted = true
            output += shell.greeting
        }
        output += shell.feed(message.payload)
        send(output, to: message.source, from: message.endpoint)
    }

    /// Sends `bytes` in messages of at most the MTU.
    private func send(_ bytes: [UInt8], to destination: UInt32, from endpoint: RpmsgRemoteEndpoint) {
        let mtu = max(1, device.mtu)
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + mtu)
            do {
                try endpoint.send(to: destination, Array(bytes[offset..<end]))
            } catch {
                sendFailures.count += 1
                core.trace("ampsoc-fw-console: sending \(end - offset) bytes of output failed: \(error)")
                return
            }
            offset = end
        }
    }
}

// An rpmsg echo service for the sample firmware: an endpoint that sends every message it receives back to
// its sender, in one of four styles that exercise the runtime's sending and buffer APIs.

import AmpRemote

/// How an ``EchoService`` sends its replies.
public enum EchoMode: String, CaseIterable, Sendable {
    /// `reply` (a blocking send with a copy of the payload).
    case copy
    /// `getTxBuffer` + `sendNoCopy`: the payload goes straight from the received buffer into the reply buffer.
    case zeroCopy = "zero-copy"
    /// `trySend`: a reply without a free buffer fails at once (and is traced) instead of waiting.
    case trySend = "try"
    /// Every received buffer is held after its echo; a message whose payload is exactly "release" releases
    /// them all (itself included), so a host can watch its buffers come back only then.
    case hold
}

/// An endpoint that echoes each message to its source and traces failures.
public final class EchoService {
    /// The payload that releases the held buffers in ``EchoMode/hold`` mode.
    public static let releaseCommand: [UInt8] = Array("release".utf8)

    /// The echoing endpoint.
    public private(set) var endpoint: RpmsgRemoteEndpoint?
    /// Messages echoed.
    public var echoed: Int { echoer.echoed }
    /// Replies that failed.
    public var failures: Int { echoer.failures }
    /// The service (endpoint) name.
    public var name: String { echoer.name }
    private let echoer: Echoer

    /// Creates the endpoint `name` (announced to the host) on `core`'s rpmsg device. With `traceEach`, every
    /// message is traced as "<name>: message N from 0x<src> (<len> bytes)".
    public init(core: RemoteCore, name: String, mode: EchoMode = .copy, traceEach: Bool = false) throws(RpmsgRemoteError) {
        let echoer = Echoer(core: core, name: name, mode: mode, traceEach: traceEach)
        self.echoer = echoer
        // The callback holds the echoer strongly (it does not hold this service or the endpoint, so no cycle):
        // unlike an `unowned self` capture, that costs no reference counting per message.
        endpoint = try core.rpmsg.createEndpoint(name: name) { message in echoer.receive(message) }
    }
}

/// The echoing itself, and its counters: what the endpoint's callback holds.
private final class Echoer {
    let name: String
    let mode: EchoMode
    let traceEach: Bool
    // @exclusivity(unchecked): touched by the message loop's thread only, on every message.
    @exclusivity(unchecked) var echoed = 0
    @exclusivity(unchecked) var failures = 0
    @exclusivity(unchecked) private var held: [RpmsgReceivedMessage] = []
    /// The core, unretained: it lives as long as the process (RemoteCore.run never returns), and any strong or
    /// `unowned` use of it would cost reference counting on every message.
    private let core: Unmanaged<RemoteCore>

    init(core: RemoteCore, name: String, mode: EchoMode, traceEach: Bool) {
        self.core = .passUnretained(core)
        self.name = name
        self.mode = mode
        self.traceEach = traceEach
    }

    private func trace(_ text: String) {
        core.takeUnretainedValue().trace(text)
    }

    func receive(_ message: RpmsgReceivedMessage) {
        if traceEach {
            trace("\(name): message \(echoed + failures + 1) from 0x\(String(message.source, radix: 16)) (\(message.length) bytes)")
        }
        do {
            try echo(message)
            echoed += 1
        } catch {
            failures += 1
            trace("\(name): echo of \(message.length) bytes to 0x\(String(message.source, radix: 16)) failed: \(error)")
        }
        if mode == .hold { holdUntilReleased(message) }
    }

    private func echo(_ message: RpmsgReceivedMessage) throws(RpmsgRemoteError) {
        switch mode {
        case .copy, .hold:
            try message.reply(message.payload)
        case .trySend:
            try message.endpoint.trySend(to: message.source, message.payload)
        case .zeroCopy:
            let endpoint = message.endpoint
            let buffer = try endpoint.getTxBuffer()
            guard buffer.capacity >= message.length else {
                endpoint.releaseTxBuffer(buffer)
                throw RpmsgRemoteError(.messageTooLarge, "\(name): the \(buffer.capacity)-byte reply buffer cannot hold \(message.length) bytes")
            }
            message.withUnsafePayload { payload in buffer.payload.copyMemory(from: payload) }
            try endpoint.sendNoCopy(buffer, length: message.length, to: message.source)
        }
    }

    private func holdUntilReleased(_ message: RpmsgReceivedMessage) {
        if message.hold() { held.append(message) }
        guard message.payload == EchoService.releaseCommand else { return }
        let count = held.count
        for buffer in held { buffer.release() }
        held = []
        trace("\(name): released \(count) held buffer(s)")
    }
}

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
    public private(set) var echoed = 0
    /// Replies that failed.
    public private(set) var failures = 0
    /// The service (endpoint) name.
    public let name: String
    private let mode: EchoMode
    private let traceEach: Bool
    private var held: [RpmsgReceivedMessage] = []
    private unowned let core: RemoteCore

    /// Creates the endpoint `name` (announced to the host) on `core`'s rpmsg device. With `traceEach`, every
    /// message is traced as "<name>: message N from 0x<src> (<len> bytes)".
    public init(core: RemoteCore, name: String, mode: EchoMode = .copy, traceEach: Bool = false) throws(RpmsgRemoteError) {
        self.core = core
        self.name = name
        self.mode = mode
        self.traceEach = traceEach
        endpoint = try core.rpmsg.createEndpoint(name: name) { [unowned self] message in receive(message) }
    }

    private func receive(_ message: RpmsgReceivedMessage) {
        if traceEach {
            core.trace("\(name): message \(echoed + failures + 1) from 0x\(String(message.source, radix: 16)) (\(message.length) bytes)")
        }
        do {
            try echo(message)
            echoed += 1
        } catch {
            failures += 1
            core.trace("\(name): echo of \(message.length) bytes to 0x\(String(message.source, radix: 16)) failed: \(error)")
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
            let buffer = try message.endpoint.getTxBuffer()
            guard buffer.capacity >= message.length else {
                message.endpoint.releaseTxBuffer(buffer)
                throw RpmsgRemoteError(.messageTooLarge, "\(name): the \(buffer.capacity)-byte reply buffer cannot hold \(message.length) bytes")
            }
            message.withUnsafePayload { payload in buffer.payload.copyMemory(from: payload) }
            try message.endpoint.sendNoCopy(buffer, length: message.length, to: message.source)
        }
    }

    private func holdUntilReleased(_ message: RpmsgReceivedMessage) {
        if message.hold() { held.append(message) }
        guard message.payload == Self.releaseCommand else { return }
        let count = held.count
        for buffer in held { buffer.release() }
        held = []
        core.trace("\(name): released \(count) held buffer(s)")
    }
}

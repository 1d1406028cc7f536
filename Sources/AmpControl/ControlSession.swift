import AmpJSON
import AmpSystem
import Glibc

/// One client connection of the ``ControlServer``, served on its own thread: reads request lines, runs
/// them one at a time, writes stream items and final replies (docs/control-protocol.md).
final class ControlSession: @unchecked Sendable {
    private let connection: UnixSocket
    private let dispatcher: ControlDispatcher
    private unowned let server: ControlServer
    /// Bytes read and not yet consumed as lines. Touched only by the session's thread.
    private var buffer: [UInt8] = []
    private var scanned = 0

    init(connection: UnixSocket, dispatcher: ControlDispatcher, server: ControlServer) {
        self.connection = connection
        self.dispatcher = dispatcher
        self.server = server
    }

    /// Closes the connection (idempotent).
    func close() { connection.close() }

    /// Whether the client closed its connection.
    private var clientGone: Bool {
        FileAndSocketCalls.peerHasHungUp(connection.fileDescriptor)
    }

    /// Serves requests until the client closes, misbehaves beyond repair, or the server stops.
    func run() {
        defer { connection.close() }
        var endOfInput = false
        while !server.isStopping {
            // Answer every complete line already buffered.
            while let line = nextLine(atEnd: endOfInput) {
                guard line.count <= ControlProtocol.maximumLineLength else { return refuseOversize(line.count) }
                guard serve(line) else { return }
            }
            if endOfInput { return }
            if buffer.count > ControlProtocol.maximumLineLength { return refuseOversize(buffer.count) }
            switch read() {
            case .data: continue
            case .idle: continue
            case .endOfInput: endOfInput = true
            case .failed: return
            }
        }
    }

    private enum ReadOutcome { case data, idle, endOfInput, failed }

    private func read() -> ReadOutcome {
        guard (try? connection.waitReadable(timeout: ControlStream.slice)) == true else { return .idle }
        switch try? connection.receive(maxLength: 64 * 1024, wait: false) {
        case .message(let bytes, _)?:
            buffer += bytes
            return .data
        case .wouldBlock?: return .idle
        case .closed?: return .endOfInput
        case nil: return .failed
        }
    }

    /// The next line (without "\n" and a trailing "\r"), skipping empty lines. At end of input a last line
    /// without a newline counts too.
    private func nextLine(atEnd: Bool) -> [UInt8]? {
        while true {
            if let newline = buffer[scanned...].firstIndex(of: 0x0A) {
                var line = Array(buffer[..<newline])
                buffer.removeSubrange(...newline)
                scanned = 0
                if line.last == 0x0D { line.removeLast() }
                if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
                return line
            }
            scanned = buffer.count
            if atEnd, !buffer.isEmpty {
                let line = buffer
                buffer.removeAll()
                scanned = 0
                return line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) ? nil : line
            }
            return nil
        }
    }

    /// Runs one request line and writes its replies; false when the client is gone.
    private func serve(_ line: [UInt8]) -> Bool {
        let request: ControlRequest
        do {
            request = try ControlRequest.parse(line)
        } catch {
            return write(.failure(id: error.id, error.error))
        }
        let id = request.id
        let stream = ControlStream(
            send: { [self] event throws(ControlError) in
                guard write(.event(id: id, event)) else {
                    throw ControlError(code: EPIPE, "the client went away")
                }
            },
            clientGone: { [self] in clientGone },
            stopping: { [server] in server.isStopping })
        do {
            let result = try dispatcher.handle(request, stream: stream)
            return write(.success(id: id, result))
        } catch {
            return write(.failure(id: id, error))
        }
    }

    /// A line over the limit: one EMSGSIZE reply, then the connection is closed.
    private func refuseOversize(_ length: Int) {
        _ = write(.failure(id: .null, ControlError(
            code: EMSGSIZE,
            "request line longer than \(ControlProtocol.maximumLineLength) bytes (\(length) bytes without a newline so far); "
                + "closing the connection")))
    }

    /// Writes one reply line; false when the client is gone or does not read within the write timeout.
    private func write(_ reply: ControlReply) -> Bool {
        let deadline = MonotonicClock.deadline(after: ControlServer.writeTimeout)
        do {
            try FileAndSocketCalls.sendAll(
                connection.fileDescriptor, ControlProtocol.line(reply.json), deadline: deadline, subject: connection.path,
                cancelled: { [server] in server.isStopping })
            return true
        } catch {
            return false
        }
    }
}

import AmpSystem

/// The peer side of ``SeqpacketTransport`` (run by `ampsoc-bench-peer seqpacket`): receives messages on the
/// inherited socket and answers as ``SeqpacketProtocol`` says, until 'Q' or the host closes its end.
public final class SeqpacketResponder {
    private let socket: Int32
    private let buffer: UnsafeMutableRawPointer
    private static let bufferSize = 512

    /// Serves the SOCK_SEQPACKET socket `socket` (inherited; marked close-on-exec again here).
    public init(socket: Int32) throws(BenchError) {
        try withSystemErrors { () throws(SystemError) in try BenchSys.setCloseOnExec(socket) }
        self.socket = socket
        buffer = UnsafeMutableRawPointer.allocate(byteCount: Self.bufferSize, alignment: 64)
    }

    deinit {
        buffer.deallocate()
        BenchSys.close(socket)
    }

    /// Answers messages until 'Q' or end of file.
    public func serve() throws(BenchError) {
        var received: UInt64 = 0
        while true {
            let length = try withSystemErrors { () throws(SystemError) -> Int in
                try BenchSys.receive(socket, buffer, Self.bufferSize)
            }
            if length == 0 { return }
            let kind = buffer.load(fromByteOffset: SeqpacketProtocol.kindOffset, as: UInt8.self)
            switch kind {
            case SeqpacketProtocol.data:
                received &+= 1
            case SeqpacketProtocol.ping:
                try send(length)
            case SeqpacketProtocol.end:
                buffer.storeBytes(of: SeqpacketProtocol.acknowledge, toByteOffset: SeqpacketProtocol.kindOffset, as: UInt8.self)
                SeqpacketProtocol.storeCount(received, into: buffer)
                received = 0
                try send(SeqpacketProtocol.controlMessageSize)
            case SeqpacketProtocol.quit:
                return
            default:
                throw .protocolViolation(transport: "SOCK_SEQPACKET (peer)", detail: "unknown message kind \(kind) (\(length) bytes)")
            }
        }
    }

    private func send(_ size: Int) throws(BenchError) {
        _ = try withSystemErrors { () throws(SystemError) -> Int in try BenchSys.send(socket, buffer, size) }
    }
}

import AmpSystem
import Glibc

/// The "seqpacket" column: an AF_UNIX SOCK_SEQPACKET socket pair between this process and
/// `ampsoc-bench-peer seqpacket`, which inherits one end. Every message is one `send(2)` and one `recv(2)`
/// (the kernel copies it twice); the sender blocks when the socket buffer is full. The messages are in
/// ``SeqpacketProtocol``; the peer side is ``SeqpacketResponder``.
public final class SeqpacketTransport: BenchTransport {
    public let name = "SOCK_SEQPACKET"
    public var maximumPayloadSize: Int { SeqpacketProtocol.maximumMessageSize }
    public var idleProcessIDs: [pid_t] { [] }
    /// The peer's process id.
    public var peerProcessID: pid_t { peer.child.pid }

    private let socket: Int32
    private let peer: BenchPeerProcess
    private let sendBuffer: UnsafeMutableRawPointer
    private let receiveBuffer: UnsafeMutableRawPointer
    private static let bufferSize = 512
    private var isShutDown = false

    private init(socket: Int32, peer: BenchPeerProcess) {
        self.socket = socket
        self.peer = peer
        sendBuffer = UnsafeMutableRawPointer.allocate(byteCount: Self.bufferSize, alignment: 64)
        receiveBuffer = UnsafeMutableRawPointer.allocate(byteCount: Self.bufferSize, alignment: 64)
        for index in 0..<Self.bufferSize {
            sendBuffer.storeBytes(of: UInt8(truncatingIfNeeded: index &* 7 &+ 1), toByteOffset: index, as: UInt8.self)
        }
        receiveBuffer.initializeMemory(as: UInt8.self, repeating: 0, count: Self.bufferSize)
    }

    deinit {
        if !isShutDown { try? shutDown() }
        sendBuffer.deallocate()
        receiveBuffer.deallocate()
    }

    /// Creates the socket pair, starts `ampsoc-bench-peer seqpacket` with one end as its descriptor 4, and
    /// keeps the other.
    public static func start() throws(BenchError) -> SeqpacketTransport {
        let (mine, theirs) = try withSystemErrors { () throws(SystemError) -> (Int32, Int32) in try BenchSys.seqpacketPair() }
        defer { BenchSys.close(theirs) }
        let peer: BenchPeerProcess
        do {
            peer = try BenchPeerProcess.start(
                transport: "SOCK_SEQPACKET", mode: BenchPeerMain.Mode.seqpacket.rawValue,
                arguments: ["--socket-fd", String(BenchPeerProcess.socketFD)],
                inheritFDs: [(from: theirs, to: BenchPeerProcess.socketFD)])
        } catch {
            BenchSys.close(mine)
            throw error
        }
        return SeqpacketTransport(socket: mine, peer: peer)
    }

    // MARK: Messages

    public func roundTrip(size: Int) throws(BenchError) {
        try checkPayloadSize(size)
        sendBuffer.storeBytes(of: SeqpacketProtocol.ping, toByteOffset: SeqpacketProtocol.kindOffset, as: UInt8.self)
        try send(size)
        let length = try receive()
        let kind = receiveBuffer.load(fromByteOffset: SeqpacketProtocol.kindOffset, as: UInt8.self)
        guard length == size, kind == SeqpacketProtocol.ping else {
            throw .protocolViolation(transport: name, detail: "echo of \(length) bytes, kind \(kind), for a \(size)-byte ping")
        }
    }

    public func stream(size: Int, count: Int) throws(BenchError) {
        try checkPayloadSize(size)
        sendBuffer.storeBytes(of: SeqpacketProtocol.data, toByteOffset: SeqpacketProtocol.kindOffset, as: UInt8.self)
        for _ in 0..<count {
            try send(size)
        }
        sendBuffer.storeBytes(of: SeqpacketProtocol.end, toByteOffset: SeqpacketProtocol.kindOffset, as: UInt8.self)
        SeqpacketProtocol.storeCount(UInt64(count), into: sendBuffer)
        try send(size)
        let length = try receive()
        let kind = receiveBuffer.load(fromByteOffset: SeqpacketProtocol.kindOffset, as: UInt8.self)
        let received = SeqpacketProtocol.loadCount(from: receiveBuffer)
        guard length == SeqpacketProtocol.controlMessageSize, kind == SeqpacketProtocol.acknowledge, received == UInt64(count) else {
            throw .protocolViolation(
                transport: name, detail: "acknowledgement of \(length) bytes, kind \(kind), count \(received) for \(count) sent")
        }
    }

    private func send(_ size: Int) throws(BenchError) {
        _ = try withSystemErrors { () throws(SystemError) -> Int in try BenchSys.send(socket, sendBuffer, size) }
    }

    /// Receives one message; the peer closing its end means it died.
    private func receive() throws(BenchError) -> Int {
        let length = try withSystemErrors { () throws(SystemError) -> Int in
            try BenchSys.receive(socket, receiveBuffer, Self.bufferSize)
        }
        if length == 0 {
            try peer.checkRunning()
            throw .peerFailed(transport: name, detail: "closed its socket")
        }
        return length
    }

    // MARK: Shutting down

    public func shutDown() throws(BenchError) {
        guard !isShutDown else { return }
        isShutDown = true
        sendBuffer.storeBytes(of: SeqpacketProtocol.quit, toByteOffset: SeqpacketProtocol.kindOffset, as: UInt8.self)
        let sent = Result { () throws(BenchError) in try send(SeqpacketProtocol.controlMessageSize) }
        BenchSys.close(socket)
        try peer.finish()
        try sent.get()
    }
}

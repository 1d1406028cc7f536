// An rpmsg endpoint as a SOCK_SEQPACKET UNIX socket: the emulator's /dev/rpmsgN (Linux's rpmsg_char).
//
// Semantics for the user (docs/endpoint-sockets.md has the full text):
//   - the socket listens at `path`, file mode 0600; one message per read and per write;
//   - one client at a time: a second connection is accepted and closed at once (it reads end-of-file, its
//     writes fail with EPIPE); the first client stays;
//   - messages from the remote wait in a queue of `queueCapacity` (1024) messages while no client is
//     connected or while the client does not read (after the kernel's own socket buffer filled up);
//     beyond that they are dropped and counted;
//   - a message longer than the MTU written by the client is not sent: it is counted as oversize and noted
//     as the last error. Its write does not fail: Linux refuses a SEQPACKET write with EMSGSIZE only when it
//     exceeds the *writer's* SO_SNDBUF minus 32 bytes (at least 4576 bytes, the smallest SO_SNDBUF being
//     4608), and nothing at the receiving end can make a smaller write fail;
//   - a zero-length write is sent as a zero-length rpmsg message (unless the client closes right after it,
//     when it cannot be told from the end of the connection);
//   - close(): the client is disconnected, the listener closed, the socket file removed.
//
// Thread: one per bridge, sleeping in epoll on the listener, the client and the runtime's wake-up eventfd.
// Sends to the remote (the `send` closure, normally a blocking endpoint send) run on that thread.

import AmpRpmsg
import AmpSystem
import Glibc

/// A listening SOCK_SEQPACKET socket bridging one rpmsg endpoint to a single userland client.
public final class EndpointSocketBridge: Sendable {
    /// Default bound of the queue of messages from the remote.
    public static let defaultQueueCapacity = 1024
    /// Messages read from the client per wake-up, so that messages from the remote are not starved.
    static let readBatch = 64

    /// The socket's path.
    public let path: String
    /// Largest message sent to the remote.
    public let mtu: Int
    private let listener: UnixSocket
    private let runtime: BridgeRuntime
    private let sendToRemote: BridgeSend

    /// Creates the socket at `path` (replacing a stale socket file nobody listens on) and starts the bridge's
    /// thread. The thread keeps the bridge alive until ``close()``.
    /// - Parameters:
    ///   - mtu: the endpoint's MTU: longer client messages are not sent.
    ///   - queueCapacity: messages from the remote kept while the client cannot take them.
    ///   - send: sends one message to the remote; called on the bridge's thread, may block.
    /// - Throws: ENAMETOOLONG (path over 107 bytes), EADDRINUSE (a process listens there), EEXIST (a file
    ///   that is not a socket is there), or another error of socket/bind/listen, naming the path.
    public init(
        path: String, mtu: Int, queueCapacity: Int = EndpointSocketBridge.defaultQueueCapacity,
        send: @escaping BridgeSend
    ) throws(SystemError) {
        self.path = path
        self.mtu = max(0, mtu)
        self.sendToRemote = send
        runtime = try BridgeRuntime(queueCapacity: queueCapacity)
        listener = try UnixSocket.listen(at: path, kind: .seqpacket, permissions: 0o600)
        do {
            try runtime.epoll.add(listener.fileDescriptor, events: .readable)
        } catch {
            listener.close()
            listener.removeSocketFile()
            throw error
        }
        runtime.start(name: "ampsoc socket \(path.split(separator: "/").last.map(String.init) ?? path)") { [self] in
            SocketSession(bridge: self).run()
        }
    }

    /// Hands a message from the remote to the bridge. Callable from any thread; never blocks: the message is
    /// queued (or dropped and counted when the queue is full) and written to the client by the bridge's thread.
    public func deliver(_ payload: [UInt8]) {
        runtime.enqueue(payload)
    }

    /// Running totals.
    public var counters: BridgeCounters { runtime.counters }

    /// Whether a client is connected now.
    public var isClientConnected: Bool { runtime.isClientConnected }

    /// The last problem met (a failed send, an oversize message, a system-call error), if any.
    public var lastError: String? { runtime.lastError }

    /// Disconnects the client, stops and joins the thread, closes the listener and removes the socket file.
    /// Idempotent. Messages still queued are counted as dropped. A send to the remote in progress finishes
    /// first (a blocking send waits at most the link's send timeout).
    public func close() {
        guard runtime.stop() else { return }
        listener.close()
        listener.removeSocketFile()
        runtime.discardInbound()
    }

    // MARK: Bridge thread

    /// The bridge thread's state: the connected client and the message being written to it.
    private final class SocketSession {
        let bridge: EndpointSocketBridge
        var runtime: BridgeRuntime { bridge.runtime }
        var client: UnixSocket?
        /// A message taken from the queue that the client's socket could not take yet.
        var unsent: [UInt8]?
        var watchingWritable = false

        init(bridge: EndpointSocketBridge) {
            self.bridge = bridge
        }

        func run() {
            defer {
                disconnect()
                if unsent != nil { runtime.count { $0.dropped += 1 } }
            }
            while !runtime.isStopping {
                let ready: [Epoll.Ready]
                do {
                    ready = try runtime.epoll.wait(timeout: nil)
                } catch {
                    runtime.note("epoll_wait: \(error)")
                    return
                }
                if runtime.isStopping { return }
                // The client first: a client that hung up is gone before a new connection is looked at.
                for event in ready where event.fd == client?.fileDescriptor {
                    serviceClient(events: event.events)
                }
                for event in ready where event.fd == bridge.listener.fileDescriptor {
                    acceptConnections()
                }
                for event in ready where runtime.isWake(event.fd) {
                    runtime.drainWake()
                }
                flushToClient()
            }
        }

        // MARK: Connections

        private func acceptConnections() {
            while true {
                let connection: UnixSocket?
                do {
                    connection = try bridge.listener.accept()
                } catch {
                    runtime.note("accept: \(error)")
                    return
                }
                guard let connection else { return }
                // A client that closed meanwhile gives way (after what it wrote is sent).
                if let client, client.peerHasClosed() {
                    while readFromClient(client, limit: Int.max) == .open {}
                    disconnect()
                }
                if client == nil {
                    adopt(connection)
                } else {
                    runtime.count { $0.rejectedClients += 1 }
                    connection.close()
                }
            }
        }

        private func adopt(_ connection: UnixSocket) {
            do {
                try runtime.epoll.add(connection.fileDescriptor, events: [.readable, .readHangUp])
            } catch {
                runtime.note("epoll_ctl for a new client: \(error)")
                connection.close()
                return
            }
            client = connection
            watchingWritable = false
            runtime.count { $0.connections += 1 }
            runtime.setClientConnected(true)
        }

        private func disconnect() {
            guard let client else { return }
            try? runtime.epoll.remove(client.fileDescriptor)
            client.close()
            self.client = nil
            watchingWritable = false
            runtime.setClientConnected(false)
        }

        // MARK: Client -> remote

        enum ClientState { case open, more, closed }

        private func serviceClient(events: Epoll.Events) {
            guard let client else { return }
            if events.contains(.writable) { flushToClient() }
            if readFromClient(client, limit: EndpointSocketBridge.readBatch) == .closed {
                disconnect()
            }
        }

        /// Reads up to `limit` messages and sends each to the remote. `.open`: nothing more to read now;
        /// `.more`: the limit was reached; `.closed`: the client is gone.
        private func readFromClient(_ client: UnixSocket, limit: Int) -> ClientState {
            var read = 0
            while read < limit {
                let received: UnixSocket.Received
                do {
                    received = try client.receive(maxLength: bridge.mtu, wait: false)
                } catch {
                    if error.errno != ECONNRESET { runtime.note("recv: \(error)") }
                    return .closed
                }
                switch received {
                case .wouldBlock:
                    return .open
                case .closed:
                    return .closed
                case .message(let bytes, let length):
                    read += 1
                    if length > bridge.mtu {
                        runtime.count { $0.oversize += 1 }
                        runtime.note("a client message of \(length) bytes exceeds the MTU of \(bridge.mtu) and was not sent")
                    } else {
                        runtime.send(bytes, through: bridge.sendToRemote)
                    }
                }
                if runtime.isStopping { return .open }
            }
            return .more
        }

        // MARK: Remote -> client

        /// Writes queued messages to the client until its socket is full (then waits for EPOLLOUT) or the
        /// queue is empty.
        private func flushToClient() {
            guard let client else { return }
            while let message = unsent ?? runtime.takeInbound() {
                let accepted: Bool
                do {
                    accepted = try client.send(message, wait: false)
                } catch {
                    unsent = message  // kept for the next client
                    if error.errno != EPIPE && error.errno != ECONNRESET { runtime.note("send to the client: \(error)") }
                    disconnect()
                    return
                }
                guard accepted else {
                    unsent = message
                    watchWritable(true)
                    return
                }
                unsent = nil
            }
            watchWritable(false)
        }

        private func watchWritable(_ on: Bool) {
            guard let client, on != watchingWritable else { return }
            var events: Epoll.Events = [.readable, .readHangUp]
            if on { events.insert(.writable) }
            do {
                try runtime.epoll.modify(client.fileDescriptor, events: events)
                watchingWritable = on
            } catch {
                runtime.note("epoll_ctl for the client: \(error)")
            }
        }
    }
}

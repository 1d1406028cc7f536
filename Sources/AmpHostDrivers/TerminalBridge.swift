// An rpmsg endpoint as a pseudo-terminal: the emulator's /dev/ttyRPMSGN (Linux's rpmsg_tty).
//
// Semantics for the user (docs/endpoint-sockets.md has the full text):
//   - `path` is the slave device (/dev/pts/N) in raw mode: bytes pass unmodified both ways (no echo, no
//     CR/LF translation; the remote echoes and sends "\r\n" itself, as a serial console does);
//   - the bridge keeps a slave descriptor open, so the master never reads EIO or reports a hang-up when no
//     terminal program has the device open; what the remote sends meanwhile waits in the terminal's input
//     queue (about 16 KB) and then in the bridge's queue, and is read by the next program that opens it;
//   - bytes typed by the user are sent to the remote as they arrive, in chunks of at most the MTU (one read
//     of the master is one message); there is no message boundary on a terminal;
//   - each message from the remote is written to the master without blocking; when the terminal's input
//     queue is full, messages wait in a queue of `queueCapacity` (1024) messages, beyond which they are
//     dropped and counted;
//   - close(): both descriptors are closed (programs holding the slave see a hang-up) and the thread joined.

import AmpRpmsg
import AmpSystem

/// A pseudo-terminal bridging one rpmsg endpoint to terminal programs.
public final class TerminalBridge: Sendable {
    /// Default bound of the queue of messages from the remote.
    public static let defaultQueueCapacity = 1024
    /// Reads of the master per wake-up, so that messages from the remote are not starved.
    static let readBatch = 64

    /// The slave device, e.g. "/dev/pts/4".
    public let path: String
    /// Largest chunk of typed bytes sent to the remote in one message.
    public let mtu: Int
    private let terminal: PseudoTerminal
    private let runtime: BridgeRuntime
    private let sendToRemote: BridgeSend

    /// Opens the pseudo-terminal (slave in raw mode) and starts the bridge's thread, which keeps the bridge
    /// alive until ``close()``.
    /// - Parameters:
    ///   - mtu: the endpoint's MTU, the largest chunk sent (at least 1).
    ///   - queueCapacity: messages from the remote kept while the terminal cannot take them.
    ///   - send: sends one message to the remote; called on the bridge's thread, may block.
    public init(
        mtu: Int, queueCapacity: Int = TerminalBridge.defaultQueueCapacity, send: @escaping BridgeSend
    ) throws(SystemError) {
        self.mtu = max(1, mtu)
        self.sendToRemote = send
        runtime = try BridgeRuntime(queueCapacity: queueCapacity)
        terminal = try PseudoTerminal()
        path = terminal.slavePath
        do {
            try runtime.epoll.add(terminal.masterDescriptor, events: .readable)
        } catch {
            terminal.close()
            throw error
        }
        runtime.start(name: "ampsoc tty \(path)") { [self] in TerminalSession(bridge: self).run() }
    }

    /// Hands a message from the remote to the terminal. Callable from any thread; never blocks: the message
    /// is queued (or dropped and counted when the queue is full) and written by the bridge's thread.
    public func deliver(_ payload: [UInt8]) {
        runtime.enqueue(payload)
    }

    /// Running totals (``BridgeCounters/oversize`` stays 0: typed bytes are chunked instead).
    public var counters: BridgeCounters { runtime.counters }

    /// The last problem met (a failed send, a system-call error), if any.
    public var lastError: String? { runtime.lastError }

    /// Stops and joins the thread and closes the pseudo-terminal. Idempotent. Messages still queued are
    /// counted as dropped. A send to the remote in progress finishes first.
    public func close() {
        guard runtime.stop() else { return }
        terminal.close()
        runtime.discardInbound()
    }

    // MARK: Bridge thread

    /// The bridge thread's state: the message being written to the master.
    private final class TerminalSession {
        let bridge: TerminalBridge
        var runtime: BridgeRuntime { bridge.runtime }
        var terminal: PseudoTerminal { bridge.terminal }
        /// A message (and how much of it was written) that the master could not take entirely yet.
        var unsent: (bytes: [UInt8], offset: Int)?
        var watchingWritable = false
        var reading = true

        init(bridge: TerminalBridge) {
            self.bridge = bridge
        }

        func run() {
            defer { if unsent != nil { runtime.count { $0.dropped += 1 } } }
            while !runtime.isStopping {
                let ready: [Epoll.Ready]
                do {
                    ready = try runtime.epoll.wait(timeout: nil)
                } catch {
                    runtime.note("epoll_wait: \(error)")
                    return
                }
                if runtime.isStopping { return }
                for event in ready {
                    if runtime.isWake(event.fd) {
                        runtime.drainWake()
                    } else if event.events.contains(.readable) {
                        readTyped()
                    }
                }
                flushToTerminal()
            }
        }

        /// Sends what the user typed, one read (at most the MTU) per message.
        private func readTyped() {
            for _ in 0..<TerminalBridge.readBatch {
                let chunk: [UInt8]?
                do {
                    chunk = try terminal.read(maxLength: bridge.mtu)
                } catch {
                    // Not expected while the bridge holds the slave open; stop reading rather than spin.
                    runtime.note("read: \(error)")
                    reading = false
                    updateInterest()
                    return
                }
                guard let chunk, !chunk.isEmpty else { return }
                runtime.send(chunk, through: bridge.sendToRemote)
                if runtime.isStopping { return }
            }
        }

        /// Writes queued messages to the master until it is full (then waits for EPOLLOUT) or the queue is empty.
        private func flushToTerminal() {
            while true {
                if unsent == nil, let next = runtime.takeInbound() { unsent = (next, 0) }
                guard let (bytes, offset) = unsent else { break }
                if offset == bytes.count {
                    unsent = nil
                    continue
                }
                let written: Int?
                do {
                    written = try terminal.write(bytes[offset...])
                } catch {
                    runtime.note("write: \(error)")
                    runtime.count { $0.dropped += 1 }
                    unsent = nil
                    continue
                }
                guard let written else {
                    setWatchingWritable(true)
                    return
                }
                unsent = (bytes, offset + written)
            }
            setWatchingWritable(false)
        }

        private func setWatchingWritable(_ on: Bool) {
            guard on != watchingWritable else { return }
            watchingWritable = on
            updateInterest()
        }

        private func updateInterest() {
            var events: Epoll.Events = []
            if reading { events.insert(.readable) }
            if watchingWritable { events.insert(.writable) }
            do {
                try runtime.epoll.modify(terminal.masterDescriptor, events: events)
            } catch {
                runtime.note("epoll_ctl for the terminal: \(error)")
            }
        }
    }
}

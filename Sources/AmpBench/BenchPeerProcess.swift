import AmpSystem
import Glibc

/// A running `ampsoc-bench-peer`: spawned with ``ChildProcess``, ready once it has written one byte to its
/// readiness pipe, and always reaped. The peer kills itself when this process dies (``ParentDeath``), so an
/// interrupted benchmark leaves no process behind.
///
/// Peer command line (see ``BenchPeerMain``):
/// `ampsoc-bench-peer MODE --parent PID --ready-fd 3 [--segment NAME | --socket-fd 4]`.
final class BenchPeerProcess {
    /// Name of the peer executable, looked for next to the running executable.
    static let executableName = "ampsoc-bench-peer"
    /// Environment variable that overrides where the peer executable is.
    static let executableOverride = "AMPSOC_BENCH_PEER"
    /// Descriptor number of the readiness pipe in the peer.
    static let readyFD: Int32 = 3
    /// Descriptor number of an inherited socket in the peer.
    static let socketFD: Int32 = 4
    /// How long a peer may take to become ready, and to exit when asked.
    static let startTimeout: Int32 = 10_000
    static let exitGrace: Duration = .seconds(2)

    /// The child process.
    let child: ChildProcess
    /// The transport it serves, for messages.
    let transport: String
    private var finished = false

    private init(child: ChildProcess, transport: String) {
        self.child = child
        self.transport = transport
    }

    deinit {
        // ChildProcess kills and reaps a child that is still running.
        if !finished { _ = try? child.terminate(grace: .milliseconds(200)) }
    }

    /// The peer executable: `$AMPSOC_BENCH_PEER` if set, else `ampsoc-bench-peer` in the directory of
    /// `/proc/self/exe`. Throws ``BenchError/peerMissing(path:)`` unless it is executable.
    static func locateExecutable() throws(BenchError) -> String {
        let path: String
        if let override = BenchSys.environmentValue(executableOverride), !override.isEmpty {
            path = override
        } else {
            let own: String
            do { own = try BenchSys.readLink("/proc/self/exe") } catch { throw .system(error) }
            let directory = own.lastIndex(of: "/").map { String(own[..<$0]) } ?? "."
            path = directory + "/" + executableName
        }
        guard BenchSys.isExecutable(path) else { throw .peerMissing(path: path) }
        return path
    }

    /// Spawns the peer in `mode` with `arguments`, passing `inheritFDs` and the readiness pipe, and waits until
    /// it reports ready. A peer that exits or stays silent for 10 s is reaped and reported.
    static func start(
        transport: String, mode: String, arguments: [String], inheritFDs: [(from: Int32, to: Int32)] = []
    ) throws(BenchError) -> BenchPeerProcess {
        let executable = try locateExecutable()
        let pipe: (read: Int32, write: Int32)
        do { pipe = try PipePair.create() } catch { throw .system(error) }
        defer { BenchSys.close(pipe.read) }
        let child: ChildProcess
        do {
            defer { BenchSys.close(pipe.write) }
            child = try ChildProcess.spawn(
                executable: executable,
                arguments: [mode, "--parent", String(getpid()), "--ready-fd", String(readyFD)] + arguments,
                inheritFDs: inheritFDs + [(from: pipe.write, to: readyFD)])
        } catch {
            throw .system(error)
        }
        let peer = BenchPeerProcess(child: child, transport: transport)
        try peer.awaitReady(pipe: pipe.read)
        return peer
    }

    /// Reads the readiness byte; on end of file or timeout, reaps the peer and throws.
    private func awaitReady(pipe: Int32) throws(BenchError) {
        let ready = try withSystemErrors { () throws(SystemError) -> Bool in
            try BenchSys.waitReadable(pipe, timeoutMilliseconds: Self.startTimeout)
        }
        guard ready else {
            finished = true
            _ = try? child.terminate(grace: .milliseconds(200))
            throw .peerFailed(transport: transport, detail: "not ready within \(Self.startTimeout / 1000) s")
        }
        var byte: UInt8 = 0
        let got = try withSystemErrors { () throws(SystemError) -> Int in try BenchSys.read(pipe, &byte, 1) }
        guard got == 1, byte == UInt8(ascii: "R") else {
            finished = true
            var status = (try? child.waitForExit(timeout: Self.exitGrace)) ?? nil
            if status == nil { status = try? child.terminate(grace: .milliseconds(200)) }
            throw .peerFailed(
                transport: transport,
                detail: "\(child.executable) \(status.map { "\($0)" } ?? "stopped") before it was ready")
        }
    }

    /// Throws ``BenchError/peerFailed(transport:detail:)`` if the peer has exited.
    func checkRunning() throws(BenchError) {
        let status: ChildProcess.ExitStatus?
        do { status = try child.exitStatus } catch { throw .system(error) }
        if let status {
            finished = true
            throw .peerFailed(transport: transport, detail: "\(status) while the benchmark was running")
        }
    }

    /// After the transport asked the peer to exit: waits up to 2 s for it, kills it if it is still there, and
    /// throws unless it exited with code 0. Calling it again does nothing.
    func finish() throws(BenchError) {
        guard !finished else { return }
        finished = true
        let exited = try withSystemErrors { () throws(SystemError) -> ChildProcess.ExitStatus? in
            try child.waitForExit(timeout: Self.exitGrace)
        }
        guard let status = exited else {
            _ = try? child.terminate(grace: .milliseconds(200))
            throw .peerFailed(transport: transport, detail: "did not exit within 2 s when asked to; killed")
        }
        guard status == .exited(0) else {
            throw .peerFailed(transport: transport, detail: "\(status)")
        }
    }
}

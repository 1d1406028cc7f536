import AmpSystem
import Glibc

/// The command line of `ampsoc-bench-peer`, the process on the other end of every `ampsoc bench` baseline.
/// It is started by ``BenchPeerProcess``, never by hand:
///
/// ```
/// ampsoc-bench-peer raw-shm   --parent PID --ready-fd FD --segment NAME
/// ampsoc-bench-peer seqpacket --parent PID --ready-fd FD --socket-fd FD
/// ```
/// It dies with its parent (`--parent` is the pid it expects, see ``ParentDeath``), attaches, writes the byte
/// "R" to the readiness descriptor and closes it, then serves until told to stop. Exit status: 0 when stopped
/// as asked, 1 on an error (one line on stderr), 2 on a bad command line.
public enum BenchPeerMain {
    /// What the peer serves.
    public enum Mode: String, CaseIterable, Sendable {
        /// ``RawSharedMemoryResponder`` on the segment `--segment`.
        case rawSharedMemory = "raw-shm"
        /// ``SeqpacketResponder`` on the socket `--socket-fd`.
        case seqpacket
    }

    /// Runs the peer with `arguments` (without the program name) and returns its exit status.
    public static func run(_ arguments: [String]) -> Int32 {
        guard let mode = arguments.first.flatMap(Mode.init(rawValue:)) else {
            return usage("expected a mode: \(Mode.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        var options: [String: String] = [:]
        var index = 1
        while index < arguments.count {
            let word = arguments[index]
            guard word.hasPrefix("--"), index + 1 < arguments.count else { return usage("unexpected argument '\(word)'") }
            options[String(word.dropFirst(2))] = arguments[index + 1]
            index += 2
        }
        guard let parent = options["parent"].flatMap(pid_t.init), let readyFD = options["ready-fd"].flatMap(Int32.init) else {
            return usage("--parent PID and --ready-fd FD are required")
        }
        do {
            try withSystemErrors { () throws(SystemError) in
                try ParentDeath.install(expectedParent: parent)
                try BenchSys.setCloseOnExec(readyFD)
            }
            switch mode {
            case .rawSharedMemory:
                guard let segment = options["segment"] else { return usage("raw-shm needs --segment NAME") }
                let responder = try RawSharedMemoryResponder(segmentName: segment)
                try signalReady(readyFD)
                try responder.serve()
            case .seqpacket:
                guard let socket = options["socket-fd"].flatMap(Int32.init) else { return usage("seqpacket needs --socket-fd FD") }
                let responder = try SeqpacketResponder(socket: socket)
                try signalReady(readyFD)
                try responder.serve()
            }
            return 0
        } catch {
            report("error: \(error)")
            return 1
        }
    }

    /// Writes "R" to the readiness descriptor and closes it.
    private static func signalReady(_ fd: Int32) throws(BenchError) {
        var byte = UInt8(ascii: "R")
        try withSystemErrors { () throws(SystemError) in try BenchSys.writeAll(fd, &byte, 1) }
        BenchSys.close(fd)
    }

    private static func usage(_ message: String) -> Int32 {
        report("usage error: \(message)")
        return 2
    }

    private static func report(_ message: String) {
        var line = Array("ampsoc-bench-peer: \(message)\n".utf8)
        _ = try? BenchSys.writeAll(STDERR_FILENO, &line, line.count)
    }
}

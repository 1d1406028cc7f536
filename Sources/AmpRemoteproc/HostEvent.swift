import AmpJSON

/// Something that happened on the emulated SoC, reported to the user (`ampsoc run` output, `--events json`).
public enum HostEvent: Sendable, Equatable {
    /// A remote processor changed state.
    case state(rproc: String, state: RemoteprocState)
    /// A remote processor crashed. `type` is "mmufault", "watchdog", "fatal error" or "exit".
    case crash(rproc: String, type: String, detail: String)
    /// A line of text the firmware wrote to its trace buffer.
    case trace(rproc: String, text: String)
    /// A coredump was written.
    case coredump(rproc: String, path: String)
    /// Something went wrong that did not stop the host: a remote failed to boot, recovery failed, ...
    case error(rproc: String?, message: String)
    /// Informational message (loading, allocation warnings).
    case info(rproc: String?, message: String)
    /// An rpmsg channel was created (a name-service announcement, or locally) or destroyed (announcement,
    /// locally, or because the remote stopped or crashed). `src` is ANY (0xFFFFFFFF, shown as -1 in JSON, as
    /// Linux's channel device names show it) for channels the remote announced.
    case channel(rproc: String, action: ChannelAction, name: String, src: UInt32, dst: UInt32)
    /// A line written by a host rpmsg driver (Linux's `dev_info` on the channel device); `channel` is the
    /// channel's device name, e.g. "ipu.vdev0.rpmsg-client-sample.-1.1024".
    case driver(driver: String, channel: String, text: String)

    /// What happened to an rpmsg channel.
    public enum ChannelAction: String, Sendable, Equatable {
        case create
        case destroy
    }

    /// The one-line JSON object of `--events json`.
    public var json: JSONValue {
        switch self {
        case .state(let rproc, let state):
            .object(["event": "state", "rproc": .string(rproc), "state": .string(state.description)])
        case .crash(let rproc, let type, let detail):
            .object(["event": "crash", "rproc": .string(rproc), "type": .string(type), "detail": .string(detail)])
        case .trace(let rproc, let text):
            .object(["event": "trace", "rproc": .string(rproc), "text": .string(text)])
        case .coredump(let rproc, let path):
            .object(["event": "coredump", "rproc": .string(rproc), "path": .string(path)])
        case .error(let rproc, let message):
            .object(["event": "error", "rproc": rproc.map { .string($0) } ?? .null, "message": .string(message)])
        case .info(let rproc, let message):
            .object(["event": "info", "rproc": rproc.map { .string($0) } ?? .null, "message": .string(message)])
        case .channel(let rproc, let action, let name, let src, let dst):
            .object([
                "event": "channel", "action": .string(action.rawValue), "rproc": .string(rproc), "name": .string(name),
                "src": .int(Int64(Int32(bitPattern: src))), "dst": .int(Int64(Int32(bitPattern: dst))),
            ])
        case .driver(let driver, let channel, let text):
            .object(["event": "driver", "driver": .string(driver), "channel": .string(channel), "text": .string(text)])
        }
    }

    /// A readable log line (without timestamp).
    public var text: String {
        switch self {
        case .state(let rproc, let state): "\(rproc): state \(state)"
        case .crash(let rproc, let type, let detail): "\(rproc): crash (\(type)): \(detail)"
        case .trace(let rproc, let text): "\(rproc): trace: \(text)"
        case .coredump(let rproc, let path): "\(rproc): coredump written to \(path)"
        case .error(let rproc, let message): "\(rproc.map { "\($0): " } ?? "")error: \(message)"
        case .info(let rproc, let message): "\(rproc.map { "\($0): " } ?? "")\(message)"
        case .channel(let rproc, let action, let name, let src, let dst):
            "\(rproc): rpmsg channel \(name) \(action == .create ? "created" : "destroyed"): "
                + "src 0x\(String(src, radix: 16)), dst 0x\(String(dst, radix: 16))"
        case .driver(let driver, let channel, let text): "\(driver) \(channel): \(text)"
        }
    }
}

/// Receives host events. Called on the host's main loop thread.
public protocol HostEventSink: AnyObject {
    func emit(_ event: HostEvent)
}

/// Collects events in memory (tests, the Swift test API).
public final class RecordingEventSink: HostEventSink, @unchecked Sendable {
    private var storage: [HostEvent] = []
    public init() {}
    public func emit(_ event: HostEvent) { storage.append(event) }
    public var events: [HostEvent] { storage }
}

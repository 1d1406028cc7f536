import AmpJSON
import AmpRemoteproc

/// Reads back the event objects of the `events` stream (the objects `ampsoc run --events json` prints, see
/// ``HostEvent/json``) into ``HostEvent`` values, so a client can print them as `run` does.
public enum HostEventDecoding {
    /// The event an object describes; nil for an object that is not a known event.
    public static func event(from object: JSONObject) -> HostEvent? {
        func string(_ key: String) -> String? {
            if case .string(let text)? = object[key] { return text }
            return nil
        }
        func address(_ key: String) -> UInt32? {
            switch object[key] {
            case .int(let value)?: UInt32(truncatingIfNeeded: value)
            case .uint(let value)?: UInt32(exactly: value)
            default: nil
            }
        }
        guard let kind = string("event") else { return nil }
        switch kind {
        case "state":
            guard let rproc = string("rproc"), let name = string("state"),
                let state = RemoteprocState.allCases.first(where: { $0.description == name })
            else { return nil }
            return .state(rproc: rproc, state: state)
        case "crash":
            guard let rproc = string("rproc"), let type = string("type") else { return nil }
            return .crash(rproc: rproc, type: type, detail: string("detail") ?? "")
        case "trace":
            guard let rproc = string("rproc"), let text = string("text") else { return nil }
            return .trace(rproc: rproc, text: text)
        case "coredump":
            guard let rproc = string("rproc"), let path = string("path") else { return nil }
            return .coredump(rproc: rproc, path: path)
        case "error":
            return .error(rproc: string("rproc"), message: string("message") ?? "")
        case "info":
            return .info(rproc: string("rproc"), message: string("message") ?? "")
        case "channel":
            guard let rproc = string("rproc"), let name = string("name"),
                let action = string("action").flatMap(HostEvent.ChannelAction.init(rawValue:)),
                let src = address("src"), let dst = address("dst")
            else { return nil }
            return .channel(rproc: rproc, action: action, name: name, src: src, dst: dst)
        case "driver":
            guard let driver = string("driver"), let channel = string("channel") else { return nil }
            return .driver(driver: driver, channel: channel, text: string("text") ?? "")
        default:
            return nil
        }
    }
}

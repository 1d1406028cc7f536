import AmpControl
import AmpJSON

/// Text output of the verbs that talk to a running instance (`ampsoc ls`, `vring`, `ept ls`, received
/// messages), rendered from the control protocol's result objects (docs/control-protocol.md).
enum ControlTextRendering {
    /// `ampsoc ls`: processors, channels and created endpoints as aligned tables.
    static func list(_ result: JSONObject) -> [String] {
        var lines = ["Instance \(string(result, "instance")) (SoC \(string(result, "soc")))", "", "Remote processors:"]
        lines += table(
            header: ["NAME", "STATE", "CRASHES", "PID", "RECOVERY", "COREDUMP", "FIRMWARE"],
            rows: objects(result, "processors").map { processor in
                [
                    string(processor, "name"), string(processor, "state"), number(processor, "crashCount"),
                    number(processor, "pid"), string(processor, "recovery"), string(processor, "coredump"),
                    string(processor, "firmware"),
                ]
            })
        lines += ["", "Channels:"]
        let channels = objects(result, "channels")
        if channels.isEmpty {
            lines.append("  (none)")
        } else {
            lines += table(
                header: ["RPROC", "TRANSPORT", "NAME", "SRC", "DST", "DRIVER", "RX", "TX", "PATH"],
                rows: channels.map { channel in
                    let counters = object(channel, "counters")
                    return [
                        string(channel, "rproc"), string(channel, "transport"), string(channel, "name"),
                        address(channel, "src"), address(channel, "dst"), string(channel, "driver"),
                        number(counters, "rxMessages"), number(counters, "txMessages"), path(channel),
                    ]
                })
        }
        lines += ["", "Endpoints:"]
        lines += endpoints(objects(result, "endpoints"))
        return lines
    }

    /// Created endpoints as a table ("(none)" when there are none).
    static func endpoints(_ endpoints: [JSONObject]) -> [String] {
        guard !endpoints.isEmpty else { return ["  (none)"] }
        return table(
            header: ["NAME", "RPROC", "SRC", "DST", "RX", "TX", "SOCKET"],
            rows: endpoints.map { endpoint in
                let counters = object(endpoint, "counters")
                return [
                    string(endpoint, "name"), string(endpoint, "rproc"), address(endpoint, "src"), address(endpoint, "dst"),
                    number(counters, "rxMessages"), number(counters, "txMessages"), string(endpoint, "socket"),
                ]
            })
    }

    /// `ampsoc vring`: one row per ring.
    static func vrings(_ result: JSONObject) -> [String] {
        let rings = objects(result, "vrings")
        let fifos = objects(result, "smdChannels")
        if !fifos.isEmpty {
            return table(
                header: ["SMD CHANNEL", "TABLE", "CID", "LAYOUT", "FIFO", "PHASE", "LOCAL", "REMOTE", "TX.HEAD", "TX.TAIL", "RX.HEAD", "RX.TAIL"],
                rows: fifos.map { fifo in
                    [
                        string(fifo, "name"), number(fifo, "table"), number(fifo, "cid"), string(fifo, "layout"),
                        number(fifo, "fifoSize"), string(fifo, "phase"), string(fifo, "localState"), string(fifo, "remoteState"),
                        number(fifo, "txHead"), number(fifo, "txTail"), number(fifo, "rxHead"), number(fifo, "rxTail"),
                    ]
                }, indent: "")
        }
        guard !rings.isEmpty else { return ["\(string(result, "rproc")): no vrings"] }
        return table(
            header: ["LINK", "VRING", "DA", "NUM", "NOTIFYID", "AVAIL.IDX", "USED.IDX", "AVAIL.FLAGS", "USED.FLAGS", "HOST BUFFERS"],
            rows: rings.map { ring in
                [
                    string(ring, "link"), number(ring, "index"), hexNumber(ring, "da"), number(ring, "num"),
                    number(ring, "notifyid"), number(ring, "availIndex"), number(ring, "usedIndex"),
                    hexNumber(ring, "availFlags"), hexNumber(ring, "usedFlags"), number(ring, "hostBuffers"),
                ]
            }, indent: "")
    }

    /// A received message: its text, or its hex digits with `hex` (or when it is not UTF-8).
    static func payload(_ message: JSONObject, hex: Bool) -> String {
        if !hex, case .string(let text)? = message["data"] { return text }
        return string(message, "hex")
    }

    // MARK: Helpers

    static func table(header: [String], rows: [[String]], indent: String = "  ") -> [String] {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0.indices.contains(column) ? $0[column].count : 0 }.max() ?? 0 }
        return all.map { row in
            let cells = row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] + 2 - cell.count)
            }
            return indent + cells.joined()
        }
    }

    static func string(_ object: JSONObject, _ key: String) -> String {
        switch object[key] {
        case .string(let text)?: text
        case .int(let value)?: String(value)
        case .uint(let value)?: String(value)
        case .bool(let value)?: String(value)
        default: "-"
        }
    }

    static func number(_ object: JSONObject, _ key: String) -> String { string(object, key) }

    static func hexNumber(_ object: JSONObject, _ key: String) -> String {
        switch object[key] {
        case .int(let value)? where value >= 0: "0x" + String(value, radix: 16)
        case .uint(let value)?: "0x" + String(value, radix: 16)
        default: "-"
        }
    }

    /// An rpmsg address as Linux prints it: hex, ANY (-1) as "any".
    static func address(_ object: JSONObject, _ key: String) -> String {
        if case .int(-1)? = object[key] { return "any" }
        return hexNumber(object, key)
    }

    static func path(_ channel: JSONObject) -> String {
        if case .string(let socket)? = channel["socket"] { return socket }
        if case .string(let tty)? = channel["tty"] { return tty }
        return "-"
    }

    static func object(_ object: JSONObject, _ key: String) -> JSONObject {
        if case .object(let inner)? = object[key] { return inner }
        return [:]
    }

    static func objects(_ object: JSONObject, _ key: String) -> [JSONObject] {
        guard case .array(let values)? = object[key] else { return [] }
        return values.compactMap { if case .object(let inner) = $0 { inner } else { nil } }
    }
}

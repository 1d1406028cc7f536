// JSON objects of the control protocol's results (docs/control-protocol.md, "Objects"). rpmsg addresses are
// integers with ANY (0xFFFFFFFF) written as -1, as in the event stream; payloads are carried as lowercase hex
// ("hex") and, when the bytes are valid UTF-8, also as text ("data").

import AmpJSON
import AmpRemoteproc
import AmpRpmsg
import AmpRpmsgSMD
import AmpSoC
import AmpWire

/// Builds the protocol's JSON objects from the Swift API's values.
public enum ControlJSON {
    /// An rpmsg address: ANY as -1, others as themselves.
    public static func address(_ value: UInt32) -> JSONValue {
        value == 0xFFFF_FFFF ? .int(-1) : .integer(value)
    }

    static func optional(_ text: String?) -> JSONValue {
        text.map { .string($0) } ?? .null
    }

    public static func processor(_ status: ProcessorStatus) -> JSONObject {
        [
            "name": .string(status.name), "state": .string(status.state.description), "firmware": .string(status.firmware),
            "crashCount": .integer(status.crashCount), "powerCount": .integer(status.powerCount),
            "pid": status.pid.map { .integer($0) } ?? .null,
            "recovery": .string(status.recoveryEnabled ? "enabled" : "disabled"), "coredump": .string(status.coredump.rawValue),
            "links": .array(status.links.map { .string($0) }),
        ]
    }

    public static func counters(_ counters: RpmsgEndpointCounters) -> JSONObject {
        [
            "rxMessages": .integer(counters.rxMessages), "rxBytes": .integer(counters.rxBytes),
            "txMessages": .integer(counters.txMessages), "txBytes": .integer(counters.txBytes),
        ]
    }

    public static func channel(_ status: ChannelStatus) -> JSONObject {
        [
            "rproc": .string(status.rproc), "link": .string(status.link), "transport": .string(status.transport),
            "name": .string(status.name), "src": address(status.source), "dst": address(status.destination),
            "device": .string(status.deviceName), "driver": optional(status.driver),
            "counters": .object(counters(status.counters)), "socket": optional(status.socketPath),
            "tty": optional(status.terminalPath), "bridge": status.bridge.map { .object(bridge($0)) } ?? .null,
        ]
    }

    /// An endpoint socket's or terminal's own state (docs/endpoint-sockets.md).
    public static func bridge(_ status: BridgeStatus) -> JSONObject {
        let counters = status.counters
        return [
            "mtu": .integer(status.mtu), "clientConnected": status.clientConnected.map { .bool($0) } ?? .null,
            "rxMessages": .integer(counters.rxMessages), "rxBytes": .integer(counters.rxBytes),
            "txMessages": .integer(counters.txMessages), "txBytes": .integer(counters.txBytes),
            "dropped": .integer(counters.dropped), "oversize": .integer(counters.oversize),
            "sendFailures": .integer(counters.sendFailures), "connections": .integer(counters.connections),
            "rejectedClients": .integer(counters.rejectedClients), "queued": .integer(counters.queued),
            "lastError": optional(status.lastError),
        ]
    }

    public static func endpoint(_ status: EndpointStatus) -> JSONObject {
        [
            "name": .string(status.name), "rproc": .string(status.rproc), "link": .string(status.link),
            "src": address(status.address), "dst": address(status.destination),
            "counters": .object(counters(status.counters)), "socket": optional(status.socketPath),
            "bridge": status.bridge.map { .object(bridge($0)) } ?? .null,
        ]
    }

    public static func vring(_ status: VringStatus) -> JSONObject {
        [
            "link": .string(status.link), "index": .integer(status.index), "da": .integer(status.da),
            "num": .integer(status.num), "notifyid": .integer(status.notifyID), "availIndex": .integer(status.availIndex),
            "usedIndex": .integer(status.usedIndex), "availFlags": .integer(status.availFlags),
            "usedFlags": .integer(status.usedFlags), "hostBuffers": .integer(status.hostBuffers),
        ]
    }

    /// A channel of an SMD edge with its FIFO indices (null where the remote's half is unreadable).
    public static func smdChannel(_ status: SmdRpmsgChannelStatus) -> JSONObject {
        func index(_ value: UInt32?) -> JSONValue { value.map { .integer($0) } ?? .null }
        return [
            "name": .string(status.name), "table": .integer(status.table), "cid": .integer(status.cid),
            "address": address(status.address), "layout": .string(status.layout.rawValue), "fifoSize": .integer(status.fifoSize),
            "maxPayload": .integer(status.maximumPayload), "phase": .string(status.phase.rawValue),
            "localState": .string("\(status.localState)"), "remoteState": status.remoteState.map { .string("\($0)") } ?? .null,
            "txHead": index(status.txHead), "txTail": index(status.txTail), "rxHead": index(status.rxHead),
            "rxTail": index(status.rxTail), "device": optional(status.rpmsgDevice),
        ]
    }

    /// A received message: `{"src","length","hex","data"}`; "data" is null when the payload is not UTF-8.
    public static func message(_ message: SoCMessage) -> JSONObject {
        [
            "src": address(message.source), "length": .integer(message.payload.count),
            "hex": .string(HexPayload.encode(message.payload)), "data": text(of: message.payload).map { .string($0) } ?? .null,
        ]
    }

    /// The payload as text when it is valid UTF-8.
    static func text(of bytes: [UInt8]) -> String? {
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        var result = String.UnicodeScalarView()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar): result.append(scalar)
            case .emptyInput: return String(result)
            case .error: return nil
            }
        }
    }

    /// The resource table result: header values and the table re-serialised little-endian, as hex.
    public static func resourceTable(_ table: ResourceTable, rproc: String) -> JSONObject {
        [
            "rproc": .string(rproc), "version": .integer(table.version), "count": .integer(table.offsets.count),
            "size": .integer(table.size), "byteOrder": "little",
            "hex": .string(HexPayload.encode(table.serialised(order: .little))),
        ]
    }
}

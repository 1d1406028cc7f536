import AmpJSON
import AmpSoC
import AmpSystem
import Glibc

// Messages to and from a channel's service: `send` and `recv` use the instance's standing endpoint of the
// channel (so replies to sends can be read by later requests), `call` a fresh endpoint per request.
extension ControlDispatcher {
    func send(_ arguments: ControlArguments) throws(ControlError) -> JSONObject {
        try arguments.allow(["channel", "rproc", "data", "hex"])
        let channel = try arguments.string("channel")
        let rproc = try arguments.optionalString("rproc")
        let payload = try arguments.payload()
        return try socCall { () throws(SoCError) -> JSONObject in
            try soc.send(channel: channel, rproc: rproc, payload)
            return ["channel": .string(channel), "length": .integer(payload.count)]
        }
    }

    /// Streams `count` messages of the channel's standing endpoint as they arrive; ETIMEDOUT (after the ones
    /// that came) when `timeout` passes first.
    func receive(_ arguments: ControlArguments, stream: ControlStream) throws(ControlError) -> JSONObject {
        try arguments.allow(["channel", "rproc", "count", "timeout"])
        let channel = try arguments.string("channel")
        let rproc = try arguments.optionalString("rproc")
        let count = Int(try arguments.integer("count", in: 1...1_000_000) ?? 1)
        let timeout = try arguments.seconds("timeout", default: .seconds(5))
        let deadline = MonotonicClock.deadline(after: timeout)
        var received = 0
        while received < count {
            try stream.checkCancelled()
            guard let slice = ControlStream.nextSlice(until: deadline) else {
                throw ControlError(
                    code: ETIMEDOUT, "channel \(channel): received \(received) of \(count) message(s) within \(Self.seconds(timeout))")
            }
            let message: SoCMessage
            do {
                message = try soc.receive(channel: channel, rproc: rproc, timeout: slice)
            } catch where error.errno == ETIMEDOUT {
                continue
            } catch {
                throw ControlError(error)
            }
            try stream.emit(ControlJSON.message(message))
            received += 1
        }
        return ["channel": .string(channel), "received": .integer(received)]
    }

    /// Sends from a fresh endpoint and returns the first reply.
    func call(_ arguments: ControlArguments, stream: ControlStream) throws(ControlError) -> JSONObject {
        try arguments.allow(["channel", "rproc", "data", "hex", "timeout"])
        let channel = try arguments.string("channel")
        let rproc = try arguments.optionalString("rproc")
        let payload = try arguments.payload()
        let timeout = try arguments.seconds("timeout", default: .seconds(5))
        let endpoint: SoCEndpoint
        do {
            endpoint = try soc.openEndpoint(channel: channel, rproc: rproc)
        } catch {
            throw ControlError(error)
        }
        defer { endpoint.close() }
        do {
            try endpoint.send(payload)
        } catch {
            throw ControlError(error)
        }
        let deadline = MonotonicClock.deadline(after: timeout)
        while true {
            try stream.checkCancelled()
            guard let slice = ControlStream.nextSlice(until: deadline) else {
                throw ControlError(code: ETIMEDOUT, "channel \(channel): no reply within \(Self.seconds(timeout))")
            }
            do {
                let reply = try endpoint.receive(timeout: slice)
                return ["channel": .string(channel), "message": .object(ControlJSON.message(reply))]
            } catch where error.errno == ETIMEDOUT {
                continue
            } catch {
                throw ControlError(error)
            }
        }
    }

    /// "2 s", "0.5 s".
    static func seconds(_ duration: Duration) -> String {
        let value = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        return value == value.rounded() ? "\(Int(value)) s" : "\(value) s"
    }
}

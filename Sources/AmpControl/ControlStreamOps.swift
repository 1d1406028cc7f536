import AmpJSON
import AmpRemoteproc
import AmpSoC
import AmpSystem
import Glibc

// Streaming ops: the host's event stream, and a remote's trace buffer followed as it grows.
extension ControlDispatcher {
    /// Streams every host event (the objects of `ampsoc run --events json`) until `count` events, `timeout`,
    /// the client hanging up, or the instance stopping.
    func events(_ arguments: ControlArguments, stream: ControlStream) throws(ControlError) -> JSONObject {
        try arguments.allow(["count", "timeout"])
        let count = try arguments.integer("count", in: 1...UInt64(Int.max)).map { Int($0) }
        let timeout = try arguments.optionalSeconds("timeout")
        let sent = try follow(stream: stream, count: count, timeout: timeout) { $0.json }
        return ["events": .integer(sent.count), "reason": .string(sent.reason)]
    }

    /// Without `follow`: the trace buffers' text now. With `follow`: stream items, one per line, first the
    /// lines in the buffers now, then each new line as the firmware writes it.
    func trace(_ arguments: ControlArguments, stream: ControlStream) throws(ControlError) -> JSONObject {
        try arguments.allow(["rproc", "follow", "count", "timeout"])
        let rproc = try arguments.string("rproc")
        guard try arguments.bool("follow", default: false) else {
            try arguments.allow(["rproc", "follow"])
            return try socCall { () throws(SoCError) -> JSONObject in ["rproc": .string(rproc), "text": .string(try soc.trace(rproc))] }
        }
        let count = try arguments.integer("count", in: 1...UInt64(Int.max)).map { Int($0) }
        let timeout = try arguments.optionalSeconds("timeout")
        let subscription = soc.subscribeEvents()
        defer { subscription.cancel() }
        let text: String
        do {
            text = try soc.trace(rproc)
        } catch {
            throw ControlError(error)
        }
        var sent = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            if let count, sent >= count { break }
            try stream.emit(["rproc": .string(rproc), "text": .string(String(line))])
            sent += 1
        }
        if let count, sent >= count { return ["lines": .integer(sent), "reason": "count"] }
        let live = try follow(
            stream: stream, subscription: subscription, count: count.map { $0 - sent }, timeout: timeout
        ) { event in
            guard case .trace(rproc, let line) = event else { return nil }
            return .object(["rproc": .string(rproc), "text": .string(line)])
        }
        return ["lines": .integer(sent + live.count), "reason": .string(live.reason)]
    }

    /// Forwards events of a new subscription; see ``follow(stream:subscription:count:timeout:_:)``.
    private func follow(
        stream: ControlStream, count: Int?, timeout: Duration?, _ transform: (HostEvent) -> JSONValue?
    ) throws(ControlError) -> (count: Int, reason: String) {
        let subscription = soc.subscribeEvents()
        defer { subscription.cancel() }
        return try follow(stream: stream, subscription: subscription, count: count, timeout: timeout, transform)
    }

    /// Forwards events of `subscription` that `transform` keeps, until `count` were sent ("count"), `timeout`
    /// passed ("timeout"), or the instance stopped ("shutdown"). Throws when the client went away.
    private func follow(
        stream: ControlStream, subscription: SoCEventSubscription, count: Int?, timeout: Duration?,
        _ transform: (HostEvent) -> JSONValue?
    ) throws(ControlError) -> (count: Int, reason: String) {
        let deadline = timeout.map { MonotonicClock.deadline(after: $0) } ?? UInt64.max
        var sent = 0
        while true {
            if let count, sent >= count { return (sent, "count") }
            if stream.isStopping { return (sent, "shutdown") }
            try stream.checkCancelled()
            guard let slice = ControlStream.nextSlice(until: deadline) else { return (sent, "timeout") }
            guard let event = subscription.next(timeout: slice) else {
                if subscription.isClosed { return (sent, "shutdown") }
                continue
            }
            guard case .object(let object)? = transform(event) else { continue }
            try stream.emit(object)
            sent += 1
        }
    }
}

extension ControlArguments {
    /// An optional duration in seconds.
    func optionalSeconds(_ key: String) throws(ControlError) -> Duration? {
        guard object[key] != nil, object[key] != .null else { return nil }
        return try seconds(key, default: .zero)
    }
}

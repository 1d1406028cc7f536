@testable import AmpControl
import AmpJSON
import AmpSoC
import Foundation
import Glibc
import Testing

/// The control server against a real launched SoC (ipu: services firmware, dsp: echo firmware), through
/// ``ControlClient`` and raw socket writes.
@Suite(.serialized) struct ControlServerTests {
    /// The error a request fails with (nil when it succeeds).
    func failure(_ client: ControlClient, _ op: String, _ arguments: JSONObject = [:]) -> ControlError? {
        do {
            try client.request(op, arguments, timeout: .seconds(20))
            return nil
        } catch {
            return error
        }
    }

    func string(_ object: JSONObject, _ key: String) -> String? {
        if case .string(let text)? = object[key] { return text }
        return nil
    }

    func objects(_ value: JSONValue?) -> [JSONObject] {
        guard case .array(let values)? = value else { return [] }
        return values.compactMap { if case .object(let object) = $0 { object } else { nil } }
    }

    @Test func helloListAndMessages() throws {
        let instance = try LaunchedInstance("msgs")
        defer { instance.finish() }
        let client = try instance.client()

        let hello = try client.request("hello")
        #expect(hello["protocol"] == .int(1))
        #expect(hello["instance"] == .string(instance.lock.name))
        #expect(hello["soc"] == "ctltest")
        #expect(hello["pid"] == .integer(getpid()))
        #expect(hello["socket"] == .string(instance.lock.socketPath))
        #expect(hello["endpointDirectory"] == .string(instance.lock.endpointDirectory))

        let channel = try client.request("wait-channel", ["name": "rpmsg-echo", "rproc": "dsp", "timeout": .int(20)])
        guard case .object(let echo)? = channel["channel"] else { Issue.record("no channel"); return }
        #expect(echo["rproc"] == "dsp")
        #expect(echo["transport"] == "virtio")
        #expect(echo["src"] == .int(-1))
        #expect(echo["dst"] == .int(1024))
        _ = try client.request("wait-channel", ["name": "rpmsg-client-sample", "timeout": .int(20)])

        let list = try client.request("ls")
        #expect(list["instance"] == .string(instance.lock.name))
        let processors = objects(list["processors"])
        #expect(processors.compactMap { string($0, "name") } == ["ipu", "dsp"])
        #expect(processors.allSatisfy { $0["state"] == "running" && $0["crashCount"] == .int(0) && $0["recovery"] == "enabled" })
        let channels = objects(list["channels"])
        #expect(Set(channels.compactMap { string($0, "name") }) == ["rpmsg-client-sample", "rpmsg-echo", "rpmsg-raw", "rpmsg-tty"])
        let sample = try #require(channels.first { $0["name"] == "rpmsg-client-sample" })
        #expect(sample["driver"] == "rpmsg_client_sample")
        #expect(list["endpoints"] == .array([]))

        let call = try client.request("call", ["channel": "rpmsg-echo", "rproc": "dsp", "data": "ping"])
        #expect(call["message"] == .object(["src": .int(1024), "length": .int(4), "hex": "70696e67", "data": "ping"]))
        let binary = try client.request("call", ["channel": "rpmsg-echo", "rproc": "dsp", "hex": "00ff80"])
        #expect(binary["message"] == .object(["src": .int(1024), "length": .int(3), "hex": "00ff80", "data": .null]))

        #expect(try client.request("send", ["channel": "rpmsg-echo", "rproc": "dsp", "data": "one"]) == ["channel": "rpmsg-echo", "length": .int(3)])
        try client.request("send", ["channel": "rpmsg-echo", "rproc": "dsp", "hex": "0102"])
        var received = [JSONObject]()
        let result = try client.request("recv", ["channel": "rpmsg-echo", "rproc": "dsp", "count": .int(2), "timeout": .int(10)]) { received.append($0) }
        #expect(result == ["channel": "rpmsg-echo", "received": .int(2)])
        #expect(received.map { $0["hex"] } == ["6f6e65", "0102"])

        let vrings = objects(try client.request("vring", ["rproc": "dsp"])["vrings"])
        #expect(vrings.map { $0["index"] } == [.int(0), .int(1)])
        #expect(vrings.allSatisfy { $0["link"] == "dsp.vdev0" && $0["num"] == .int(256) })
        let table = try client.request("resources", ["rproc": "dsp"])
        #expect(table["count"] == .int(3))
        #expect(table["byteOrder"] == "little")
        #expect(string(table, "hex")?.hasPrefix("0100000003000000") == true)
        let trace = try client.request("trace", ["rproc": "ipu"])
        #expect(string(trace, "text")?.contains("ampsoc-fw-services: boot on ipu") == true)
    }

    @Test func badRequestsGetErrorsAndTheConnectionSurvives() throws {
        let instance = try LaunchedInstance("errs")
        defer { instance.finish() }
        let client = try instance.client()
        _ = try client.request("wait-channel", ["name": "rpmsg-echo", "rproc": "dsp", "timeout": .int(20)])
        _ = try client.request("wait-channel", ["name": "rpmsg-echo", "rproc": "ipu", "timeout": .int(20)])

        let unknownRproc = try #require(failure(client, "start", ["rproc": "gpu"]))
        #expect(unknownRproc.code == ENODEV)
        #expect(unknownRproc.message.hasPrefix("gpu: no such remote processor in "))
        #expect(unknownRproc.message.hasSuffix("(known: ipu, dsp)"))
        let unknownChannel = try #require(failure(client, "call", ["channel": "rpmsg-nope", "data": "x"]))
        #expect(unknownChannel.code == ENOENT)
        #expect(unknownChannel.message.hasPrefix("no channel named rpmsg-nope (channels: "))
        #expect(failure(client, "send", ["channel": "rpmsg-echo", "data": "x"])?.code == EINVAL)  // on ipu and dsp
        #expect(failure(client, "start", ["rproc": "dsp"]) == ControlError(code: EBUSY, "dsp: cannot start: processor is running"))
        #expect(failure(client, "recover", ["rproc": "dsp"])?.code == EINVAL)
        #expect(failure(client, "firmware", ["rproc": "dsp", "path": "/bin/true"])?.code == EBUSY)
        let oversize = try #require(failure(client, "call", ["channel": "rpmsg-echo", "rproc": "dsp", "hex": .string(String(repeating: "ab", count: 600))]))
        #expect(oversize.code == EMSGSIZE)
        #expect(oversize.message.hasPrefix("dsp endpoint 0x"))
        #expect(failure(client, "start", [:]) == .badArgument("rproc", "missing (a string)"))
        #expect(failure(client, "start", ["rproc": .int(3)]) == .badArgument("rproc", "expected a string, found a number"))
        #expect(failure(client, "crash", ["rproc": "dsp", "kind": "meltdown"]) == .badArgument(
            "kind", "invalid value \"meltdown\": expected one of mmufault, watchdog, fatal"))
        #expect(failure(client, "ls", ["verbose": .bool(true)]) == .badArgument("verbose", "unknown argument (this op takes: none)"))
        let unknownOp = try #require(failure(client, "reboot"))
        #expect(unknownOp.code == EOPNOTSUPP)
        #expect(unknownOp.field == "op")
        let timeout = try #require(failure(client, "wait-state", ["rproc": "dsp", "state": "crashed", "timeout": .double(0.3)]))
        #expect(timeout == ControlError(code: ETIMEDOUT, "timed out after 0.3 s waiting for dsp to be crashed (it is running)"))
        #expect(failure(client, "recv", ["channel": "rpmsg-echo", "rproc": "dsp", "timeout": .double(0.2)]) == ControlError(
            code: ETIMEDOUT, "channel rpmsg-echo: received 0 of 1 message(s) within 0.2 s"))

        // Still serving, on the same connection, and the SoC lost nothing.
        #expect(try client.request("call", ["channel": "rpmsg-echo", "rproc": "dsp", "data": "still"])["message"] != nil)
        #expect(objects(try client.request("ls")["processors"]).allSatisfy { $0["state"] == "running" && $0["crashCount"] == .int(0) })
    }

    @Test func malformedLinesOversizeLinesAndVanishingClients() throws {
        let instance = try LaunchedInstance("raw")
        defer { instance.finish() }
        let client = try instance.client()
        try client.send(Array("{oops\n\n[1]\r\n".utf8))
        guard case .failure(.null, let first) = try client.readReply(timeout: .seconds(5)) else { Issue.record("no error"); return }
        #expect(first.code == EBADMSG)
        #expect(first.message.hasPrefix("malformed request: not JSON: line 1, column 2"))
        guard case .failure(.null, let second) = try client.readReply(timeout: .seconds(5)) else { Issue.record("no error"); return }
        #expect(second == ControlError(code: EBADMSG, "malformed request: expected a JSON object, one per line"))
        try client.send(Array(#"{"id":9,"op":"hello"}"#.utf8) + [10])
        guard case .success(.int(9), let hello) = try client.readReply(timeout: .seconds(5)) else { Issue.record("no reply"); return }
        #expect(hello["protocol"] == .int(1))

        // More than 1 MiB without a newline: one EMSGSIZE reply, then the server closes the connection.
        let big = try instance.client()
        try? big.send([UInt8](repeating: UInt8(ascii: "a"), count: ControlProtocol.maximumLineLength + 70_000))
        guard case .failure(.null, let tooBig) = try big.readReply(timeout: .seconds(5)) else { Issue.record("no error"); return }
        #expect(tooBig.code == EMSGSIZE)
        #expect(throws: ControlError.self) { try big.readReply(timeout: .seconds(5)) }

        // Clients that vanish: mid-line, and mid-request (a long wait). Their threads end; others are served.
        let partial = try instance.client()
        try partial.send(Array(#"{"id":1,"op":"#.utf8))
        partial.close()
        let waiting = try instance.client()
        try waiting.send(Array(#"{"id":1,"op":"wait-state","rproc":"dsp","state":"crashed","timeout":60}"#.utf8) + [10])
        Thread.sleep(forTimeInterval: 0.1)
        waiting.close()
        #expect(ControlTestSupport.poll(limit: 5) { instance.server.clientCount == 1 }, "clients: \(instance.server.clientCount)")
        #expect(try client.request("hello")["protocol"] == .int(1))
        #expect(try instance.client().request("hello")["protocol"] == .int(1))
    }

    @Test func lifecycleEventsAndTraceFollow() throws {
        let instance = try LaunchedInstance("life")
        defer { instance.finish() }
        let client = try instance.client()
        _ = try client.request("wait-channel", ["name": "rpmsg-echo", "rproc": "dsp", "timeout": .int(20)])

        let trace = try client.request("trace", ["rproc": "dsp", "follow": .bool(true), "count": .int(1)]) { line in
            #expect(line["rproc"] == "dsp")
        }
        #expect(trace == ["lines": .int(1), "reason": "count"])

        // Events seen by a second client while the first crashes the dsp.
        let watcher = try instance.client()
        let collected = EventBox()
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            // Stops reading (closing the connection) once the crash event came.
            let result = try? watcher.request("events", ["timeout": .int(20)]) { event throws(ControlError) in
                collected.append(event)
                if event["event"] == "crash" { throw ControlError(code: ECANCELED, "seen") }
            }
            collected.finish(result)
            done.signal()
        }
        #expect(ControlTestSupport.poll(limit: 5) { instance.server.clientCount == 2 })
        Thread.sleep(forTimeInterval: 0.2)
        try client.request("recovery", ["rproc": "dsp", "mode": "disabled"])
        #expect(try client.request("crash", ["rproc": "dsp", "kind": "watchdog"]) == ["rproc": "dsp", "kind": "watchdog"])
        _ = try client.request("wait-state", ["rproc": "dsp", "state": "crashed", "timeout": .int(10)])
        #expect(done.wait(timeout: .now() + 20) == .success)
        let dspEvents = collected.events.filter { $0["rproc"] == "dsp" && ($0["event"] == "state" || $0["event"] == "crash") }
        #expect(dspEvents.first == ["event": "state", "rproc": "dsp", "state": "crashed"])
        #expect(dspEvents.dropFirst().first?["type"] == "watchdog")
        #expect(collected.result == nil)
        #expect(ControlTestSupport.poll(limit: 5) { instance.server.clientCount == 1 })

        let recovered = try client.request("recover", ["rproc": "dsp"])
        guard case .object(let processor)? = recovered["processor"] else { Issue.record("no processor"); return }
        #expect(processor["recovery"] == "disabled")
        #expect(processor["crashCount"] == .int(1))
        _ = try client.request("wait-state", ["rproc": "dsp", "state": "running", "timeout": .int(10)])

        _ = try client.request("stop", ["rproc": "dsp"])
        #expect(failure(client, "trace", ["rproc": "dsp"])?.code == ENODEV)
        let firmware = try client.request("firmware", ["rproc": "dsp", "path": .string(ControlTestSupport.product("ampsoc-fw-echo"))])
        guard case .object(let offline)? = firmware["processor"] else { Issue.record("no processor"); return }
        #expect(offline["state"] == "offline")
        #expect(offline["firmware"] == .string(ControlTestSupport.product("ampsoc-fw-echo")))
        let coredump = try client.request("coredump", ["rproc": "dsp", "mode": "inline"])
        guard case .object(let dumped)? = coredump["processor"] else { Issue.record("no processor"); return }
        #expect(dumped["coredump"] == "inline")
        _ = try client.request("start", ["rproc": "dsp"])
        _ = try client.request("wait-channel", ["name": "rpmsg-echo", "rproc": "dsp", "timeout": .int(20)])
    }
}

extension ControlServerTests {
    @Test func streamsEndWithTheirFinalReplyWhenTheInstanceStops() throws {
        let instance = try LaunchedInstance("stop")
        let watcher = try instance.client()
        let box = EventBox()
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            do {
                box.finish(try watcher.request("events", timeout: .seconds(30)) { box.append($0) })
            } catch {
                box.append(["error": .string("\(error)")])
            }
            done.signal()
        }
        // Once an event arrived, the stream is running.
        let other = try instance.client()
        #expect(ControlTestSupport.poll(limit: 10) {
            _ = try? other.request("crash", ["rproc": "dsp", "kind": "fatal"])
            return !box.events.isEmpty
        })
        instance.finish()
        #expect(done.wait(timeout: .now() + 10) == .success)
        #expect(box.result?["reason"] == "shutdown", "\(box.events)")
        #expect(throws: ControlError.self) { try instance.client() }
    }
}

/// Events collected on another thread.
final class EventBox: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [JSONObject] = []
    private var final: JSONObject?

    func append(_ event: JSONObject) { lock.withLock { storage.append(event) } }
    func finish(_ result: JSONObject?) { lock.withLock { final = result } }
    var events: [JSONObject] { lock.withLock { storage } }
    var result: JSONObject? { lock.withLock { final } }
}

import AmpControl
import AmpJSON
import AmpSystem
import Foundation
import Glibc
import Testing

/// Every verb through the real `ampsoc` executable against a real `ampsoc run` in the background, bad
/// requests included, and the instance's files gone after it stops.
@Suite(.serialized) struct CLIEndToEndTests {
    /// Runs `ampsoc ARGUMENTS --name NAME` against `instance`.
    func ampsoc(_ instance: BackgroundInstance, _ arguments: String...) throws -> CLIResult {
        try AmpsocCLI.run(arguments + ["--name", instance.name], directory: instance.directory)
    }

    func ampsoc(_ instance: BackgroundInstance, list arguments: [String]) throws -> CLIResult {
        try AmpsocCLI.run(arguments + ["--name", instance.name], directory: instance.directory)
    }

    func expectOK(_ result: CLIResult, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.status == 0, "\(what): \(result.stderr)", sourceLocation: sourceLocation)
    }

    func expectFailure(_ result: CLIResult, status: Int32 = 1, _ message: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.status == status, "stdout: \(result.stdout) stderr: \(result.stderr)", sourceLocation: sourceLocation)
        #expect(result.stderr.hasPrefix("error: \(message)"), "stderr: \(result.stderr)", sourceLocation: sourceLocation)
    }

    func objects(_ value: JSONValue?) -> [JSONObject] {
        guard case .array(let values)? = value else { return [] }
        return values.compactMap { if case .object(let object) = $0 { object } else { nil } }
    }

    /// Stops `instance` and checks it exited 0 and left nothing behind.
    func stopAndCheck(_ instance: BackgroundInstance) {
        #expect(instance.stop() == 0, "stderr: \(instance.stderr)")
        let leftovers = ControlTestSupport.entries(of: instance.runtimeDirectory)
            .filter { $0.hasPrefix(instance.name + ".") }
        #expect(leftovers.isEmpty, "left in the runtime directory: \(leftovers)")
        #expect(ControlTestSupport.poll(limit: 5) { ControlTestSupport.segments(of: instance.name).isEmpty },
            "segments left: \(ControlTestSupport.segments(of: instance.name))")
    }

    @Test func everyVerbAgainstARunningInstance() throws {
        let directory = try ControlTestSupport.temporaryDirectory("verbs")
        defer { try? FileManager.default.removeItem(at: directory) }
        let profile = try ControlTestSupport.writeProfile(in: directory)
        let instance = try BackgroundInstance(name: ControlTestSupport.uniqueName("verbs"), directory: directory, profile: profile)
        #expect(instance.stdout.contains("\"control socket \(instance.runtimeDirectory)/\(instance.name).sock\"")
            || instance.stdout.contains("control socket \(instance.runtimeDirectory)/\(instance.name).sock"))
        defer { stopAndCheck(instance) }

        // wait
        expectOK(try ampsoc(instance, "wait", "channel", "rpmsg-echo", "--rproc", "dsp", "--timeout", "20"), "wait channel")
        expectOK(try ampsoc(instance, "wait", "channel", "rpmsg-tty", "--timeout", "20"), "wait channel tty")
        let waited = try ampsoc(instance, "wait", "state", "ipu", "running", "--json")
        expectOK(waited, "wait state")
        #expect(objects(.array([try waited.json()["processor"] ?? .null])).first?["name"] == "ipu")
        expectFailure(try ampsoc(instance, "wait", "state", "ipu", "crashed", "--timeout", "0.2"),
            "timed out after 0.2 s waiting for ipu to be crashed (it is running)")
        expectFailure(try ampsoc(instance, "wait", "channel", "rpmsg-none", "--timeout", "0.2"),
            "timed out after 0.2 s waiting for channel rpmsg-none")

        // ls
        let text = try ampsoc(instance, "ls")
        expectOK(text, "ls")
        #expect(text.stdout.hasPrefix("Instance \(instance.name) (SoC ctltest)\n\nRemote processors:\n  NAME  STATE    CRASHES"), "\(text.stdout)")
        #expect(text.stdout.contains("  dsp   running  0 "))
        let listed = try ampsoc(instance, "ls", "--json").json()
        #expect(objects(listed["processors"]).map { $0["name"] } == ["ipu", "dsp", "con"])
        let channels = objects(listed["channels"])
        #expect(channels.contains { $0["name"] == "rpmsg-tty" && $0["rproc"] == "con" })
        #expect(channels.contains { $0["name"] == "rpmsg-echo" && $0["rproc"] == "dsp" && $0["dst"] == .int(1024) })

        // call, send, recv
        let called = try ampsoc(instance, "call", "rpmsg-echo", "hello dsp", "--rproc", "dsp")
        expectOK(called, "call")
        #expect(called.stdout == "hello dsp\n")
        #expect(try ampsoc(instance, "call", "rpmsg-echo", "00 ff 7f", "--hex", "--rproc", "dsp").stdout == "00ff7f\n")
        let calledJSON = try ampsoc(instance, "call", "rpmsg-echo", "j", "--rproc", "dsp", "--json").json()
        #expect(calledJSON["message"] == .object(["src": .int(1024), "length": .int(1), "hex": "6a", "data": "j"]))
        expectOK(try ampsoc(instance, "send", "rpmsg-echo", "first", "--rproc", "dsp"), "send")
        expectOK(try ampsoc(instance, "send", "rpmsg-echo", "0102", "--hex", "--rproc", "dsp"), "send hex")
        #expect(try ampsoc(instance, "recv", "rpmsg-echo", "--rproc", "dsp").stdout == "first\n")
        let lines = try ampsoc(instance, "recv", "rpmsg-echo", "--rproc", "dsp", "--json").jsonLines()
        #expect(lines == [["src": .int(1024), "length": .int(2), "hex": "0102", "data": .string("\u{1}\u{2}")]])
        expectFailure(try ampsoc(instance, "recv", "rpmsg-echo", "--rproc", "dsp", "--count", "2", "--timeout", "0.3"),
            "channel rpmsg-echo: received 0 of 2 message(s) within 0.3 s")

        // live views
        let rings = try ampsoc(instance, "vring", "dsp")
        #expect(rings.stdout.hasPrefix("LINK       VRING  DA      NUM  NOTIFYID  AVAIL.IDX  USED.IDX  AVAIL.FLAGS  USED.FLAGS  HOST BUFFERS\ndsp.vdev0  0      0x0     256  "), "\(rings.stdout)")
        #expect(objects(try ampsoc(instance, "vring", "dsp", "--json").json()["vrings"]).count == 2)
        #expect(try ampsoc(instance, "resources", "dsp").stdout.hasPrefix("Resource table: version 1, 3 entries, "))
        let table = try ampsoc(instance, "resources", "dsp", "--json").json()
        #expect(objects(table["entries"]).map { $0["kind"] } == ["carveout", "trace", "vdev"])
        #expect(try ampsoc(instance, "trace", "ipu").stdout.contains("ampsoc-fw-services: boot on ipu"))
        let followed = try ampsoc(instance, "trace", "dsp", "--follow", "--count", "2", "--json").jsonLines()
        #expect(followed.count == 2)
        #expect(followed.allSatisfy { $0["rproc"] == "dsp" })

        // rproc lifecycle
        expectOK(try ampsoc(instance, "rproc", "dsp", "stop"), "stop")
        expectOK(try ampsoc(instance, "wait", "state", "dsp", "offline"), "wait offline")
        expectFailure(try ampsoc(instance, "rproc", "dsp", "stop"), "dsp: cannot stop: processor is offline")
        expectFailure(try ampsoc(instance, "trace", "dsp"), "dsp: no trace buffers: processor is offline")
        expectOK(try ampsoc(instance, "rproc", "dsp", "firmware", ControlTestSupport.product("ampsoc-fw-echo")), "firmware")
        expectOK(try ampsoc(instance, "rproc", "dsp", "coredump", "enabled"), "coredump")
        expectOK(try ampsoc(instance, "rproc", "dsp", "recovery", "disabled"), "recovery")
        expectOK(try ampsoc(instance, "rproc", "dsp", "start"), "start")
        expectFailure(try ampsoc(instance, "rproc", "dsp", "start"), "dsp: cannot start: processor is running")
        expectFailure(try ampsoc(instance, "rproc", "dsp", "firmware", "/bin/true"), "dsp")
        expectOK(try ampsoc(instance, "wait", "channel", "rpmsg-echo", "--rproc", "dsp", "--timeout", "20"), "wait again")

        // events while the dsp crashes (recovery is disabled: it stays crashed until `recover`)
        let events = try EventsProcess(instance: instance, arguments: ["events", "--json", "--count", "2", "--timeout", "20"])
        Thread.sleep(forTimeInterval: 0.4)
        expectOK(try ampsoc(instance, "rproc", "dsp", "crash", "mmufault"), "crash")
        let streamed = try events.finish()
        #expect(streamed.status == 0, "\(streamed.stderr)")
        #expect(try streamed.jsonLines().first == ["event": "state", "rproc": "dsp", "state": "crashed"])
        expectOK(try ampsoc(instance, "wait", "state", "dsp", "crashed"), "wait crashed")
        expectOK(try ampsoc(instance, "rproc", "dsp", "recover"), "recover")
        expectOK(try ampsoc(instance, "wait", "state", "dsp", "running"), "wait running")
        let dsp = objects(try ampsoc(instance, "ls", "--json").json()["processors"]).first { $0["name"] == "dsp" }
        #expect(dsp?["crashCount"] == .int(1))
        #expect(dsp?["recovery"] == "disabled")
        #expect(dsp?["coredump"] == "enabled")

        // Endpoint sockets: a channel named rpmsg-raw gets one, the console's rpmsg-tty a terminal.
        let channelsNow = objects(try ampsoc(instance, "ls", "--json").json()["channels"])
        let rawChannel = try #require(channelsNow.first { $0["name"] == "rpmsg-raw" })
        guard case .int(let rawSource)? = rawChannel["src"] else { Issue.record("no src: \(rawChannel)"); return }
        #expect(rawChannel["driver"] == "rpmsg_raw")
        #expect(rawChannel["socket"] == .string("\(instance.runtimeDirectory)/\(instance.name).d/ipu.vdev0.rpmsg-raw.\(rawSource)"))
        if case .object(let bridge)? = rawChannel["bridge"] {
            #expect(bridge["mtu"] == .int(496))
            #expect(bridge["clientConnected"] == .bool(false))
            #expect(bridge["oversize"] == .int(0))
        } else {
            Issue.record("no bridge: \(rawChannel)")
        }
        let tty = try #require(channelsNow.first { $0["name"] == "rpmsg-tty" })
        if case .string(let terminal)? = tty["tty"] { #expect(terminal.hasPrefix("/dev/pts/")) } else { Issue.record("no tty: \(tty)") }

        // ept create / ls / destroy, and a message through the endpoint's SOCK_SEQPACKET socket.
        let created = try ampsoc(instance, "ept", "create", "probe", "--rproc", "dsp", "--dst", "1024")
        expectOK(created, "ept create")
        let socketPath = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(socketPath == "\(instance.runtimeDirectory)/\(instance.name).d/ept.dsp.probe")
        let endpointSocket = try UnixSocket.connect(to: socketPath, kind: .seqpacket)
        try endpointSocket.send([0x00, 0x42, 0x43])
        #expect(try endpointSocket.waitReadable(timeout: .seconds(10)))
        #expect(try endpointSocket.receive(maxLength: 1024) == .message(bytes: [0x00, 0x42, 0x43], length: 3))
        endpointSocket.close()
        let endpoints = objects(try ampsoc(instance, "ept", "ls", "--json").json()["endpoints"])
        #expect(endpoints.count == 1)
        #expect(endpoints.first?["name"] == "probe")
        #expect(endpoints.first?["dst"] == .int(1024))
        #expect(endpoints.first?["counters"].map { if case .object(let c) = $0 { c["txMessages"] == .int(1) && c["rxMessages"] == .int(1) } else { false } } == true)
        #expect(try ampsoc(instance, "ls").stdout.contains("\nEndpoints:\n  NAME   RPROC  SRC"))
        expectFailure(try ampsoc(instance, "ept", "create", "probe", "--rproc", "dsp"), "endpoint probe exists already")
        expectFailure(try ampsoc(instance, "ept", "create", "other", "--rproc", "gpu"), "gpu: no such remote processor")
        expectFailure(try ampsoc(instance, "ept", "create", "other"), status: 2, "missing option --rproc")
        expectOK(try ampsoc(instance, "ept", "destroy", "probe"), "ept destroy")
        #expect(!FileManager.default.fileExists(atPath: socketPath))
        expectFailure(try ampsoc(instance, "ept", "destroy", "probe"), "no endpoint named probe")
        #expect(try ampsoc(instance, "ept", "ls").stdout == "  (none)\n")

        // bad requests: the thing at fault is named, exit 1; command-line mistakes exit 2
        expectFailure(try ampsoc(instance, "rproc", "gpu", "start"), "gpu: no such remote processor")
        expectFailure(try ampsoc(instance, "call", "rpmsg-nope", "x"), "no channel named rpmsg-nope (channels: ")
        expectFailure(try ampsoc(instance, "send", "rpmsg-echo", "x"), "channel rpmsg-echo exists on several links")
        let oversize = String(repeating: "ab", count: 600)
        let tooBig = try ampsoc(instance, list: ["send", "rpmsg-echo", oversize, "--hex", "--rproc", "ipu"])
        expectFailure(tooBig, "ipu endpoint 0x")
        expectFailure(try ampsoc(instance, "rproc", "dsp", "crash"), status: 2, "missing argument VALUE for 'crash'")
        expectFailure(try ampsoc(instance, "send", "rpmsg-echo", "zz", "--hex"), status: 2, "invalid DATA 'zz' for --hex")
        expectFailure(try AmpsocCLI.run(["ls", "--name", "no/such"], directory: directory), status: 2, "invalid value for --name")
        expectFailure(try AmpsocCLI.run(["ls", "--name", "absent"], directory: directory), "no running ampsoc instance named 'absent'")

        // Raw malformed input and a client that hangs up mid-request, over the real socket.
        let raw = try ControlClient.connect(socketPath: "\(instance.runtimeDirectory)/\(instance.name).sock")
        try raw.send(Array("not json at all\n".utf8))
        guard case .failure(_, let error) = try raw.readReply(timeout: .seconds(5)) else { Issue.record("no error reply"); return }
        #expect(error.code == EBADMSG)
        let hangUp = try ControlClient.connect(socketPath: "\(instance.runtimeDirectory)/\(instance.name).sock")
        try hangUp.send(Array(#"{"id":1,"op":"call","channel":"rpmsg-echo","rproc":"dsp","data":"x","timeout":30}"#.utf8) + [10])
        hangUp.close()
        #expect(try raw.request("hello")["instance"] == .string(instance.name))
        expectOK(try ampsoc(instance, "call", "rpmsg-echo", "after", "--rproc", "dsp"), "call after bad clients")
    }

    @Test func namesSecondInstancesAndDefaults() throws {
        let directory = try ControlTestSupport.temporaryDirectory("names")
        defer { try? FileManager.default.removeItem(at: directory) }
        let profile = try ControlTestSupport.writeProfile(in: directory, console: false)
        expectFailure(try AmpsocCLI.run(["ls"], directory: directory), "no running ampsoc instance (runtime directory ")

        let first = try BackgroundInstance(name: ControlTestSupport.uniqueName("one"), directory: directory, profile: profile)
        defer { stopAndCheck(first) }
        #expect(try AmpsocCLI.run(["ls", "--json"], directory: directory).json()["instance"] == .string(first.name))

        let twin = try BackgroundInstance(name: first.name, directory: directory, profile: profile, waitForSocket: false)
        #expect(twin.waitForExit() == 1)
        #expect(twin.stderr == "error: an ampsoc instance named '\(first.name)' is already running (pid \(first.process.processIdentifier), "
            + "control socket \(first.runtimeDirectory)/\(first.name).sock); stop it or choose another --name\n")

        let second = try BackgroundInstance(name: ControlTestSupport.uniqueName("two"), directory: directory, profile: profile)
        let several = try AmpsocCLI.run(["ls"], directory: directory)
        let names = [first.name, second.name].sorted().joined(separator: ", ")
        expectFailure(several, "several ampsoc instances are running (\(names)); choose one with --name")
        #expect(try ampsoc(second, "ls", "--json").json()["instance"] == .string(second.name))
        #expect(try ampsoc(first, "ls", "--json").json()["instance"] == .string(first.name))
        stopAndCheck(second)
        #expect(try AmpsocCLI.run(["ls", "--json"], directory: directory).json()["instance"] == .string(first.name))
    }
}

/// A streaming verb (`ampsoc events`) running in the background.
final class EventsProcess {
    let process = Process()
    private let out = Pipe(), err = Pipe()

    init(instance: BackgroundInstance, arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: ControlTestSupport.product("ampsoc"))
        process.arguments = arguments + ["--name", instance.name]
        process.environment = AmpsocCLI.environment(instance.directory)
        process.standardOutput = out
        process.standardError = err
        try process.run()
    }

    func finish() throws -> CLIResult {
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CLIResult(
            status: process.terminationStatus, stdout: String(decoding: data, as: UTF8.self), stderr: String(decoding: errors, as: UTF8.self))
    }
}

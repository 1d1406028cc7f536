import Foundation
import Testing

/// The control protocol from a program in another language: a short python3 client (python3 is part of
/// the CI image; without it this test fails, naming what is missing).
@Suite(.serialized) struct PythonClientTests {
    static let script = #"""
        import json, socket, sys

        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(sys.argv[1])
        pending = b""

        def read_line():
            global pending
            while b"\n" not in pending:
                chunk = sock.recv(65536)
                if not chunk:
                    sys.exit("connection closed by the instance")
                pending += chunk
            line, pending = pending.split(b"\n", 1)
            return json.loads(line)

        def request(op, **arguments):
            sock.sendall((json.dumps(dict(id=op, op=op, **arguments)) + "\n").encode())
            items = []
            while True:
                reply = read_line()
                assert reply["id"] == op, reply
                if "event" in reply:
                    items.append(reply["event"])
                    continue
                return reply, items

        def check(condition, what):
            if not condition:
                sys.exit("FAILED: " + what)

        reply, _ = request("hello")
        check(reply["ok"] and reply["result"]["protocol"] == 1, "hello: %r" % reply)
        reply, _ = request("wait-channel", name="rpmsg-echo", rproc="dsp", timeout=20)
        check(reply["ok"] and reply["result"]["channel"]["dst"] == 1024, "wait-channel: %r" % reply)
        reply, _ = request("ls")
        check([p["name"] for p in reply["result"]["processors"]] == ["ipu", "dsp"], "ls: %r" % reply)
        reply, _ = request("call", channel="rpmsg-echo", rproc="dsp", hex="00ff41")
        message = reply["result"]["message"]
        check(message["hex"] == "00ff41" and message["data"] is None and message["length"] == 3, "call: %r" % reply)
        reply, _ = request("send", channel="rpmsg-echo", rproc="dsp", data="py")
        check(reply["ok"], "send: %r" % reply)
        reply, items = request("recv", channel="rpmsg-echo", rproc="dsp", count=1, timeout=10)
        check(reply["ok"] and [m["data"] for m in items] == ["py"], "recv: %r %r" % (reply, items))
        reply, _ = request("start", rproc="dsp")
        check(not reply["ok"] and reply["error"]["errno"] == "EBUSY", "start: %r" % reply)
        reply, _ = request("fly")
        check(not reply["ok"] and reply["error"]["errno"] == "EOPNOTSUPP" and reply["error"]["field"] == "op", "fly: %r" % reply)
        sock.sendall(b"{broken\n")
        reply = read_line()
        check(reply["id"] is None and reply["error"]["errno"] == "EBADMSG", "malformed: %r" % reply)
        reply, _ = request("hello")
        check(reply["ok"], "hello after errors: %r" % reply)

        # An endpoint with a socket of its own (the /dev/rpmsgN equivalent): one message per send and recv.
        reply, _ = request("ept-create", name="py", rproc="dsp", dst=1024)
        check(reply["ok"], "ept-create: %r" % reply)
        endpoint = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        endpoint.connect(reply["result"]["endpoint"]["socket"])
        endpoint.send(b"\x00binary\xff")
        check(endpoint.recv(4096) == b"\x00binary\xff", "endpoint echo")
        endpoint.close()
        reply, _ = request("ept-destroy", name="py")
        check(reply["ok"], "ept-destroy: %r" % reply)
        print("OK")
        """#

    @Test func aPythonClientSpeaksTheProtocol() throws {
        guard let python = Self.findPython() else {
            Issue.record("python3 is required for this test and was not found on PATH (\(ProcessInfo.processInfo.environment["PATH"] ?? ""))")
            return
        }
        let instance = try LaunchedInstance("py")
        defer { instance.finish() }
        let scriptURL = instance.directory.appendingPathComponent("client.py")
        try Self.script.write(to: scriptURL, atomically: true, encoding: .utf8)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [scriptURL.path, instance.lock.socketPath]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "python3 client failed: \(stderr)")
        #expect(stdout == "OK\n")
    }

    /// python3 on PATH, if any.
    static func findPython() -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/python3"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}

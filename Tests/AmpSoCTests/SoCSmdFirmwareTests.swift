import AmpRemoteproc
import AmpSoC
import AmpWire
import Foundation
import Synchronization
import Testing

/// The sample firmware, unchanged, over SMD: the remote-core runtime creates and serves one channel per named
/// endpoint in the smem region when the profile says `"rpmsgTransport": "smd"`.
@Suite(.serialized)
struct SoCSmdFirmwareTests {
    /// An MSM8660-like profile: the modem runs the echo firmware on SMD edge 0 and boots after the adsp, which
    /// runs the client-sample firmware on SMD edge 1.
    static func profile() throws -> (URL, String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ampsoc-smdfw-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        func remote(_ name: String, firmware: String, edge: Int, ipcPA: String, smemDA: String) -> [String: Any] {
            [
                "name": name, "coreType": "hexagon", "firmware": SoCTestProfile.product(firmware),
                "rpmsgTransport": "smd", "smdEdge": edge, "recovery": true, "coredump": "disabled",
                "bootAfter": name == "modem" ? ["adsp"] : [String](),
                "memory": [
                    ["name": "ipc", "kind": "carveout", "da": "0x9F000000", "pa": ipcPA, "size": "0x100000"],
                    ["name": "smem", "kind": "smem", "da": smemDA, "pa": smemDA, "size": "0x100000"],
                ],
            ]
        }
        let object: [String: Any] = [
            "soc": "msm8660fw", "host": ["coreType": "scorpion", "cores": 2],
            "remoteprocs": [
                remote("adsp", firmware: "ampsoc-fw-client-sample", edge: 1, ipcPA: "0x8D300000", smemDA: "0x40000000"),
                remote("modem", firmware: "ampsoc-fw-echo", edge: 0, ipcPA: "0x8D200000", smemDA: "0x40100000"),
            ],
        ]
        let path = directory.appendingPathComponent("smdfw.json")
        try JSONSerialization.data(withJSONObject: object).write(to: path)
        return (directory, path.path)
    }

    @Test func theSampleFirmwareServesOverSmdAndRecovers() throws {
        let (directory, path) = try Self.profile()
        var options = SoCOptions(name: "smdfw\(UInt32.random(in: 0...UInt32.max))")
        options.coredumpDirectory = directory.path
        let goodbyes = Atomic<Int>(0)
        let incoming = Mutex<[String]>([])
        options.onEvent = { event in
            guard case .driver("rpmsg_client_sample", _, let text) = event else { return }
            if text == "goodbye!" { goodbyes.add(1, ordering: .relaxed) }
            if text.hasPrefix("incoming msg ") { incoming.withLock { $0.append(text) } }
        }
        let soc = try EmulatedSoC.launch(profilePath: path, options: options)
        defer { try? SoCTestProfile.finish(soc, directory: directory) }
        #expect(try soc.processor("modem").links == ["modem.smd"])
        #expect(try soc.processor("adsp").links == ["adsp.smd"])

        // The echo firmware's endpoint is channel 0 of table 0 on the modem's edge.
        let echo = try soc.waitForChannel("rpmsg-echo", rproc: "modem", timeout: .seconds(20))
        #expect(echo.transport == "smd")
        #expect(echo.link == "modem.smd")
        #expect(echo.destination == 0x4000)
        #expect(try soc.call(channel: "rpmsg-echo", rproc: "modem", [0x5A], timeout: .seconds(5)).payload == [0x5A])
        let large = (0..<400).map { UInt8(truncatingIfNeeded: $0 * 7) }
        #expect(try soc.call(channel: "rpmsg-echo", rproc: "modem", large, timeout: .seconds(5)).payload == large)

        // The host's rpmsg_client_sample driver ping-pongs 100 messages with the client-sample firmware.
        let sample = try soc.waitForChannel("rpmsg-client-sample", rproc: "adsp", timeout: .seconds(20))
        #expect(sample.transport == "smd")
        #expect(sample.driver == "rpmsg_client_sample")
        let deadline = Date().addingTimeInterval(20)
        while goodbyes.load(ordering: .relaxed) == 0, Date() < deadline { usleep(10_000) }
        #expect(goodbyes.load(ordering: .relaxed) == 1)
        let lines = incoming.withLock { $0 }
        #expect(lines.count == 100)
        // Packets of the adsp's only channel come from its pseudo address 0x4000 + table 0 * 64 + cid 0.
        #expect(lines.last == "incoming msg 100 (src: 0x4000)")

        // A crash resets the modem's channel; the recovered firmware creates and serves it again.
        let events = soc.subscribeEvents()
        try soc.crash("modem", .fatalError)
        try soc.waitForState("modem", .running, timeout: .seconds(15))
        var destroyed = false
        while let event = events.next(timeout: .milliseconds(300)) {
            if case .channel("modem", .destroy, "rpmsg-echo", _, _) = event { destroyed = true }
        }
        #expect(destroyed)
        _ = try soc.waitForChannel("rpmsg-echo", rproc: "modem", timeout: .seconds(15))
        #expect(try soc.call(channel: "rpmsg-echo", rproc: "modem", [1, 2, 3], timeout: .seconds(5)).payload == [1, 2, 3])

        // Stop takes the channel away; start brings it back.
        try soc.stop("modem")
        #expect(try soc.channels(rproc: "modem").isEmpty)
        try soc.start("modem")
        try soc.waitForState("modem", .running, timeout: .seconds(15))
        _ = try soc.waitForChannel("rpmsg-echo", rproc: "modem", timeout: .seconds(15))
        #expect(try soc.call(channel: "rpmsg-echo", rproc: "modem", Array("again".utf8), timeout: .seconds(5)).payload
            == Array("again".utf8))
        // The adsp was not disturbed.
        #expect(try soc.channels(rproc: "adsp").map(\.name) == ["rpmsg-client-sample"])
    }
}

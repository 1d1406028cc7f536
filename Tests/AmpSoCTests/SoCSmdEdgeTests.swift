import AmpRemoteproc
import AmpRpmsgSMD
import AmpSMD
import AmpSoC
import AmpSystem
import AmpWire
import Foundation
import Synchronization
import Testing

/// The remote end of an SMD edge, played by a thread of the test on the remote's real segment (as a
/// Qualcomm modem would: it creates its channels in SMEM, opens them and echoes what arrives), beside the
/// remote's firmware process, which does not speak SMD itself.
final class FakeSmdRemote: @unchecked Sendable {
    private let stopping = Atomic<Bool>(false)
    /// Set to make the remote write garbage into its channel's info (the apps' rx.head) and kick the host.
    let misbehave = Atomic<Bool>(false)
    private let done = DispatchSemaphore(value: 0)
    let failures = Mutex<[String]>([])

    /// Attaches to the segment of `rproc` in instance `instance` and serves an echo channel called `channel`.
    init(instance: String, rproc: String, channel: String) throws {
        let entry = try #require(
            try FileManager.default.contentsOfDirectory(atPath: "/dev/shm").first {
                $0.contains(".\(instance).") && $0.hasSuffix(".\(rproc)")
            })
        let segment = try SharedMemorySegment.open(name: "/" + entry)
        let records = try segment.read(at: 0, count: ControlBlock.size)
        let reader = ByteReader(records, order: .host)
        let count = Int(try reader.u32(at: ControlBlock.regionCountOffset, field: "regionCount"))
        let smem = try #require(
            try (0..<count).map { try MemoryRegionRecord.parse(reader, at: ControlBlock.regionRecordOffset($0)) }
                .first { $0.kind == .smem })
        let placement = SmdEdgePlacement(
            smemOffset: Int(smem.segmentOffset), smemSize: Int(smem.size), spinlockOffset: ControlBlock.smemLockOffset)
        let edge = SmdRemoteEdge(heap: try placement.heap(in: segment, owner: 2), edgeID: 0)
        let toHost = try Doorbell(segment: segment, mailboxOffset: ControlBlock.mailboxToHostOffset, kind: .futex)
        let engine = try edge.createChannel(name: channel, fifoSize: 1024, layout: .byte)
        let infoItem = try edge.heap.item(SmdConstants.allocTables[engine.table].infoItem(cid: engine.cid))
        let garbageAt = infoItem.offset + engine.layout.offset(of: .rx) + engine.layout.headOffset
        _ = engine.remoteOpen()
        try toHost.ring(notifyID: 0)
        // The engines are used by the thread alone from here on.
        let handedOver = HandedOver(edge: edge, engine: engine, segment: segment)
        let thread = Thread { [self] in
            let edge = handedOver.edge
            let engine = handedOver.engine
            var outbox = [[UInt8]]()
            while !stopping.load(ordering: .acquiring) {
                if misbehave.exchange(false, ordering: .acquiringAndReleasing) {
                    (edge.heap.region.base + garbageAt).storeBytes(of: UInt32(0xFFFF_FFF0).littleEndian, as: UInt32.self)
                    try? toHost.ring(notifyID: 0)
                }
                do {
                    let result = try edge.handleInterrupt { _, payload in
                        outbox.append(Array(payload))
                        return true
                    }
                    var kick = result.kickHost
                    while let next = outbox.first, engine.state == .opened, try engine.send(next) == .sent {
                        outbox.removeFirst()
                        kick = true
                    }
                    if kick { try toHost.ring(notifyID: 0) }
                } catch {
                    failures.withLock { $0.append("\(error)") }
                    break
                }
                usleep(1_000)
            }
            withExtendedLifetime(handedOver.segment) {}
            done.signal()
        }
        thread.start()
    }

    func stop() {
        stopping.store(true, ordering: .releasing)
        done.wait()
    }

    /// The remote's engines, handed from the constructor to the remote's thread.
    private struct HandedOver: @unchecked Sendable {
        let edge: SmdRemoteEdge
        let engine: SmdChannel
        let segment: SharedMemorySegment
    }
}

/// A remote processor whose profile says `"rpmsgTransport": "smd"`: the host prepares SMEM, discovers the
/// channels the remote creates, opens them, puts them on the rpmsg bus by name, and resets them on a crash.
@Suite(.serialized)
struct SoCSmdEdgeTests {
    static func profile(withVirtioNeighbour: Bool = false) throws -> (URL, String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ampsoc-smd-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let neighbour: [String: Any] = [
            "name": "dsp", "coreType": "c64x", "firmware": SoCTestProfile.product("ampsoc-fw-echo"), "doorbell": "eventfd",
            "coredump": "disabled", "memory": SoCTestProfile.dspMemory,
        ]
        let object: [String: Any] = [
            "soc": "msm8660smd", "host": ["coreType": "scorpion", "cores": 2],
            "remoteprocs": (withVirtioNeighbour ? [neighbour] : []) + [[
                "name": "modem", "coreType": "hexagon", "firmware": SoCTestProfile.product("ampsoc-fw-basic"),
                "rpmsgTransport": "smd", "smdEdge": 0, "recovery": true, "coredump": "disabled",
                "memory": [
                    ["name": "ipc", "kind": "carveout", "da": "0x9F000000", "pa": "0x8D200000", "size": "0x100000"],
                    ["name": "smem", "kind": "smem", "da": "0x40000000", "pa": "0x40000000", "size": "0x100000"],
                ],
            ] as [String: Any]],
        ]
        let path = directory.appendingPathComponent("smd.json")
        try JSONSerialization.data(withJSONObject: object).write(to: path)
        return (directory, path.path)
    }

    @Test func aRemoteWritingGarbageIntoSmdStructuresCrashesAloneAndIsRecovered() throws {
        let (directory, path) = try Self.profile(withVirtioNeighbour: true)
        var options = SoCOptions(name: "smdbad\(UInt32.random(in: 0...UInt32.max))")
        options.coredumpDirectory = directory.path
        let soc = try EmulatedSoC.launch(profilePath: path, options: options)
        defer { try? SoCTestProfile.finish(soc, directory: directory) }
        let events = soc.subscribeEvents()
        let remote = try FakeSmdRemote(instance: soc.name, rproc: "modem", channel: "rpmsg-echo")
        _ = try soc.waitForChannel("rpmsg-echo", rproc: "modem", timeout: .seconds(10))
        _ = try soc.waitForChannel("rpmsg-echo", rproc: "dsp", timeout: .seconds(20))

        remote.misbehave.store(true, ordering: .releasing)
        var crash: String?
        while crash == nil, let event = events.next(timeout: .seconds(10)) {
            if case .crash("modem", let type, let detail) = event { crash = "\(type): \(detail)" }
        }
        remote.stop()
        let detail = try #require(crash)
        #expect(detail.hasPrefix("fatal error: rpmsg protocol violation: modem.smd:"))
        #expect(detail.contains("head"))
        // The host keeps running and the other remote keeps serving; the bad one is recovered.
        #expect(try soc.call(channel: "rpmsg-echo", rproc: "dsp", [5, 6], timeout: .seconds(5)).payload == [5, 6])
        try soc.waitForState("modem", .running, timeout: .seconds(10))
        #expect(try soc.processor("modem").crashCount == 1)
    }

    @Test func channelsOfAnSmdEdgeAreOnTheBusAndResetOnACrash() throws {
        let (directory, path) = try Self.profile()
        var options = SoCOptions(name: "smd\(UInt32.random(in: 0...UInt32.max))")
        options.coredumpDirectory = directory.path
        let soc = try EmulatedSoC.launch(profilePath: path, options: options)
        defer { try? SoCTestProfile.finish(soc, directory: directory) }
        #expect(try soc.processor("modem").links == ["modem.smd"])

        let remote = try FakeSmdRemote(instance: soc.name, rproc: "modem", channel: "rpmsg-echo")
        let channel = try soc.waitForChannel("rpmsg-echo", rproc: "modem", timeout: .seconds(10))
        #expect(channel.transport == "smd")
        #expect(channel.link == "modem.smd")
        #expect(channel.destination == SmdRpmsgAddress.address(table: 0, cid: 0))
        #expect(try soc.call(channel: "rpmsg-echo", rproc: "modem", Array("over smd".utf8), timeout: .seconds(5)).payload
            == Array("over smd".utf8))
        #expect(try soc.call(channel: "rpmsg-echo", rproc: "modem", [UInt8](repeating: 7, count: 400), timeout: .seconds(5))
            .payload.count == 400)
        // The live FIFO view (`ampsoc vring`): two packets each way, 20-byte header + payload each.
        let fifo = try #require(try soc.smdChannels("modem").first)
        #expect(fifo.name == "rpmsg-echo" && fifo.phase == .open && fifo.fifoSize == 1024 && fifo.layout == .byte)
        #expect(fifo.txHead == UInt32((20 + 8 + 20 + 400) % 1024))
        #expect(fifo.rxTail == fifo.txHead)

        // A crash takes the edge down (the channel goes away) and the recovered remote gets a fresh heap.
        let events = soc.subscribeEvents()
        try soc.crash("modem", .fatalError)
        try soc.waitForState("modem", .running, timeout: .seconds(10))
        remote.stop()
        #expect(remote.failures.withLock { $0 }.isEmpty)
        var destroyed = false
        while let event = events.next(timeout: .milliseconds(300)) {
            if case .channel("modem", .destroy, "rpmsg-echo", _, _) = event { destroyed = true }
        }
        #expect(destroyed)
        #expect(try soc.channels(rproc: "modem").isEmpty)

        let again = try FakeSmdRemote(instance: soc.name, rproc: "modem", channel: "rpmsg-echo")
        defer { again.stop() }
        _ = try soc.waitForChannel("rpmsg-echo", rproc: "modem", timeout: .seconds(10))
        #expect(try soc.call(channel: "rpmsg-echo", rproc: "modem", [1, 2, 3], timeout: .seconds(5)).payload == [1, 2, 3])
    }
}

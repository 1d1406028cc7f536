import AmpRemoteproc
import AmpSoC
import AmpTestSupport
import AmpWire
import Foundation
import Glibc
import Testing

/// The Swift API against a real topology: two firmware processes, real shared memory and doorbells.
@Suite(.serialized)
struct EmulatedSoCTests {
    @Test func launchListsProcessorsAndChannelsAndAnEchoServiceAnswers() throws {
        let (soc, directory) = try SoCTestProfile.launch(label: "basic")
        defer { try? SoCTestProfile.finish(soc, directory: directory) }
        #expect(soc.bootFailures.isEmpty)

        let echo = try soc.waitForChannel("rpmsg-echo", rproc: "dsp", timeout: .seconds(20))
        #expect(echo.rproc == "dsp")
        #expect(echo.link == "dsp.vdev0")
        #expect(echo.transport == "virtio")
        #expect(echo.destination >= 1024)
        _ = try soc.waitForChannel("rpmsg-client-sample", rproc: "ipu", timeout: .seconds(20))

        let processors = try soc.processors()
        #expect(processors.map(\.name) == ["ipu", "dsp"])
        #expect(processors.allSatisfy { $0.state == .running && $0.powerCount == 1 && $0.pid != nil })
        #expect(processors[0].links == ["ipu.vdev0"])

        let reply = try soc.call(channel: "rpmsg-echo", rproc: "dsp", Array("hello, dsp".utf8), timeout: .seconds(5))
        #expect(reply.payload == Array("hello, dsp".utf8))
        #expect(reply.source == echo.destination)

        // The standing endpoint: sends now, replies read by later requests, in order.
        try soc.send(channel: "rpmsg-echo", rproc: "dsp", [1, 2, 3])
        try soc.send(channel: "rpmsg-echo", rproc: "dsp", [4])
        #expect(try soc.receive(channel: "rpmsg-echo", rproc: "dsp", timeout: .seconds(5)).payload == [1, 2, 3])
        #expect(try soc.receive(channel: "rpmsg-echo", rproc: "dsp", timeout: .seconds(5)).payload == [4])

        // The client sample driver bound its channel on the ipu.
        let channels = try soc.channels(rproc: "ipu")
        let sample = try #require(channels.first { $0.name == "rpmsg-client-sample" })
        #expect(sample.driver == "rpmsg_client_sample")

        // Live views.
        let table = try soc.resourceTable("dsp")
        #expect(table.entries.count == 3)
        let rings = try soc.vrings("dsp")
        #expect(rings.map(\.index) == [0, 1])
        #expect(rings.allSatisfy { $0.num == 256 && $0.link == "dsp.vdev0" })
        // Every receive buffer is posted (the link may hold a few for a moment after traffic, until its
        // service thread's last pass posts them again).
        #expect(try eventually { try soc.vrings("dsp")[0].hostBuffers == 256 })
        let trace = try soc.trace("ipu")
        #expect(trace.contains("ampsoc-fw-services: boot on ipu"))
    }

    @Test func crashesAreRecoveredAndServicesComeBack() throws {
        let (soc, directory) = try SoCTestProfile.launch(label: "crash")
        defer { try? SoCTestProfile.finish(soc, directory: directory) }
        _ = try soc.waitForChannel("rpmsg-echo", rproc: "dsp", timeout: .seconds(20))
        let events = soc.subscribeEvents()
        let before = try #require(try soc.processor("dsp").pid)

        try soc.crash("dsp", .mmuFault)
        try soc.waitForState("dsp", .running, timeout: .seconds(20))
        let after = try soc.processor("dsp")
        #expect(after.crashCount == 1)
        #expect(after.pid != before)
        _ = try soc.waitForChannel("rpmsg-echo", rproc: "dsp", timeout: .seconds(20))
        #expect(try soc.call(channel: "rpmsg-echo", rproc: "dsp", [9, 9], timeout: .seconds(5)).payload == [9, 9])

        var seen = [HostEvent]()
        while let event = events.next(timeout: .milliseconds(200)) { seen.append(event) }
        #expect(seen.contains(.state(rproc: "dsp", state: .crashed)))
        #expect(seen.contains { if case .crash("dsp", "mmufault", _) = $0 { true } else { false } })
        #expect(seen.contains(.state(rproc: "dsp", state: .running)))
        #expect(seen.contains { if case .channel("dsp", .destroy, "rpmsg-echo", _, _) = $0 { true } else { false } })

        // Stop and start through the API; the endpoint of an old channel is gone.
        let endpoint = try soc.openEndpoint(channel: "rpmsg-echo", rproc: "dsp")
        let stopEvents = soc.subscribeEvents()
        try soc.stop("dsp")
        #expect(try soc.processor("dsp").state == .offline)
        #expect(endpoint.isClosed)
        // What the firmware traced while stopping is reported before it goes offline.
        var stopTrace = [String]()
        while let event = stopEvents.next(timeout: .milliseconds(200)) {
            if case .trace("dsp", let text) = event { stopTrace.append(text) }
            if event == .state(rproc: "dsp", state: .offline) { break }
        }
        #expect(stopTrace.contains { $0.hasPrefix("ampsoc-fw-echo: stopping after echoing") })
        stopEvents.cancel()
        #expect(throws: SoCError.self) { try endpoint.send([1]) }
        do {
            _ = try endpoint.receive(timeout: .seconds(30))
            Issue.record("a receive on a dead endpoint returned a message")
        } catch {
            #expect(error.errnoName == "ENODEV")
        }
        try soc.start("dsp")
        try soc.waitForState("dsp", .running, timeout: .seconds(5))
        _ = try soc.waitForChannel("rpmsg-echo", rproc: "dsp", timeout: .seconds(20))
        events.cancel()
        #expect(events.isClosed)
    }

    @Test func badRequestsGetErrnoErrorsAndTheSoCKeepsServing() throws {
        let (soc, directory) = try SoCTestProfile.launch(label: "errors", recovery: false)
        defer { try? SoCTestProfile.finish(soc, directory: directory) }
        _ = try soc.waitForChannel("rpmsg-echo", rproc: "dsp", timeout: .seconds(20))

        func errno(_ body: () throws(SoCError) -> Void) -> String? {
            do {
                try body()
                return nil
            } catch {
                return error.errnoName
            }
        }
        #expect(errno { () throws(SoCError) in try soc.start("dsp") } == "EBUSY")
        #expect(errno { () throws(SoCError) in try soc.start("gpu") } == "ENODEV")
        #expect(errno { () throws(SoCError) in try soc.setFirmware("dsp", path: "other") } == "EBUSY")
        #expect(errno { () throws(SoCError) in try soc.recover("dsp") } == "EINVAL")
        #expect(errno { () throws(SoCError) in _ = try soc.call(channel: "no-such", [1], timeout: .seconds(1)) } == "ENOENT")
        #expect(errno { () throws(SoCError) in _ = try soc.call(channel: "rpmsg-client-sample", rproc: "dsp", [1], timeout: .seconds(1)) } == "ENOENT")
        // Both remotes serve rpmsg-echo (the ipu's services firmware too): without a processor it is ambiguous.
        #expect(errno { () throws(SoCError) in _ = try soc.call(channel: "rpmsg-echo", [1], timeout: .seconds(1)) } == "EINVAL")
        #expect(errno { () throws(SoCError) in try soc.send(channel: "rpmsg-echo", rproc: "dsp", [UInt8](repeating: 0, count: 497)) } == "EMSGSIZE")
        #expect(errno { () throws(SoCError) in _ = try soc.receive(channel: "rpmsg-echo", rproc: "dsp", timeout: .milliseconds(50)) } == "ETIMEDOUT")
        do {
            try soc.waitForState("dsp", .crashed, timeout: .milliseconds(100))
            Issue.record("the wait did not time out")
        } catch {
            #expect(error.errnoName == "ETIMEDOUT")
            #expect(error.message.contains("dsp to be crashed"))
            #expect(error.message.contains("(it is running)"))
        }

        // Without recovery a crash leaves the processor crashed; recover brings it back.
        try soc.crash("dsp", .fatalError)
        try soc.waitForState("dsp", .crashed, timeout: .seconds(5))
        #expect(errno { () throws(SoCError) in try soc.crash("dsp", .watchdog) } == "EINVAL")
        try soc.recover("dsp")
        try soc.waitForState("dsp", .running, timeout: .seconds(5))
        _ = try soc.waitForChannel("rpmsg-echo", rproc: "dsp", timeout: .seconds(20))

        // Offline: firmware may change (a missing file fails the next start with ENOENT, naming it).
        try soc.stop("dsp")
        #expect(errno { () throws(SoCError) in try soc.stop("dsp") } == "EINVAL")
        #expect(errno { () throws(SoCError) in _ = try soc.trace("dsp") } == "ENODEV")
        try soc.setFirmware("dsp", path: "/nonexistent/fw-missing")
        do {
            try soc.start("dsp")
            Issue.record("start with missing firmware succeeded")
        } catch {
            #expect(error.errnoName == "ENOENT")
            #expect(error.message.contains("fw-missing"))
        }
        #expect(try soc.processor("dsp").state == .offline)
        try soc.setFirmware("dsp", path: SoCTestProfile.product("ampsoc-fw-echo"))
        try soc.start("dsp")
        _ = try soc.waitForChannel("rpmsg-echo", rproc: "dsp", timeout: .seconds(20))
        #expect(try soc.call(channel: "rpmsg-echo", rproc: "dsp", [7], timeout: .seconds(5)).payload == [7])
    }

    @Test func aBadProfileIsRefusedNamingTheFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ampsoc-soc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("broken.json").path
        try Data("{\"soc\": \"x\", \"host\": {}}".utf8).write(to: URL(fileURLWithPath: path))
        do {
            _ = try EmulatedSoC.launch(profilePath: path)
            Issue.record("a broken profile launched")
        } catch {
            #expect(error.errnoName == "EINVAL")
            #expect(error.message.contains("broken.json"))
        }
    }

    @Test func requestsAfterShutdownFailWithENODEV() throws {
        let (soc, directory) = try SoCTestProfile.launch(label: "after")
        let subscription = soc.subscribeEvents()
        try SoCTestProfile.finish(soc, directory: directory)
        soc.shutdown()  // idempotent
        #expect(throws: SoCError.self) { _ = try soc.processors() }
        do {
            _ = try soc.waitForChannel("rpmsg-echo", timeout: .seconds(1))
        } catch {
            #expect(error.errnoName == "ENODEV")
        }
        while subscription.next(timeout: .seconds(1)) != nil {}
        #expect(subscription.isClosed)
    }
}

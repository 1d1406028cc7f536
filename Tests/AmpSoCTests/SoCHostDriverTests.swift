import AmpRpmsg
import AmpSoC
import Foundation
import Synchronization
import Testing

/// A host driver of the test's own, as docs/host-drivers.md shows: it binds the echo service, sends a
/// greeting on probe and counts the echoes.
final class GreetingDriver: RpmsgDriver {
    let name = "greeting"
    let idTable = ["rpmsg-echo"]
    let replies = Mutex<[[UInt8]]>([])
    let removed = Atomic<Int>(0)

    func probe(_ channel: RpmsgChannel) throws(RpmsgError) {
        try channel.send(Array("hello from a driver".utf8))
    }

    func remove(_ channel: RpmsgChannel) {
        removed.add(1, ordering: .relaxed)
    }

    func callback(_ channel: RpmsgChannel, payload: [UInt8], source: UInt32) {
        replies.withLock { $0.append(payload) }
        channel.log("echo \(payload.count) bytes from 0x\(String(source, radix: 16))")
    }
}

@Suite(.serialized)
struct SoCHostDriverTests {
    @Test func aDriverGivenInTheOptionsProbesEveryMatchingChannel() throws {
        let (directory, path) = try SoCTestProfile.write()
        let driver = GreetingDriver()
        var options = SoCOptions(name: "apidrv\(UInt32.random(in: 0...UInt32.max))")
        options.drivers = [driver]
        let logged = Mutex<[String]>([])
        options.onEvent = { event in
            if case .driver("greeting", _, let text) = event { logged.withLock { $0.append(text) } }
        }
        let soc = try EmulatedSoC.launch(profilePath: path, options: options)
        defer { try? SoCTestProfile.finish(soc, directory: directory) }
        for rproc in ["ipu", "dsp"] {
            let channel = try soc.waitForChannel("rpmsg-echo", rproc: rproc, timeout: .seconds(20))
            #expect(channel.driver == "greeting")
        }
        let deadline = Date().addingTimeInterval(5)
        while driver.replies.withLock({ $0.count }) < 2, Date() < deadline { usleep(5_000) }
        #expect(driver.replies.withLock { $0 } == [Array("hello from a driver".utf8), Array("hello from a driver".utf8)])
        // Driver output reaches the main loop's event stream shortly after the callback.
        while logged.withLock({ $0.count }) < 2, Date() < deadline { usleep(5_000) }
        let lines = logged.withLock { $0 }
        #expect(lines.count == 2)
        #expect(lines.allSatisfy { $0.hasPrefix("echo 19 bytes from 0x") })
        try soc.stop("dsp")
        #expect(driver.removed.load(ordering: .relaxed) == 1)
    }

    @Test func aDriverWhoseNameIsTakenIsRefused() throws {
        let (directory, path) = try SoCTestProfile.write()
        defer { try? FileManager.default.removeItem(at: directory) }
        final class Clash: RpmsgDriver {
            let name = "rpmsg_raw"
            let idTable = ["x"]
            func probe(_ channel: RpmsgChannel) throws(RpmsgError) {}
            func remove(_ channel: RpmsgChannel) {}
            func callback(_ channel: RpmsgChannel, payload: [UInt8], source: UInt32) {}
        }
        var options = SoCOptions(name: "apiclash\(UInt32.random(in: 0...UInt32.max))")
        options.drivers = [Clash()]
        do {
            let soc = try EmulatedSoC.launch(profilePath: path, options: options)
            soc.shutdown()
            Issue.record("a clashing driver name was accepted")
        } catch {
            #expect(error.message.contains("host driver rpmsg_raw"))
        }
    }
}

import AmpSoC
import AmpSystem
import Foundation
import Glibc
import Testing

/// Endpoint sockets ("rpmsg-raw" channels, created endpoints) and terminals ("rpmsg-tty" channels) of a
/// launched SoC, used through real sockets and a real pseudo-terminal.
@Suite(.serialized)
struct SoCSocketAndTerminalTests {
    /// Sends `payload` on a SEQPACKET socket and returns the next message read from it.
    func roundTrip(_ socket: UnixSocket, _ payload: [UInt8]) throws -> [UInt8] {
        #expect(try socket.send(payload))
        #expect(try socket.waitReadable(timeout: .seconds(5)))
        guard case .message(let bytes, let length) = try socket.receive(maxLength: 4096) else {
            Issue.record("no message on the socket")
            return []
        }
        #expect(length == bytes.count)
        return bytes
    }

    @Test func rawChannelsAndCreatedEndpointsAreSeqpacketSockets() throws {
        let (soc, directory) = try SoCTestProfile.launch(label: "sockets")
        defer { try? SoCTestProfile.finish(soc, directory: directory) }
        let raw = try soc.waitForChannel("rpmsg-raw", rproc: "ipu", timeout: .seconds(20))
        let socketPath = try #require(raw.socketPath)
        #expect(socketPath.hasPrefix(soc.socketDirectory + "/"))
        #expect(raw.driver == "rpmsg_raw")
        var info = stat()
        #expect(stat(socketPath, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600)
        #expect(info.st_mode & S_IFMT == S_IFSOCK)

        let client = try UnixSocket.connect(to: socketPath, kind: .seqpacket)
        defer { client.close() }
        #expect(try roundTrip(client, Array("raw hello".utf8)) == Array("raw hello".utf8))
        #expect(try roundTrip(client, [UInt8](repeating: 0x5A, count: 496)).count == 496)

        // An endpoint with a socket of its own, sending to the dsp's echo service.
        let echo = try soc.waitForChannel("rpmsg-echo", rproc: "dsp", timeout: .seconds(20))
        let created = try soc.createEndpoint(rproc: "dsp", name: "probe", destination: echo.destination)
        #expect(created.address >= 1024)
        #expect(created.link == "dsp.vdev0")
        let path = try #require(created.socketPath)
        #expect(soc.endpointsStatus().map(\.name) == ["probe"])
        do {
            _ = try soc.createEndpoint(rproc: "dsp", name: "probe", destination: echo.destination)
            Issue.record("a second endpoint of the same name was created")
        } catch {
            #expect(error.errnoName == "EEXIST")
        }
        #expect(throws: SoCError.self) { _ = try soc.createEndpoint(rproc: "dsp", name: "bad/name") }
        let endpointClient = try UnixSocket.connect(to: path, kind: .seqpacket)
        #expect(try roundTrip(endpointClient, [1, 2, 3, 4]) == [1, 2, 3, 4])
        #expect(soc.endpointsStatus().first?.counters.rxMessages == 1)
        endpointClient.close()

        try soc.destroyEndpoint(name: "probe")
        #expect(!FileManager.default.fileExists(atPath: path))
        #expect(soc.endpointsStatus().isEmpty)
        #expect(throws: SoCError.self) { try soc.destroyEndpoint(name: "probe") }

        // An endpoint goes away with its remote: the socket closes and disappears.
        let doomed = try soc.createEndpoint(rproc: "dsp", name: "doomed", destination: echo.destination)
        let doomedPath = try #require(doomed.socketPath)
        try soc.stop("dsp")
        let deadline = MonotonicClock.deadline(after: .seconds(5))
        while FileManager.default.fileExists(atPath: doomedPath), MonotonicClock.nanoseconds() < deadline {
            usleep(10_000)
        }
        #expect(!FileManager.default.fileExists(atPath: doomedPath))
        #expect(soc.endpointsStatus().isEmpty)
    }

    @Test func rpmsgTTYChannelsGetAPseudoTerminalWithTheFirmwareConsole() throws {
        let (soc, directory) = try SoCTestProfile.launch(label: "tty", dspFirmware: "ampsoc-fw-console")
        defer { try? SoCTestProfile.finish(soc, directory: directory) }
        let console = try soc.waitForChannel("rpmsg-tty", rproc: "dsp", timeout: .seconds(20))
        let terminal = try #require(console.terminalPath)
        #expect(terminal.hasPrefix("/dev/pts/"))
        #expect(console.driver == "rpmsg_tty")

        let fd = open(terminal, O_RDWR | O_NOCTTY | O_CLOEXEC)
        try #require(fd >= 0, "cannot open \(terminal): errno \(errno)")
        defer { Glibc.close(fd) }
        var raw = termios()
        tcgetattr(fd, &raw)
        cfmakeraw(&raw)
        tcsetattr(fd, TCSANOW, &raw)
        let command = Array("echo over the tty\r".utf8)
        #expect(command.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } == command.count)

        var output = [UInt8]()
        let deadline = MonotonicClock.deadline(after: .seconds(5))
        while !String(decoding: output, as: UTF8.self).contains("over the tty\r\n"), MonotonicClock.nanoseconds() < deadline {
            var ready = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&ready, 1, 100) > 0 else { continue }
            var buffer = [UInt8](repeating: 0, count: 512)
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count > 0 { output += buffer.prefix(count) }
        }
        let text = String(decoding: output, as: UTF8.self)
        // The console echoes what is typed, then runs the command.
        #expect(text.contains("echo over the tty"))
        #expect(text.contains("over the tty\r\n"))
    }
}

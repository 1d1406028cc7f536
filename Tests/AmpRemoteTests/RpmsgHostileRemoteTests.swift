import AmpSystem
import AmpTestSupport
import AmpVirtio
import AmpWire
import Glibc
import Testing

/// ampsoc-fw-hostile writes what each --mode promises into vring0 after DRIVER_OK, and the host's driver side
/// (VirtqueueDriver, as the host's virtio rpmsg transport uses it) catches it.
@Suite(.serialized) struct RpmsgHostileRemoteTests {
    /// Spawns the hostile firmware in `mode`, completes the probe and takes its name-service announcement.
    private func start(_ mode: String) throws -> RpmsgVirtioHost {
        let rpmsg = try RpmsgVirtioHost(host: try TestHost())
        try rpmsg.spawn("ampsoc-fw-hostile", arguments: ["--mode", mode, "--after-ms", "20"])
        try rpmsg.postRxBuffers()
        try rpmsg.setDriverOK()
        #expect(try rpmsg.receive()?.bytes == RpmsgVirtioHost.nameServiceBytes("rpmsg-hostile", address: 0x400, flags: 0))
        return rpmsg
    }

    private func waitForTrace(_ rpmsg: RpmsgVirtioHost, _ line: String) throws {
        #expect(try eventually { try rpmsg.host.traceLines().contains(line) }, "trace has no \"\(line)\"")
    }

    /// The first violation the host's RX ring reports.
    private func rxViolation(_ rpmsg: RpmsgVirtioHost) throws -> VirtqueueError? {
        var caught: VirtqueueError?
        _ = eventually {
            do throws(VirtqueueError) {
                _ = try rpmsg.rx.takeUsed()
                return false
            } catch {
                caught = error
                return true
            }
        }
        return caught
    }

    @Test(arguments: [
        ("used-idx-jump", "used.idx 1 -> 301",
         "vring0: used.idx = 301: jumps 300 entries past the last consumed index 1, but only 256 buffers are in flight"),
        ("used-id-range", "used.ring[1] = {id 261, len 16}", "vring0: used.ring[1].id = 261: not below num 256"),
        ("used-len", "used.ring[1] = {id 1, len 4096}", "vring0: used.ring[1].len = 4096: exceeds the 512 bytes posted in descriptor 1"),
    ])
    func usedRingGarbageIsCaughtByTheHost(mode: String, written: String, violation: String) throws {
        let rpmsg = try start(mode)
        try waitForTrace(rpmsg, "ampsoc-fw-hostile: \(mode): \(written)")
        let error = try #require(try rxViolation(rpmsg))
        #expect(error.code == .protocolViolation)
        #expect(error.message == violation)
        #expect(try rpmsg.stop() == .exited(0))
    }

    @Test func aHeaderLengthPastTheBufferFailsToParse() throws {
        let rpmsg = try start("header-len")
        try waitForTrace(rpmsg, "ampsoc-fw-hostile: header-len: desc[1] returned with len 24 and rpmsg_hdr.len 1000")
        var used: (token: Int, length: UInt32)?
        #expect(try eventually {
            used = try rpmsg.rx.takeUsed()
            return used != nil
        })
        let (index, length) = try #require(used)
        #expect(index == 1 && length == 24)
        let buffer = try rpmsg.host.segment.read(
            at: RpmsgVirtioHost.segmentOffset(RpmsgVirtioHost.bufferAddress(index)), count: RpmsgVirtioHost.bufferSize)
        #expect(throws: WireError(field: "rpmsg_hdr.len", offset: 12, reason: "payload length 1000 exceeds the 8 valid bytes after the header")) {
            try RpmsgMessage.parse(buffer, order: .host, validLength: Int(length))
        }
        #expect(try rpmsg.stop() == .exited(0))
    }

    @Test func aDescriptorScribbleOverwritesTheWholeTable() throws {
        let rpmsg = try start("desc-scribble")
        try waitForTrace(rpmsg, "ampsoc-fw-hostile: desc-scribble: all 256 descriptors scribbled")
        let table = try rpmsg.host.segment.read(at: RpmsgVirtioHost.segmentOffset(0x9F04_0000), count: 256 * 16)
        var writer = ByteWriter(count: 16, order: .host)
        writer.put(UInt64(0xDEAD_BEEF_DEAD_BEEF), at: 0)
        writer.put(UInt32.max, at: 8)
        writer.put(UInt16(5), at: 12)
        writer.put(UInt16.max, at: 14)
        #expect(table == Array([[UInt8]](repeating: writer.bytes, count: 256).joined()))
        // The host's driver never reads descriptors back: its ring still works.
        #expect(try rpmsg.rx.takeUsed() == nil)
        #expect(try rpmsg.stop() == .exited(0))
    }

    @Test func aMissingModeIsAUsageError() throws {
        let host = try TestHost()
        let remote = try host.spawn("ampsoc-fw-hostile")
        #expect(try remote.waitForExit() == .exited(2))
        #expect(remote.standardError().hasPrefix("ampsoc-fw-hostile: --mode is required\nusage: ampsoc-fw-hostile --mode "))
    }
}

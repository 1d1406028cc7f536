import AmpRemoteproc
import AmpRpmsgVirtio
import AmpSystem
import AmpWire
import Foundation
import Synchronization
import Testing

/// A remote that corrupts its ring: the host reports the violation, treats it as a fatal error of that
/// remote, recovers it, and rpmsg works again. The corruption is written by the test through its own
/// mapping of the remote's segment while the remote is idle (as a buggy firmware would).
@Suite(.serialized) struct VirtioRpmsgViolationTests {
    @Test func ringViolationIsAFatalErrorAndTheRemoteRecovers() throws {
        let topology = try RpmsgTopology(label: "violate")
        defer { topology.finish() }
        topology.host.bootAutomatically()
        let sample = topology.host.rpmsgClientSample
        #expect(try topology.run(until: { sample.isComplete }))
        let ipu = try topology.rproc("ipu")
        let link = try #require(ipu.rpmsgLinks.first)
        #expect(link.name == "ipu.vdev0")

        // Map the ipu's segment and move vring0's used.idx 300 entries ahead (only 256 buffers are posted).
        let entry = try #require(
            try FileManager.default.contentsOfDirectory(atPath: "/dev/shm").first {
                $0.contains(".\(topology.instance).") && $0.hasSuffix(".ipu")
            })
        let segment = try SharedMemorySegment.open(name: "/" + entry)
        let ring = link.layout.receive
        let vring = try VringLayout(num: ring.num, align: ring.align)
        let usedIdx = (segment.base + ring.segmentOffset + vring.usedIdxOffset)
            .bindMemory(to: Atomic<UInt16>.self, capacity: 1)
        let consumed = usedIdx.pointee.load(ordering: .acquiring)
        #expect(consumed == 101)  // the announcement and 100 echoes
        usedIdx.pointee.store(consumed &+ 300, ordering: .releasing)
        let toHost = try Doorbell(segment: segment, mailboxOffset: ControlBlock.mailboxToHostOffset, kind: .futex)
        try toHost.ring(notifyID: ring.notifyID)

        let detail = "vring0: used.idx = 401: jumps 300 entries past the last consumed index 101, but only 256 buffers are in flight"
        #expect(try topology.run(until: { ipu.crashCount == 1 && topology.channelEvents(of: "ipu").count == 3 }))
        #expect(topology.has(.error(rproc: "ipu", message: "ipu.vdev0: invalid inbound message: \(detail)")))
        #expect(topology.has(.crash(rproc: "ipu", type: "fatal error", detail: "rpmsg protocol violation: ipu.vdev0: \(detail)")))
        #expect(link.failure == detail)
        #expect(link.counters.violations == 1)
        // Recovered: a new boot, a new link, and the client sample runs to the end once more.
        #expect(ipu.state == .running)
        #expect(ipu.rpmsgLinks.first !== link)
        #expect(try topology.run(until: {
            topology.driverOutput(of: "rpmsg_client_sample").filter { $0 == "goodbye!" }.count == 2
        }))
        #expect(topology.channelEvents(of: "ipu").map(\.action) == [.create, .destroy, .create])
        #expect(try topology.rproc("dsp").crashCount == 0)
    }
}

extension RpmsgTopology {
    func has(_ event: HostEvent) -> Bool { events.events.contains(event) }
}

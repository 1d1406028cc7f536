// ampsoc-fw-hostile: a remote that breaks the virtio ring protocol on purpose, for testing that the host
// validates everything it reads from a remote's vring0 and reports the remote as crashed instead of trusting
// or trapping. It behaves like a normal rpmsg device until the host's driver sets DRIVER_OK (announcing the
// endpoint "rpmsg-hostile", which ignores messages), then, --after-ms later (default 100), writes one kind of
// garbage into vring0 and rings the host with vring0's notify id:
//
//   used-idx-jump   used.idx advanced by num + 44, more entries than the host has buffers in flight
//   used-id-range   one used element whose id is num + 5 (not a descriptor index)
//   used-len        one used element for a real buffer with len 4096, beyond its 512 bytes
//   header-len      a real buffer returned with used len 24 but rpmsg_hdr.len 1000 (past the buffer)
//   desc-scribble   every descriptor overwritten (address 0xdeadbeefdeadbeef, len 0xffffffff,
//                   NEXT|INDIRECT, next 0xffff); a host that keeps its own shadow never reads them
//
// Then it keeps heartbeating and obeys stop, like any remote: the host decides what happens.
// Usage: ampsoc-fw-hostile --mode MODE [--after-ms MS] [--wait-trace-ms MS] [--send-timeout-ms MS]

import AmpRemote
import AmpSampleSupport
import AmpSampleTable
import AmpWire

/// The protocol violations this firmware can commit.
enum HostileMode: String, CaseIterable {
    case usedIndexJump = "used-idx-jump"
    case usedIDOutOfRange = "used-id-range"
    case usedLengthTooLong = "used-len"
    case headerLengthTooLong = "header-len"
    case descriptorScribble = "desc-scribble"
}

var commandLine = SampleCommandLine(
    program: "ampsoc-fw-hostile",
    usage: "usage: ampsoc-fw-hostile --mode \(HostileMode.allCases.map(\.rawValue).joined(separator: "|")) "
        + "[--after-ms MILLISECONDS] \(RpmsgSampleOptions.usage)")
var rpmsgOptions = RpmsgSampleOptions()
var chosenMode: HostileMode?
var afterMilliseconds: Int64 = 100
while let option = commandLine.next() {
    if rpmsgOptions.accept(option, from: &commandLine) { continue }
    switch option {
    case "--mode": chosenMode = commandLine.choice(for: option, HostileMode.self)
    case "--after-ms": afterMilliseconds = commandLine.number(for: option, in: 0...86_400_000)
    default: commandLine.unknown(option)
    }
}
guard let mode = chosenMode else { commandLine.fail("--mode is required") }
let configuration = rpmsgOptions.configuration

/// Commits `mode`'s violation on vring0 and returns what was written, for the trace.
func misbehave(_ mode: HostileMode, core: RemoteCore, rpmsg: RpmsgRemoteDevice, endpoint: RpmsgRemoteEndpoint) throws -> String {
    let ring = try HostileRing(core: core, info: rpmsg.vrings[0])
    let used = ring.usedIndex
    let num = UInt32(ring.layout.num)
    switch mode {
    case .usedIndexJump:
        let jumped = used &+ UInt16(truncatingIfNeeded: num + 44)
        ring.publishUsedIndex(jumped)
        return "used.idx \(used) -> \(jumped)"
    case .usedIDOutOfRange:
        ring.writeUsedElement(at: used, id: num + 5, length: 16)
        ring.publishUsedIndex(used &+ 1)
        return "used.ring[\(ring.layout.slot(of: used))] = {id \(num + 5), len 16}"
    case .usedLengthTooLong:
        let buffer = try endpoint.getTxBuffer(wait: false)
        ring.writeUsedElement(at: used, id: UInt32(buffer.descriptorIndex), length: 4096)
        ring.publishUsedIndex(used &+ 1)
        return "used.ring[\(ring.layout.slot(of: used))] = {id \(buffer.descriptorIndex), len 4096}"
    case .headerLengthTooLong:
        let buffer = try endpoint.getTxBuffer(wait: false)
        guard let payload = buffer.payload.baseAddress else { throw WireError(field: "buffer", offset: 0, reason: "empty") }
        let header = RpmsgHeader(source: endpoint.address, destination: endpoint.destination == RpmsgRemoteEndpoint.addressAny ? 0x400 : endpoint.destination, length: 1000)
        UnsafeMutableRawBufferPointer(start: payload - RpmsgHeader.size, count: RpmsgHeader.size).copyBytes(from: header.serialized(order: .host))
        UnsafeMutableRawBufferPointer(start: payload, count: 8).copyBytes(from: Array("hostile!".utf8))
        ring.writeUsedElement(at: used, id: UInt32(buffer.descriptorIndex), length: UInt32(RpmsgHeader.size + 8))
        ring.publishUsedIndex(used &+ 1)
        return "desc[\(buffer.descriptorIndex)] returned with len 24 and rpmsg_hdr.len 1000"
    case .descriptorScribble:
        ring.scribbleDescriptors()
        return "all \(num) descriptors scribbled"
    }
}

RemoteCore.run { core in
    core.trace("ampsoc-fw-hostile: boot on \(core.rprocName) (generation \(core.environment.generation)), mode \(mode.rawValue)")
    let rpmsg = try core.startRpmsg(configuration)
    let endpoint = try rpmsg.createEndpoint(name: "rpmsg-hostile") { _ in }
    var done = false
    rpmsg.onReady {
        guard !done else { return }
        done = true
        core.loop.after(.milliseconds(afterMilliseconds)) {
            do {
                let what = try misbehave(mode, core: core, rpmsg: rpmsg, endpoint: endpoint)
                core.trace("ampsoc-fw-hostile: \(mode.rawValue): \(what)")
                core.notifyHost(rpmsg.vrings[0].notifyID)
            } catch {
                core.trace("ampsoc-fw-hostile: \(mode.rawValue) not possible: \(error)")
            }
        }
    }
}

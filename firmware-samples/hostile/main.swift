// ampsoc-fw-hostile: a remote that breaks the virtio ring protocol on purpose, for testing that the host
// validates everything it reads from a remote's vrings and reports the remote as crashed instead of trusting
// or trapping. It behaves like a normal rpmsg device until the host's driver sets DRIVER_OK (announcing the
// endpoint "rpmsg-hostile", which traces every message it receives and otherwise ignores it), then, --after-ms
// later (default 100), writes one kind of garbage and rings the host with the vring's notify id:
//
//   used-idx-jump     used.idx advanced by num + 44, more entries than the host has buffers in flight
//   used-id-range     one used element whose id is num + 5 (not a descriptor index)
//   used-id-unposted  on vring1: the first message from the host is held (its buffer stays in flight) and
//                     one used element names descriptor num - 1, which the host never posted
//   used-len          one used element for a real buffer with len 4096, beyond its 512 bytes
//   header-len        a real buffer returned with used len 24 but rpmsg_hdr.len 1000 (past the buffer)
//   desc-scribble     every descriptor overwritten (address 0xdeadbeefdeadbeef, len 0xffffffff,
//                     NEXT|INDIRECT, next 0xffff); a host that keeps its own shadow never reads them
//   desc-loop         every descriptor chained into one loop (WRITE|NEXT, next = index + 1 mod num), then a
//                     real buffer returned with a well-formed message "looping chain" to the host's address
//                     (learned from its first message); a host that never follows chains delivers it once
//   avail-idx-jump    avail.idx of both vrings (the host's own field) advanced by num + 44; a host that keeps
//                     its own avail index never reads it back and rewrites it on its next publish
//
// The first five break the host's rules: the host must report a crash. The last three only write fields
// the host never reads: the host must carry on as if nothing happened. The timer starts at DRIVER_OK, or at
// the first message from the host with --trigger message (used-id-unposted and desc-loop always wait for
// that message). Then it keeps heartbeating and obeys stop, like any remote: the host decides what happens.
// Usage: ampsoc-fw-hostile --mode MODE [--after-ms MS] [--trigger ready|message] [--wait-trace-ms MS]
//        [--send-timeout-ms MS]

import AmpRemote
import AmpSampleSupport
import AmpSampleTable

var commandLine = SampleCommandLine(
    program: "ampsoc-fw-hostile",
    usage: "usage: ampsoc-fw-hostile --mode \(HostileMode.allCases.map(\.rawValue).joined(separator: "|")) "
        + "[--after-ms MILLISECONDS] [--trigger ready|message] \(RpmsgSampleOptions.usage)")
var rpmsgOptions = RpmsgSampleOptions()
var chosenMode: HostileMode?
var chosenTrigger = HostileTrigger.ready
var afterMilliseconds: Int64 = 100
while let option = commandLine.next() {
    if rpmsgOptions.accept(option, from: &commandLine) { continue }
    switch option {
    case "--mode": chosenMode = commandLine.choice(for: option, HostileMode.self)
    case "--after-ms": afterMilliseconds = commandLine.number(for: option, in: 0...86_400_000)
    case "--trigger": chosenTrigger = commandLine.choice(for: option, HostileTrigger.self)
    default: commandLine.unknown(option)
    }
}
guard let mode = chosenMode else { commandLine.fail("--mode is required") }
let trigger = mode.needsHostMessage ? HostileTrigger.message : chosenTrigger
let configuration = rpmsgOptions.configuration

RemoteCore.run { core in
    core.trace("ampsoc-fw-hostile: boot on \(core.rprocName) (generation \(core.environment.generation)), mode \(mode.rawValue)")
    let rpmsg = try core.startRpmsg(configuration)
    let hostile = try HostileEndpoint(
        core: core, rpmsg: rpmsg, mode: mode, trigger: trigger, after: .milliseconds(afterMilliseconds))
    core.loop.onStop { withExtendedLifetime(hostile) {} }
}

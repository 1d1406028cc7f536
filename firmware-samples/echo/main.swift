// ampsoc-fw-echo: an rpmsg echo service. It creates the endpoint "rpmsg-echo", announced to the host through
// the name service once the host's virtio driver sets DRIVER_OK, and sends every message it receives back to
// its source. Until DRIVER_OK it traces a "still waiting" diagnostic every second (or --wait-trace-ms) and
// keeps heartbeating; it stops when the host asks.
//
// Usage: ampsoc-fw-echo [--mode copy|zero-copy|try|hold] [--lifetime-ms MS] [--wait-trace-ms MS] [--send-timeout-ms MS]
//   --mode copy       reply with a blocking send of a copy (default)
//   --mode zero-copy  reply through getTxBuffer + sendNoCopy
//   --mode try        reply with trySend (no free buffer: the failure is traced)
//   --mode hold       hold every received buffer; a message "release" releases them all
//   --lifetime-ms MS  destroy the endpoint MS after start (the host gets a name-service DESTROY)
//   --wait-trace-ms   how often to trace "still waiting" before DRIVER_OK (default 1000)
//   --send-timeout-ms how long a reply waits for a transmit buffer (default 15000)
// Started by the ampsoc host with the AMPSOC_* environment (docs/shared-memory.md); its resource table comes
// from the AmpSampleTable target (an rpmsg vdev with two vrings of 256, a trace buffer, a carveout).

import AmpRemote
import AmpSampleSupport
import AmpSampleTable

var commandLine = SampleCommandLine(
    program: "ampsoc-fw-echo",
    usage: "usage: ampsoc-fw-echo [--mode copy|zero-copy|try|hold] [--lifetime-ms MILLISECONDS] \(RpmsgSampleOptions.usage)")
var rpmsgOptions = RpmsgSampleOptions()
var mode = EchoMode.copy
var lifetimeMilliseconds: Int64?
while let option = commandLine.next() {
    if rpmsgOptions.accept(option, from: &commandLine) { continue }
    switch option {
    case "--mode": mode = commandLine.choice(for: option, EchoMode.self)
    case "--lifetime-ms": lifetimeMilliseconds = commandLine.milliseconds(for: option)
    default: commandLine.unknown(option)
    }
}
let configuration = rpmsgOptions.configuration

RemoteCore.run { core in
    core.trace("ampsoc-fw-echo: boot on \(core.rprocName) (generation \(core.environment.generation)), mode \(mode.rawValue)")
    try core.startRpmsg(configuration)
    let service = try EchoService(core: core, name: "rpmsg-echo", mode: mode)
    if let lifetimeMilliseconds {
        core.loop.after(.milliseconds(lifetimeMilliseconds)) {
            service.endpoint?.destroy()
            core.trace("ampsoc-fw-echo: destroyed the endpoint \"rpmsg-echo\"")
        }
    }
    core.loop.onStop {
        core.trace("ampsoc-fw-echo: stopping after echoing \(service.echoed) message(s), \(service.failures) failure(s)")
    }
}

// ampsoc-fw-client-sample: the remote peer of Linux's samples/rpmsg/rpmsg_client_sample. It announces the
// service "rpmsg-client-sample"; the host driver bound to that channel sends "hello world!" and then each
// message it gets back, 100 times, so this firmware echoes every message to its source and traces it
// ("rpmsg-client-sample: message N from 0x<src> (<len> bytes)"). Until the host's driver sets DRIVER_OK it
// traces a "still waiting" diagnostic periodically and keeps heartbeating; it stops when the host asks.
//
// Usage: ampsoc-fw-client-sample [--wait-trace-ms MS] [--send-timeout-ms MS]

import AmpRemote
import AmpSampleSupport
import AmpSampleTable

var commandLine = SampleCommandLine(
    program: "ampsoc-fw-client-sample", usage: "usage: ampsoc-fw-client-sample \(RpmsgSampleOptions.usage)")
var rpmsgOptions = RpmsgSampleOptions()
while let option = commandLine.next() {
    if rpmsgOptions.accept(option, from: &commandLine) { continue }
    commandLine.unknown(option)
}
let configuration = rpmsgOptions.configuration

RemoteCore.run { core in
    core.trace("ampsoc-fw-client-sample: boot on \(core.rprocName) (generation \(core.environment.generation))")
    try core.startRpmsg(configuration)
    let service = try EchoService(core: core, name: "rpmsg-client-sample", traceEach: true)
    core.loop.onStop {
        core.trace("ampsoc-fw-client-sample: stopping after echoing \(service.echoed) message(s)")
    }
}

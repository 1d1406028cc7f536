// ampsoc-fw-services: one remote publishing several rpmsg services at once. It announces four endpoints,
// three echoing every message to its source:
//   "rpmsg-client-sample"  the peer of Linux's rpmsg_client_sample (messages traced one by one)
//   "rpmsg-echo"           a plain echo
//   "rpmsg-raw"            the name Linux's rpmsg_char binds to, giving userspace an endpoint device
// and "rpmsg-tty", the console of ampsoc-fw-console (a pseudo-terminal on the host). It traces a status line
// every 5 seconds (or --status-ms): the device's counters and each service's echoes.
// Until the host's driver sets DRIVER_OK it traces a "still waiting" diagnostic periodically and keeps
// heartbeating; it stops when the host asks.
//
// Usage: ampsoc-fw-services [--status-ms MS] [--wait-trace-ms MS] [--send-timeout-ms MS]

import AmpRemote
import AmpSampleSupport
import AmpSampleTable

var commandLine = SampleCommandLine(
    program: "ampsoc-fw-services", usage: "usage: ampsoc-fw-services [--status-ms MILLISECONDS] \(RpmsgSampleOptions.usage)")
var rpmsgOptions = RpmsgSampleOptions()
var statusMilliseconds: Int64 = 5000
while let option = commandLine.next() {
    if rpmsgOptions.accept(option, from: &commandLine) { continue }
    switch option {
    case "--status-ms": statusMilliseconds = commandLine.milliseconds(for: option)
    default: commandLine.unknown(option)
    }
}
let configuration = rpmsgOptions.configuration
let bootTime = ContinuousClock.now

RemoteCore.run { core in
    core.trace("ampsoc-fw-services: boot on \(core.rprocName) (generation \(core.environment.generation))")
    let rpmsg = try core.startRpmsg(configuration)
    let services = [
        try EchoService(core: core, name: "rpmsg-client-sample", traceEach: true),
        try EchoService(core: core, name: "rpmsg-echo"),
        try EchoService(core: core, name: "rpmsg-raw"),
    ]
    let console = try ConsoleService(core: core, version: "ampsoc-fw-services on \(core.rprocName)", bootTime: bootTime)
    func status() -> String {
        let totals = rpmsg.counters
        return "received \(totals.received), sent \(totals.sent), dropped \(totals.dropped); "
            + services.map { "\($0.name) \($0.echoed)" }.joined(separator: ", ")
    }
    core.loop.every(.milliseconds(statusMilliseconds)) {
        core.trace("ampsoc-fw-services: \(rpmsg.isReady ? "" : "(host driver not ready) ")\(status())")
    }
    core.loop.onStop {
        core.trace("ampsoc-fw-services: stopping: \(status())")
        core.trace("ampsoc-fw-services: console: \(console.linesEntered) line(s) entered")
    }
}

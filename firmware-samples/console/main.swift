// ampsoc-fw-console: a serial-style console over rpmsg. It announces the endpoint "rpmsg-tty", which the host's
// rpmsg-tty driver turns into a pseudo-terminal (`ampsoc ls` shows its /dev/pts path; open it with screen or
// picocom), and runs a small line-oriented shell on it (ConsoleShell in AmpSampleSupport): typed characters are
// echoed, DEL/BS erase, CR or LF runs the line; commands help, version, uptime, echo TEXT, stats. The banner
// and prompt "ampsoc> " appear with the first key typed (the remote learns the host's address from it).
//
// Usage: ampsoc-fw-console [--wait-trace-ms MS] [--send-timeout-ms MS]

import AmpRemote
import AmpSampleSupport
import AmpSampleTable

/// The firmware's version, as `version` prints it.
let consoleVersion = "1.0"

var commandLine = SampleCommandLine(
    program: "ampsoc-fw-console", usage: "usage: ampsoc-fw-console \(RpmsgSampleOptions.usage)")
var rpmsgOptions = RpmsgSampleOptions()
while let option = commandLine.next() {
    if rpmsgOptions.accept(option, from: &commandLine) { continue }
    commandLine.unknown(option)
}
let configuration = rpmsgOptions.configuration
let bootTime = ContinuousClock.now

RemoteCore.run { core in
    core.trace("ampsoc-fw-console: boot on \(core.rprocName) (generation \(core.environment.generation))")
    try core.startRpmsg(configuration)
    let console = try ConsoleService(
        core: core, version: "ampsoc-fw-console \(consoleVersion) on \(core.rprocName)", bootTime: bootTime)
    core.loop.onStop {
        core.trace("ampsoc-fw-console: stopping after \(console.linesEntered) line(s)")
    }
}

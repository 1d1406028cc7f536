// ampsoc-fw-basic: the smallest useful remote-core firmware. It traces a boot banner naming its remote
// processor, traces "tick N" every second (or every --tick-ms milliseconds), traces each doorbell
// notification it receives, and stops when the host asks.
//
// Usage: ampsoc-fw-basic [--tick-ms MILLISECONDS]
// Started by the ampsoc host with the AMPSOC_* environment (docs/shared-memory.md); its resource table comes
// from the AmpSampleTable target.

import AmpRemote
import AmpSampleSupport
import AmpSampleTable

var commandLine = SampleCommandLine(program: "ampsoc-fw-basic", usage: "usage: ampsoc-fw-basic \(TickSampleOptions.usage)")
var options = TickSampleOptions()
while let option = commandLine.next() {
    if options.accept(option, from: &commandLine) { continue }
    commandLine.unknown(option)
}

RemoteCore.run { core in
    core.trace("ampsoc-fw-basic: boot on \(core.rprocName) (generation \(core.environment.generation))")
    var ticks = 0
    core.loop.every(.milliseconds(options.tickMilliseconds)) {
        ticks += 1
        core.trace("tick \(ticks)")
    }
    core.loop.onAnyNotify { bits in
        core.trace("notify: bits 0x\(String(bits, radix: 16))")
    }
    core.loop.onStop {
        core.trace("ampsoc-fw-basic: stopping after \(ticks) ticks")
    }
}

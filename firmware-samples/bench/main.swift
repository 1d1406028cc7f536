// ampsoc-fw-bench: the remote end of `ampsoc bench`'s "ampsoc" column (docs/benchmark.md). It announces two
// rpmsg services through the name service once the host's virtio driver sets DRIVER_OK:
//   "rpmsg-bench-echo"  sends every message back to its source, zero-copy (the payload goes from the received
//                       buffer straight into the reply buffer: one copy, as a tuned firmware would do)
//   "rpmsg-bench-sink"  counts the messages it receives; a 1-byte message asks for the count, answered as a
//                       u32 little-endian (BenchSink.swift has the protocol)
// It traces its totals when the host stops it.
//
// Usage: ampsoc-fw-bench [--wait-trace-ms MS] [--send-timeout-ms MS]
// Started by the ampsoc host with the AMPSOC_* environment (docs/shared-memory.md); its resource table comes
// from the AmpSampleTable target (an rpmsg vdev with two vrings of 256, a trace buffer, a carveout).

import AmpRemote
import AmpSampleSupport
import AmpSampleTable

var commandLine = SampleCommandLine(program: "ampsoc-fw-bench", usage: "usage: ampsoc-fw-bench \(RpmsgSampleOptions.usage)")
var rpmsgOptions = RpmsgSampleOptions()
while let option = commandLine.next() {
    if rpmsgOptions.accept(option, from: &commandLine) { continue }
    commandLine.unknown(option)
}
let configuration = rpmsgOptions.configuration

RemoteCore.run { core in
    core.trace("ampsoc-fw-bench: boot on \(core.rprocName) (generation \(core.environment.generation))")
    try core.startRpmsg(configuration)
    let echo = try EchoService(core: core, name: "rpmsg-bench-echo", mode: .zeroCopy)
    let sink = try BenchSink(core: core, name: "rpmsg-bench-sink")
    core.loop.onStop {
        core.trace("ampsoc-fw-bench: stopping after echoing \(echo.echoed) message(s) (\(echo.failures) failed), "
            + "sinking \(sink.total) (\(sink.failures) count replies failed)")
    }
}

// ampsoc-fw-bench: the remote end of `ampsoc bench`'s "ampsoc" column (docs/benchmark.md). It announces two
// rpmsg services through the name service once the host's virtio driver sets DRIVER_OK (or, when its profile
// puts it on an SMD edge, as two SMD channels of those names: `ampsoc bench`'s "smd" column):
//   "rpmsg-bench-echo"  sends every message back to its source, zero-copy over virtio (the payload goes from
//                       the received buffer straight into the reply buffer: one copy, as a tuned firmware
//                       would do); over SMD, which has no zero-copy send, a copying reply (the payload is
//                       written into the channel's FIFO: also one copy)
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
    let device = try core.startRpmsg(configuration)
    // Chosen once at boot: the virtio path keeps its zero-copy echo, with no per-message check.
    let echoMode: EchoMode = device.transport == .smd ? .copy : .zeroCopy
    let echo = try EchoService(core: core, name: "rpmsg-bench-echo", mode: echoMode)
    let sink = try BenchSink(core: core, name: "rpmsg-bench-sink")
    core.loop.onStop {
        core.trace("ampsoc-fw-bench: stopping after echoing \(echo.echoed) message(s) (\(echo.failures) failed), "
            + "sinking \(sink.total) (\(sink.failures) count replies failed)")
    }
}

// ampsoc-bench-peer: the other process of `ampsoc bench`'s baselines (raw shared memory, SOCK_SEQPACKET).
// Started by the benchmark, never by hand; the modes and arguments are documented in AmpBench's BenchPeerMain.
import AmpBench
import Glibc

exit(BenchPeerMain.run(Array(CommandLine.arguments.dropFirst())))

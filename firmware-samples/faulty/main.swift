// ampsoc-fw-faulty: a sample firmware that misbehaves on purpose, for testing the host's crash detection and
// recovery. It runs like ampsoc-fw-basic (boot banner, "tick N" traces, orderly stop) and, --after SECONDS
// of running, shows the misbehaviour chosen with --crash:
//
//   fatal     a fatal error reported through the runtime (crash record type 2, remoteState halted)
//   mmufault  an access through the runtime to a device address outside every region (type 0, faultAddress)
//   exit      exit(3) while running
//   hang      the loop and the heartbeat stop; the process blocks until killed (watchdog material)
//   segv      death by SIGSEGV
//
// With --once-marker PATH it misbehaves only if PATH does not exist, creating it first, so the firmware the
// host restarts after recovery runs normally. Bad options: a message on stderr and exit status 2.

import AmpRemote
import AmpSampleTable
import Glibc

let options = FaultOptions.parse(Array(CommandLine.arguments.dropFirst()))
let misbehave = options.claimMisbehaviour()

/// Device addresses tried, in order, for the mmufault: the first outside every region is accessed.
let invalidAddressCandidates: [UInt32] = [0xDEAD_0000, 0x0000_0000, 0xFFFF_F000, 0x7FFF_0000]

RemoteCore.run { core in
    let plan = misbehave ? options.crash.map { "will \($0.rawValue) after \(options.afterSeconds) s" } : nil
    core.trace("ampsoc-fw-faulty: boot on \(core.rprocName) (generation \(core.environment.generation)), \(plan ?? "runs normally")")
    var ticks = 0
    core.loop.every(.milliseconds(options.tickMilliseconds)) {
        ticks += 1
        core.trace("tick \(ticks)")
    }
    core.loop.onStop {
        core.trace("ampsoc-fw-faulty: stopping after \(ticks) ticks")
    }
    guard misbehave, let crash = options.crash else { return }
    core.loop.after(.seconds(options.afterSeconds)) {
        switch crash {
        case .fatal:
            core.fatal("ampsoc-fw-faulty: injected fatal error after \(ticks) ticks")
        case .mmufault:
            let address = invalidAddressCandidates.first { core.translate(da: $0, count: 4) == nil } ?? 0xFFFF_FFFC
            core.trace("ampsoc-fw-faulty: reading device address 0x\(String(address, radix: 16))")
            let word = core.memory(da: address, count: 4).load(as: UInt32.self)
            core.fatal("ampsoc-fw-faulty: the invalid access returned \(word) instead of faulting")
        case .exit:
            core.trace("ampsoc-fw-faulty: exiting with status 3")
            exit(3)
        case .hang:
            core.trace("ampsoc-fw-faulty: hanging")
            RemoteCore.halt()
        case .segv:
            core.trace("ampsoc-fw-faulty: raising SIGSEGV")
            signal(SIGSEGV, SIG_DFL)
            raise(SIGSEGV)
        }
    }
}

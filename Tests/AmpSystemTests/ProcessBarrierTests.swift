import Glibc
import Testing

@testable import AmpSystem

/// ProcessBarrier (membarrier GLOBAL_EXPEDITED): availability and a refused call. (A store-buffering litmus
/// test was tried: in a debug build the Swift side's windows are too wide to show the lost wake-up even
/// without the barrier, so it could not fail; the ordering argument is in AmpVirtio's NotificationBarriers.)
@Suite("ProcessBarrierTests")
struct ProcessBarrierTests {
    @Test func availableOnThisKernelAndEachCallSucceeds() throws {
        // membarrier's expedited global commands exist since Linux 4.16; the CI machines run newer kernels.
        try #require(ProcessBarrier.isAvailable, "membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED) is unavailable here")
        for _ in 0..<100 { #expect(ProcessBarrier.global()) }
    }

    @Test func aRefusedCallReportsFalse() {
        let plan = SyscallFaultPlan(["membarrier": [EPERM]])
        SyscallFaults.$plan.withValue(plan) {
            #expect(!ProcessBarrier.global())
        }
        #expect(plan.injectedCount("membarrier") == (ProcessBarrier.isAvailable ? 1 : 0))
    }
}

import AmpSystem
import Glibc
import Testing

@testable import AmpBench

extension BenchTests {
    @Test func cpuTicksAreFieldsFourteenAndFifteen() {
        // A stat line whose command name contains ") (" and spaces; utime 1234, stime 56.
        let line = "4242 (odd) (name x) S 1 4242 4242 0 -1 4194560 500 0 0 0 1234 56 7 8 20 0 1 0 98765 1000 50\n"
        #expect(CPUUsageMeter.parseCPUTicks(Array(line.utf8)) == 1290)
        #expect(CPUUsageMeter.parseCPUTicks(Array("4242 (x) S 1 2 3".utf8)) == nil)
        #expect(CPUUsageMeter.parseCPUTicks(Array("no parenthesis at all".utf8)) == nil)
        #expect(CPUUsageMeter.parseCPUTicks(Array("1 (x) S 1 1 1 0 -1 0 0 0 0 0 abc 5 0".utf8)) == nil)
    }

    @Test func cpuTicksOfThisProcessAndOfNone() throws {
        _ = try CPUUsageMeter.cpuTicks(pid: getpid())
        // Pid numbers above pid_max (at most 2^22) never exist.
        #expect(throws: SystemError.self) { try CPUUsageMeter.cpuTicks(pid: 5_000_000) }
        do {
            _ = try CPUUsageMeter.percentOfOneCore(pids: [5_000_000], window: .milliseconds(1))
            Issue.record("measured a process that does not exist")
        } catch {
            guard case .system(let systemError) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(systemError.code == .noSuchFile)
            #expect(systemError.subject == "/proc/5000000/stat")
        }
    }
}

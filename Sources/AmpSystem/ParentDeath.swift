import Glibc

/// The child side of "die with the parent": a remote-core process must not outlive the host that owns its
/// shared memory.
public enum ParentDeath {
    /// Asks the kernel to SIGKILL this process when its parent dies (`prctl(PR_SET_PDEATHSIG, SIGKILL)`), then
    /// closes the race with a parent that died before the call: if `getppid()` is no longer `expectedParent`
    /// (pass the pid the parent announced, e.g. on the command line) the process kills itself with SIGKILL at
    /// once, so both orders end the same way.
    ///
    /// Linux sends the signal when the parent *thread* that spawned the child exits, so the host must spawn from
    /// a thread that lives as long as the host does (its main thread or a dedicated one).
    public static func install(expectedParent: pid_t) throws(SystemError) {
        _ = try Sys.checked("prctl(PR_SET_PDEATHSIG)", "pid \(getpid())", Sys.setParentDeathSignal(SIGKILL))
        if getppid() != expectedParent {
            _ = Sys.kill(getpid(), SIGKILL)
            _exit(128 + SIGKILL)
        }
    }
}

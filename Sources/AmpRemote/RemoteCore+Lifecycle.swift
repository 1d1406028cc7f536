import AmpSystem
import AmpWire
import Glibc

// The firmware entry point, the orderly stop, and crash reports (docs/shared-memory.md, "Stopping and crashing").

extension RemoteCore {
    // MARK: Running firmware

    /// The firmware entry point: attaches (exiting with a message on failure, see ``attach()``); waits in state
    /// `attached` until the host has set `hostState = released` (normally already true; the heartbeat runs and
    /// a stop request is obeyed meanwhile); sets `remoteState = running`; calls `setup` to register timers,
    /// tasks and handlers; then runs the message loop until the host requests a stop, when it runs the stop
    /// handlers, sets `remoteState = stopped` and exits with status 0. An error thrown by `setup` is reported
    /// as a fatal error.
    public static func run(_ setup: (RemoteCore) throws -> Void) -> Never {
        attach().run(setup)
    }

    /// The rest of ``run(_:)`` for a core attached with ``attach()`` or ``attach(environment:)``: wait for the
    /// release, set `running`, call `setup`, run the loop until stopped, exit.
    public func run(_ setup: (RemoteCore) throws -> Void) -> Never {
        let control = self.control
        runLoop(until: { control.isReleased })
        control.setRemoteState(.running)
        do {
            try setup(self)
        } catch {
            fatal("firmware setup failed: \(error)")
        }
        runLoop(until: { false })
        stopInOrder()
    }

    /// Runs the loop until `condition` holds; a stop request ends the process through ``stopInOrder()``.
    private func runLoop(until condition: () -> Bool) {
        let reason: MessageLoop.EndReason
        do {
            reason = try loop.run(until: condition)
        } catch {
            fatal("the message loop cannot wait on its doorbell: \(error)")
        }
        if reason != .conditionMet { stopInOrder() }
    }

    /// The orderly stop: stop handlers, `remoteState = stopped`, a bit-31 ring to the host, exit status 0.
    func stopInOrder() -> Never {
        loop.runStopHandlers()
        control.setRemoteState(.stopped)
        try? toHost.ring(notifyID: ControlBlock.controlNotifyID)
        exit(RemoteExitCode.stopped)
    }

    // MARK: Crash reports

    /// Reports a fatal error (Linux's crash type 2) with `message` and halts: writes the crash record
    /// (`crashType`, `crashMessage`, then `crashReported = 1` with release order), traces the message, sets
    /// `remoteState = halted`, rings the host's doorbell with ``ControlBlock/controlNotifyID`` and sleeps until
    /// the host kills the process.
    public func fatal(_ message: String) -> Never {
        reportCrash(.fatalError, faultAddress: 0, message: message)
    }

    /// Reports an invalid access to `count` bytes at device address `da` (Linux's crash type 0, mmufault)
    /// with `faultAddress = da`, and halts like ``fatal(_:)``.
    public func mmuFault(da: UInt32, count: Int) -> Never {
        reportCrash(.mmuFault, faultAddress: UInt64(da), message: "mmu fault: \(count) bytes at device address \(hex(da)) are outside every memory region")
    }

    private func reportCrash(_ type: ControlBlock.CrashType, faultAddress: UInt64, message: String) -> Never {
        RemoteConsole.note("crash (\(type.name)): \(message)")
        trace("crash (\(type.name)): \(message)")
        control.writeCrashRecord(type: type, faultAddress: faultAddress, message: message)
        control.setRemoteState(.halted)
        try? toHost.ring(notifyID: ControlBlock.controlNotifyID)
        RemoteCore.halt()
    }

    /// Sleeps forever without using CPU (`pause(2)` in a loop), as a halted core does; only a signal that
    /// terminates the process (the host's SIGTERM or SIGKILL) ends it.
    public static func halt() -> Never {
        while true { pause() }
    }
}

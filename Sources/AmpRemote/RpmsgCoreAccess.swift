// How firmware reaches the virtio rpmsg device of its remote core: one device per core, created on first use.

extension RemoteCore {
    /// The core's virtio rpmsg device (the remote side of Linux's virtio_rpmsg_bus), created with the default
    /// ``RpmsgRemoteConfiguration`` on first use. Throws `noVirtioDevice` when the loaded resource table has no
    /// rpmsg vdev with two vrings.
    public var rpmsg: RpmsgRemoteDevice {
        get throws(RpmsgRemoteError) {
            if let rpmsgDevice { return rpmsgDevice }
            return try startRpmsg()
        }
    }

    /// Creates the core's rpmsg device with `configuration` (or returns the existing one, whose configuration
    /// is kept). Call it from setup code: the device registers its notification handler and, until the host's
    /// driver sets DRIVER_OK, a status poll and a periodic "still waiting" trace.
    @discardableResult
    public func startRpmsg(_ configuration: RpmsgRemoteConfiguration = RpmsgRemoteConfiguration()) throws(RpmsgRemoteError) -> RpmsgRemoteDevice {
        if let rpmsgDevice { return rpmsgDevice }
        let device = try RpmsgRemoteDevice(core: self, configuration: configuration)
        rpmsgDevice = device
        return device
    }
}

/// Settings of the remote's rpmsg device.
public struct RpmsgRemoteConfiguration: Sendable, Equatable {
    /// How long a blocking send waits for a transmit buffer before failing with `timedOut` (Linux: 15 s).
    public var sendTimeout: Duration = .seconds(15)
    /// How often the device looks at the vdev status while waiting for DRIVER_OK (the host normally also
    /// rings the doorbell when it sets it).
    public var statusPollInterval: Duration = .milliseconds(20)
    /// When the first "still waiting for DRIVER_OK" diagnostic is traced while the host's driver is absent;
    /// later ones follow at doubling intervals, up to 30 s apart.
    public var driverWaitTraceInterval: Duration = .seconds(1)
    /// How many "no recipient" and malformed messages are traced one by one; after that one line every
    /// `dropTraceEvery` drops.
    public var dropTraceLimit: UInt64 = 10
    /// See `dropTraceLimit`.
    public var dropTraceEvery: UInt64 = 1000

    public init(
        sendTimeout: Duration = .seconds(15), statusPollInterval: Duration = .milliseconds(20),
        driverWaitTraceInterval: Duration = .seconds(1)
    ) {
        self.sendTimeout = sendTimeout
        self.statusPollInterval = statusPollInterval
        self.driverWaitTraceInterval = driverWaitTraceInterval
    }
}

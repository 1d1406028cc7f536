// The SoC profile model: what a soc-profiles/*.json file describes, as plain values. Decoding and
// validation live in ProfileDecoder.swift; the engine reads only these types and never names a SoC.

/// A whole emulated SoC: the host (application processor) and its remote processors.
public struct SoCProfile: Sendable, Equatable {
    /// SoC name, e.g. "omap4". Also the default instance name of `ampsoc run`.
    public var name: String
    /// Free text shown by tools.
    public var description: String
    public var host: HostProfile
    public var remoteProcessors: [RemoteProcessorProfile]
    /// The file the profile was read from; relative firmware paths resolve against its directory.
    public var sourcePath: String

    public init(name: String, description: String, host: HostProfile, remoteProcessors: [RemoteProcessorProfile], sourcePath: String) {
        self.name = name
        self.description = description
        self.host = host
        self.remoteProcessors = remoteProcessors
        self.sourcePath = sourcePath
    }

    /// The remote processor named `name`.
    public func remoteProcessor(named name: String) -> RemoteProcessorProfile? {
        remoteProcessors.first { $0.name == name }
    }
}

/// The application processor that runs the host (Linux's side).
public struct HostProfile: Sendable, Equatable {
    /// Core type label, e.g. "cortex-a9".
    public var coreType: String
    public var cores: Int

    public init(coreType: String, cores: Int) {
        self.coreType = coreType
        self.cores = cores
    }
}

/// One remote processor: a core (or a group of cores running one firmware) controlled through remoteproc.
public struct RemoteProcessorProfile: Sendable, Equatable {
    /// Unique name, e.g. "ipu" or "dsp"; the rproc name used by the CLI and events.
    public var name: String
    /// Core type label, e.g. "cortex-m3" or "c64x".
    public var coreType: String
    public var cores: Int
    /// Firmware: an absolute path, a path relative to the profile's directory, or a bare name looked up in
    /// the firmware search path (see FirmwareLocator).
    public var firmware: String
    /// Extra command-line arguments given to the firmware process.
    public var firmwareArguments: [String]
    /// The device's memory map: where carveouts may be allocated and which device memory exists.
    public var memory: [MemoryRegionProfile]
    public var doorbell: DoorbellKind
    /// Names of remote processors that must be running before this one boots (booted first, in order).
    public var bootAfter: [String]
    /// Boot when the SoC starts.
    public var autoBoot: Bool
    /// Recover automatically after a crash (Linux's recovery "enabled").
    public var recovery: Bool
    public var coredump: CoredumpMode
    /// Watchdog timeout in milliseconds; 0 disables the watchdog.
    public var watchdogTimeoutMs: UInt32
    /// rpmsg buffer size in bytes (512 as Linux by default).
    public var rpmsgBufferSize: UInt32
    /// The wire protocol of the processor's rpmsg link: virtio (the firmware's vdev) or Qualcomm SMD.
    public var rpmsgTransport: RpmsgTransportKind
    /// The SMD edge id of the processor (Linux's `qcom,smd-edge`), for the SMD transport only.
    public var smdEdge: UInt32?

    public init(
        name: String, coreType: String, cores: Int = 1, firmware: String, firmwareArguments: [String] = [],
        memory: [MemoryRegionProfile], doorbell: DoorbellKind = .futex, bootAfter: [String] = [],
        autoBoot: Bool = true, recovery: Bool = true, coredump: CoredumpMode = .disabled,
        watchdogTimeoutMs: UInt32 = 0, rpmsgBufferSize: UInt32 = 512, rpmsgTransport: RpmsgTransportKind = .virtio,
        smdEdge: UInt32? = nil
    ) {
        self.name = name
        self.coreType = coreType
        self.cores = cores
        self.firmware = firmware
        self.firmwareArguments = firmwareArguments
        self.memory = memory
        self.doorbell = doorbell
        self.bootAfter = bootAfter
        self.autoBoot = autoBoot
        self.recovery = recovery
        self.coredump = coredump
        self.watchdogTimeoutMs = watchdogTimeoutMs
        self.rpmsgBufferSize = rpmsgBufferSize
        self.rpmsgTransport = rpmsgTransport
        self.smdEdge = smdEdge
    }
}

/// A range of the remote's device address space.
public struct MemoryRegionProfile: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable, CaseIterable {
        /// RAM the host may allocate carveouts, vrings and buffers from (an IOMMU-mapped pool).
        case carveout
        /// Device memory (peripherals, on-chip RAM) that firmware maps with devmem entries.
        case devmem
        /// Qualcomm shared memory (SMEM): the item heap holding the SMD channels of an SMD remote. The host
        /// initializes its header before the remote starts, as the boot loader does; nothing is allocated
        /// from it by the resource table.
        case smem
    }

    /// Short name, e.g. "ram" or "l4cfg" (at most 7 characters: it is published in the control block).
    public var name: String
    public var kind: Kind
    /// Device address (the remote core's view).
    public var da: UInt32
    /// Physical address (the host's view).
    public var pa: UInt32
    public var size: UInt32

    public init(name: String, kind: Kind, da: UInt32, pa: UInt32, size: UInt32) {
        self.name = name
        self.kind = kind
        self.da = da
        self.pa = pa
        self.size = size
    }

    /// Whether `count` bytes at device address `address` lie inside this region (overflow-safe).
    public func contains(da address: UInt32, count: UInt32) -> Bool {
        address >= da && UInt64(address - da) + UInt64(count) <= UInt64(size)
    }
}

/// The wire protocol under a remote processor's rpmsg link.
public enum RpmsgTransportKind: String, Sendable, Equatable, CaseIterable {
    /// virtio rpmsg: split vrings described by the firmware's resource table (Linux's virtio_rpmsg_bus).
    case virtio
    /// Qualcomm SMD: channel FIFOs in an SMEM heap (Linux's qcom_smd).
    case smd
}

/// How a doorbell wakes the other side.
public enum DoorbellKind: String, Sendable, Equatable, CaseIterable {
    case futex
    case eventfd
}

/// Linux's coredump modes.
public enum CoredumpMode: String, Sendable, Equatable, CaseIterable {
    case disabled
    case enabled
    case inline
}

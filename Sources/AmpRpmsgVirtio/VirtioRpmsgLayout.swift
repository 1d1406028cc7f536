// Where one virtio rpmsg device lives in a remote processor's shared-memory segment, as the host's
// remoteproc core set it up from the resource table (docs/shared-memory.md, wire-facts.md sections 1-3):
//
//   vring0   host RX ("input"):  the remote sends on it, the host posts its receive buffers there
//   vring1   host TX ("output"): the host sends on it, the remote posts nothing (the host owns all buffers)
//   pool     `count` buffers of `bufferSize` bytes at one device address; the first half receives, the
//            second half sends (Linux's virtio_rpmsg_bus split)
//   status   the vdev's u8 `status` in the loaded resource table (ACKNOWLEDGE 1 | DRIVER 2 | DRIVER_OK 4)
//   gfeatures the vdev's u32 `gfeatures` in the loaded table (what the host accepted of `dfeatures`)
//
// Descriptors carry device addresses (the remote translates them through its memory regions); the host
// reaches the same bytes at segment offsets. Everything here is validated against the segment before a
// single byte is touched.

import AmpWire

/// One vring of an rpmsg device: where it is for the remote (`da`) and for the host (`segmentOffset`).
public struct VirtioRpmsgVring: Sendable, Equatable {
    /// Device address written back into the table (`fw_rsc_vdev_vring.da`).
    public var da: UInt32
    /// Offset of the ring's first byte in the segment.
    public var segmentOffset: Int
    /// Number of descriptors (power of two).
    public var num: Int
    /// Alignment of the used ring.
    public var align: Int
    /// Notify id the host assigned; kicking this ring rings it on the to-remote doorbell.
    public var notifyID: UInt32

    public init(da: UInt32, segmentOffset: Int, num: Int, align: Int, notifyID: UInt32) {
        self.da = da
        self.segmentOffset = segmentOffset
        self.num = num
        self.align = align
        self.notifyID = notifyID
    }
}

/// The rpmsg buffer pool: `count` buffers of `bufferSize` bytes, first half for receiving, second for sending.
public struct VirtioRpmsgBufferPool: Sendable, Equatable {
    /// Device address of buffer 0.
    public var da: UInt32
    /// Segment offset of buffer 0.
    public var segmentOffset: Int
    /// Number of buffers (both directions).
    public var count: Int
    /// Size of each buffer, header included (Linux: 512).
    public var bufferSize: Int

    public init(da: UInt32, segmentOffset: Int, count: Int, bufferSize: Int) {
        self.da = da
        self.segmentOffset = segmentOffset
        self.count = count
        self.bufferSize = bufferSize
    }

    /// Receive buffers: indices `0..<receiveCount`.
    public var receiveCount: Int { count / 2 }
    /// Transmit buffers: indices `receiveCount..<count`.
    public var transmitCount: Int { count - count / 2 }
    /// Device address of buffer `index` (valid after ``VirtioRpmsgLayout/validate(segmentSize:)``).
    public func da(ofBuffer index: Int) -> UInt32 { da &+ UInt32(truncatingIfNeeded: index &* bufferSize) }
    /// Segment offset of buffer `index`.
    public func segmentOffset(ofBuffer index: Int) -> Int { segmentOffset + index * bufferSize }
}

/// Everything a ``VirtioRpmsgLink`` needs to know about its device's memory.
public struct VirtioRpmsgLayout: Sendable, Equatable {
    /// vring0: the host receives on it.
    public var receive: VirtioRpmsgVring
    /// vring1: the host sends on it.
    public var transmit: VirtioRpmsgVring
    /// The buffer pool.
    public var pool: VirtioRpmsgBufferPool
    /// Features the firmware offers (`dfeatures`).
    public var deviceFeatures: UInt32
    /// Segment offset of the vdev's `status` byte in the loaded table.
    public var statusOffset: Int
    /// Segment offset of the vdev's `gfeatures` word in the loaded table.
    public var guestFeaturesOffset: Int

    public init(
        receive: VirtioRpmsgVring, transmit: VirtioRpmsgVring, pool: VirtioRpmsgBufferPool, deviceFeatures: UInt32,
        statusOffset: Int, guestFeaturesOffset: Int
    ) {
        self.receive = receive
        self.transmit = transmit
        self.pool = pool
        self.deviceFeatures = deviceFeatures
        self.statusOffset = statusOffset
        self.guestFeaturesOffset = guestFeaturesOffset
    }

    /// Smallest buffer accepted (the smallest a profile allows): 64 bytes, an MTU of 48.
    public static let minimumBufferSize = 64
    /// Largest buffer accepted: the header's u16 `len` must hold the MTU.
    public static let maximumBufferSize = 65536

    /// Largest payload one message carries: buffer size minus the 16-byte header.
    public var mtu: Int { RpmsgConstants.mtu(bufferSize: pool.bufferSize) }

    /// Checks that the layout is usable and lies inside a segment of `segmentSize` bytes.
    ///
    /// - Throws: ``VirtioRpmsgSetupError`` naming the field: a ring whose `num`/`align` `VringLayout` refuses,
    ///   that is not 16-byte aligned or that runs past the segment; a pool with fewer than two buffers, a buffer
    ///   size outside 64...65536, more receive buffers than vring0 has descriptors, a device-address range that
    ///   wraps, or bytes past the segment; a status or gfeatures offset outside the segment.
    public func validate(segmentSize: Int) throws(VirtioRpmsgSetupError) {
        for (label, ring) in [("vring0", receive), ("vring1", transmit)] {
            let ringLayout: VringLayout
            do {
                ringLayout = try VringLayout(num: ring.num, align: ring.align)
            } catch {
                throw VirtioRpmsgSetupError(field: "\(label).\(error.field.replacingPrefix("vring.", with: ""))", reason: error.reason)
            }
            guard ring.segmentOffset % 16 == 0 else {
                throw VirtioRpmsgSetupError(
                    field: "\(label).segmentOffset", reason: "\(hex(ring.segmentOffset)) is not 16-byte aligned")
            }
            try Self.check(label, offset: ring.segmentOffset, count: ringLayout.totalSize, segmentSize: segmentSize)
        }
        guard pool.count >= 2 else {
            throw VirtioRpmsgSetupError(field: "pool.count", reason: "\(pool.count) buffers; at least 2 are needed (one per direction)")
        }
        guard (Self.minimumBufferSize...Self.maximumBufferSize).contains(pool.bufferSize) else {
            throw VirtioRpmsgSetupError(
                field: "pool.bufferSize",
                reason: "\(pool.bufferSize) is outside \(Self.minimumBufferSize)...\(Self.maximumBufferSize)")
        }
        guard pool.receiveCount <= receive.num else {
            throw VirtioRpmsgSetupError(
                field: "pool.count",
                reason: "\(pool.receiveCount) receive buffers do not fit the \(receive.num) descriptors of vring0")
        }
        let (length, overflow) = pool.count.multipliedReportingOverflow(by: pool.bufferSize)
        guard !overflow, UInt64(pool.da) + UInt64(length) <= UInt64(UInt32.max) + 1 else {
            throw VirtioRpmsgSetupError(field: "pool.da", reason: "\(hex(pool.da)) + \(length) bytes wraps the 32-bit device address space")
        }
        try Self.check("pool", offset: pool.segmentOffset, count: length, segmentSize: segmentSize)
        try Self.check("status", offset: statusOffset, count: 1, segmentSize: segmentSize)
        try Self.check("gfeatures", offset: guestFeaturesOffset, count: 4, segmentSize: segmentSize)
    }

    private static func check(_ label: String, offset: Int, count: Int, segmentSize: Int) throws(VirtioRpmsgSetupError) {
        guard offset >= 0, count >= 0, offset <= segmentSize, count <= segmentSize - offset else {
            throw VirtioRpmsgSetupError(
                field: "\(label).segmentOffset",
                reason: "\(count) bytes at \(hex(offset)) do not fit the \(hex(segmentSize))-byte segment")
        }
    }
}

/// A ``VirtioRpmsgLayout`` or a ring parameter the link cannot work with.
public struct VirtioRpmsgSetupError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The field at fault, e.g. "vring1.num" or "pool.bufferSize".
    public var field: String
    public var reason: String

    public init(field: String, reason: String) {
        self.field = field
        self.reason = reason
    }

    public var description: String { "\(field): \(reason)" }
}

/// "0x..." for messages.
func hex<T: BinaryInteger>(_ value: T) -> String { "0x" + String(value, radix: 16) }

extension String {
    fileprivate func replacingPrefix(_ prefix: String, with replacement: String) -> String {
        hasPrefix(prefix) ? replacement + dropFirst(prefix.count) : self
    }
}

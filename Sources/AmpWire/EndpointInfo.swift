// Argument of the rpmsg control-device ioctls (RPMSG_CREATE_EPT_IOCTL, RPMSG_CREATE_DEV_IOCTL,
// RPMSG_RELEASE_DEV_IOCTL) that userspace passes to create or release an endpoint (host byte order).
//
//   rpmsg_endpoint_info (40 bytes)
//     name char[32] @0   channel name, NUL-padded; the kernel forces name[31] = 0
//     src  u32      @32  local address (0xFFFFFFFF = any)
//     dst  u32      @36  remote address (0xFFFFFFFF = any)

/// An endpoint request from userspace (`struct rpmsg_endpoint_info`, 40 bytes).
public struct EndpointInfo: Sendable, Hashable {
    /// Size of the structure on the wire.
    public static let size = 40

    /// Channel name (`name`).
    public var name: RpmsgName
    /// Local endpoint address (`src`).
    public var source: UInt32
    /// Remote endpoint address (`dst`).
    public var destination: UInt32

    public init(
        name: RpmsgName, source: UInt32 = RpmsgConstants.addressAny, destination: UInt32 = RpmsgConstants.addressAny
    ) {
        self.name = name
        self.source = source
        self.destination = destination
    }

    /// Reads the structure at `offset` of `reader` (40 bytes must be available).
    public init(from reader: ByteReader, at offset: Int) throws(WireError) {
        try reader.require(offset: offset, count: Self.size, field: "rpmsg_endpoint_info")
        name = try RpmsgName.read(from: reader, at: offset, field: "rpmsg_endpoint_info.name")
        source = try reader.u32(at: offset + 32, field: "rpmsg_endpoint_info.src")
        destination = try reader.u32(at: offset + 36, field: "rpmsg_endpoint_info.dst")
    }

    /// Reads the structure from an ioctl argument.
    ///
    /// - Throws: `WireError` (field `rpmsg_endpoint_info`) unless `bytes` is exactly 40 bytes.
    public static func parse(_ bytes: [UInt8], order: ByteOrder) throws(WireError) -> EndpointInfo {
        guard bytes.count == size else {
            throw WireError(
                field: "rpmsg_endpoint_info", offset: 0,
                reason: "argument is \(bytes.count) bytes; rpmsg_endpoint_info is exactly \(size)")
        }
        return try EndpointInfo(from: ByteReader(bytes, order: order), at: 0)
    }

    /// Writes the structure's 40 bytes at `offset`.
    public func write(to writer: inout ByteWriter, at offset: Int) {
        name.write(to: &writer, at: offset)
        writer.put(source, at: offset + 32)
        writer.put(destination, at: offset + 36)
    }

    /// The structure's 40 bytes.
    public func serialized(order: ByteOrder) -> [UInt8] {
        var writer = ByteWriter(count: Self.size, order: order)
        write(to: &writer, at: 0)
        return writer.bytes
    }
}

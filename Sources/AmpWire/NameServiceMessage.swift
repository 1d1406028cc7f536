// Name-service announcement of the virtio rpmsg bus: the payload of a message sent to address 53 when a
// side creates or destroys a service (byte order of the link).
//
//   rpmsg_ns_msg (exactly 40 bytes)
//     name  char[32] @0   service (channel) name, NUL-padded; the receiver forces name[31] = 0
//     addr  u32      @32  endpoint address of the service on the announcing side
//     flags u32      @36  0 = CREATE, 1 = DESTROY
//
// A receiver rejects any other payload length. It tests only the DESTROY bit of flags, so other bits are
// kept as read.

/// A name-service announcement (`struct rpmsg_ns_msg`, 40 bytes).
public struct NameServiceMessage: Sendable, Hashable {
    /// Size of the message on the wire; any other payload length is invalid.
    public static let size = 40

    /// What an announcement asks for.
    public enum Action: Sendable, Hashable {
        /// `RPMSG_NS_CREATE` (0): a service appeared; create a channel to it.
        case create
        /// `RPMSG_NS_DESTROY` (1): the service went away; release its channel.
        case destroy

        /// The `flags` value for this action.
        public var flags: UInt32 {
            switch self {
            case .create: return 0
            case .destroy: return NameServiceMessage.destroyFlag
            }
        }
    }

    /// `RPMSG_NS_DESTROY`, the only flag bit receivers test.
    public static let destroyFlag: UInt32 = 1

    /// Service name (`name`).
    public var name: RpmsgName
    /// Address of the announcing endpoint (`addr`).
    public var address: UInt32
    /// Raw `flags` as read or to be written.
    public var flags: UInt32

    /// CREATE unless the DESTROY bit is set.
    public var action: Action { flags & Self.destroyFlag != 0 ? .destroy : .create }

    public init(name: RpmsgName, address: UInt32, flags: UInt32) {
        self.name = name
        self.address = address
        self.flags = flags
    }

    public init(name: RpmsgName, address: UInt32, action: Action) {
        self.init(name: name, address: address, flags: action.flags)
    }

    /// Reads an announcement from an rpmsg payload.
    ///
    /// - Throws: `WireError` (field `rpmsg_ns_msg`) unless `payload` is exactly 40 bytes.
    public static func parse(_ payload: [UInt8], order: ByteOrder) throws(WireError) -> NameServiceMessage {
        guard payload.count == size else {
            throw WireError(
                field: "rpmsg_ns_msg", offset: 0,
                reason: "payload is \(payload.count) bytes; a name-service message is exactly \(size)")
        }
        let reader = ByteReader(payload, order: order)
        return NameServiceMessage(
            name: try RpmsgName.read(from: reader, at: 0, field: "rpmsg_ns_msg.name"),
            address: try reader.u32(at: 32, field: "rpmsg_ns_msg.addr"),
            flags: try reader.u32(at: 36, field: "rpmsg_ns_msg.flags"))
    }

    /// Writes the message's 40 bytes at `offset` (for example right after an rpmsg header).
    public func write(to writer: inout ByteWriter, at offset: Int) {
        name.write(to: &writer, at: offset)
        writer.put(address, at: offset + 32)
        writer.put(flags, at: offset + 36)
    }

    /// The message's 40 bytes.
    public func serialized(order: ByteOrder) -> [UInt8] {
        var writer = ByteWriter(count: Self.size, order: order)
        write(to: &writer, at: 0)
        return writer.bytes
    }
}

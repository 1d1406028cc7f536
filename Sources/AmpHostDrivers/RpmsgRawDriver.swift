// A host driver that gives userland an endpoint socket per channel, as Linux's rpmsg_char does with
// /dev/rpmsgN for channels named "rpmsg-raw" (and the older "rpmsg_chrdev").
//
//   probe:    creates an EndpointSocketBridge at <directory>/<link>.<channel>.<local address>, every
//             character outside [A-Za-z0-9._-] replaced by "_" (e.g. "ipu.vdev0.rpmsg-raw.1024"); what the
//             client writes is sent with the channel endpoint's blocking send;
//   message:  handed to the bridge (queued for the client; never blocks the receive thread);
//   remove:   closes the bridge: the client is disconnected and the socket file removed.
//
// A probe that cannot create the socket (path too long, something else listening there) fails, and the
// channel stays unbound. Messages arriving between the endpoint's creation and the end of the probe (the
// bus creates the endpoint first) are held and handed to the socket once it exists.

import AmpRpmsg
import AmpSystem
import Glibc

/// Binds "rpmsg-raw" and "rpmsg_chrdev" channels to endpoint sockets.
public final class RpmsgRawDriver: RpmsgDriver {
    /// Channel names the driver serves.
    public static let channelNames = ["rpmsg-raw", "rpmsg_chrdev"]

    public let name: String
    public var idTable: [String] { Self.channelNames }
    /// Directory of the sockets (created, 0700, when missing).
    public let directory: String
    /// Queue bound of every bridge (messages from the remote kept for the client).
    public let queueCapacity: Int
    private let bridges = ChannelBridgeTable<EndpointSocketBridge>(kind: .endpointSocket)

    /// - Parameters:
    ///   - directory: where the sockets are made, e.g. the instance's runtime directory.
    ///   - queueCapacity: see ``EndpointSocketBridge/init(path:mtu:queueCapacity:send:)``.
    public init(directory: String, name: String = "rpmsg_raw", queueCapacity: Int = EndpointSocketBridge.defaultQueueCapacity) {
        self.directory = directory
        self.name = name
        self.queueCapacity = queueCapacity
    }

    /// The socket file name for a channel: "<link>.<channel name>.<local address in decimal>", sanitised.
    public static func socketFileName(link: String, channelName: String, localAddress: UInt32) -> String {
        sanitizedFileName("\(link).\(channelName).\(localAddress)")
    }

    /// The socket path of `channel`, while the driver is bound to it.
    public func socketPath(forChannel channel: RpmsgChannel) -> String? {
        bridges.bridge(for: channel)?.path
    }

    /// The socket path of the channel whose device name ("<link>.<name>.<src>.<dst>") is `deviceName`.
    public func socketPath(forChannel deviceName: String) -> String? {
        bridges.bridge(forDeviceName: deviceName)?.path
    }

    /// The bridge serving `channel`, for its counters or to close it early.
    public func bridge(forChannel channel: RpmsgChannel) -> EndpointSocketBridge? {
        bridges.bridge(for: channel)
    }

    /// Every socket with its channel and counters, ordered by link and local address.
    public var snapshots: [BridgeSnapshot] { bridges.snapshots }

    public func probe(_ channel: RpmsgChannel) throws(RpmsgError) {
        guard let endpoint = channel.endpoint else {
            throw RpmsgError(.noDevice, "\(channel.deviceName): no endpoint to bridge")
        }
        let fileName = Self.socketFileName(link: channel.linkName, channelName: channel.name, localAddress: endpoint.address)
        let path = directory + "/" + fileName
        let bridge: EndpointSocketBridge
        do {
            try FileIO.makeDirectories(directory)
            bridge = try EndpointSocketBridge(
                path: path, mtu: endpoint.mtu, queueCapacity: queueCapacity, send: Self.sender(for: endpoint))
        } catch {
            channel.log("cannot create the endpoint socket: \(error)")
            bridges.discardEarly(for: channel)
            throw bridgeError(error, channel: channel)
        }
        bridges.insert(bridge, for: channel)
        channel.log("endpoint socket \(path)")
    }

    public func remove(_ channel: RpmsgChannel) {
        bridges.remove(channel)?.close()
    }

    public func callback(_ channel: RpmsgChannel, payload: [UInt8], source: UInt32) {
        bridges.deliver(payload, for: channel)
    }

    /// A blocking send on `endpoint` that does not keep the endpoint alive.
    static func sender(for endpoint: RpmsgEndpoint) -> BridgeSend {
        let link = endpoint.linkName
        let address = endpoint.address
        return { [weak endpoint] payload throws(RpmsgError) in
            guard let endpoint else { throw RpmsgError(.noDevice, "\(link): endpoint \(address) is gone") }
            try endpoint.send(payload)
        }
    }
}

/// `text` with every character outside [A-Za-z0-9._-] replaced by "_".
func sanitizedFileName(_ text: String) -> String {
    String(text.unicodeScalars.map { scalar -> Character in
        switch scalar {
        case "A"..."Z", "a"..."z", "0"..."9", ".", "_", "-": Character(scalar)
        default: "_"
        }
    })
}

/// A bridge that could not be created, as the probe's error.
func bridgeError(_ error: SystemError, channel: RpmsgChannel) -> RpmsgError {
    let code: RpmsgError.Code = error.errno == EADDRINUSE || error.errno == EEXIST ? .exists : .invalidArgument
    return RpmsgError(code, "\(channel.deviceName): \(error)")
}

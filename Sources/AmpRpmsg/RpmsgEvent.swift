// What the rpmsg core reports to its user (the host turns these into `--events json` lines): channels
// coming and going, text written by drivers, and every message it had to drop or reject, so that nothing
// disappears silently (Linux only prints "msg received with no recipient" to the kernel log).

import Synchronization

/// Identity of a channel as reported in events.
public struct RpmsgChannelInfo: Sendable, Hashable, CustomStringConvertible {
    /// Name of the link (transport) the channel lives on, for example "ipu.vdev0".
    public var link: String
    /// Channel (service) name.
    public var name: String
    /// Local address the channel was created with (``RpmsgConstants/addressAny`` for announced channels).
    public var source: UInt32
    /// Remote address.
    public var destination: UInt32

    public init(link: String, name: String, source: UInt32, destination: UInt32) {
        self.link = link
        self.name = name
        self.source = source
        self.destination = destination
    }

    /// "<link>.<name>.<src>.<dst>", addresses in signed decimal as Linux's `dev_set_name("%s.%s.%d.%d")`
    /// prints them, so an ANY source reads "-1": "ipu.vdev0.rpmsg-client-sample.-1.1024".
    public var deviceName: String {
        "\(link).\(name).\(Int32(bitPattern: source)).\(Int32(bitPattern: destination))"
    }

    public var description: String { deviceName }
}

/// Something the rpmsg core observed.
public enum RpmsgEvent: Sendable, Equatable {
    /// A channel was created (by a name-service CREATE or locally).
    case channelCreated(RpmsgChannelInfo)
    /// A channel was destroyed (name-service DESTROY, local destroy, or the link went down).
    case channelDestroyed(RpmsgChannelInfo)
    /// A CREATE named a channel that already exists (same name and addresses); nothing was created.
    case channelAlreadyExists(RpmsgChannelInfo)
    /// A DESTROY named a channel that does not exist.
    case channelNotFound(link: String, name: String, destination: UInt32)
    /// A line of text a driver wrote (Linux's `dev_info` on the channel device).
    case driverOutput(driver: String, channel: String, text: String)
    /// Binding a driver to a channel failed; the channel keeps no endpoint for that driver.
    case probeFailed(driver: String, channel: String, error: RpmsgError)
    /// Announcing a channel's destruction to the remote failed (the channel was removed anyway).
    case announceFailed(channel: String, error: RpmsgError)
    /// An inbound message named a destination address with no endpoint; it was dropped.
    case droppedNoRecipient(link: String, source: UInt32, destination: UInt32, length: Int)
    /// A message to the name-service address was rejected (wrong length or unusable content).
    case malformedNameService(link: String, source: UInt32, length: Int, reason: String)
    /// The transport received a frame it could not parse (for example a length beyond the buffer).
    case invalidInbound(link: String, reason: String)
    /// The link went down (remote stopped or crashed): every channel and endpoint on it is gone.
    case linkDown(link: String)

    /// Short machine name of the event kind ("channel-created", "dropped-no-recipient", ...).
    public var kind: String {
        switch self {
        case .channelCreated: "channel-created"
        case .channelDestroyed: "channel-destroyed"
        case .channelAlreadyExists: "channel-exists"
        case .channelNotFound: "channel-not-found"
        case .driverOutput: "driver-output"
        case .probeFailed: "probe-failed"
        case .announceFailed: "announce-failed"
        case .droppedNoRecipient: "dropped-no-recipient"
        case .malformedNameService: "malformed-ns"
        case .invalidInbound: "invalid-inbound"
        case .linkDown: "link-down"
        }
    }

    /// A readable log line; addresses in hexadecimal as Linux logs them.
    public var text: String {
        switch self {
        case .channelCreated(let info):
            "\(info.link): channel \(info.name) created: \(hex(info.source)) -> \(hex(info.destination))"
        case .channelDestroyed(let info):
            "\(info.link): channel \(info.name) destroyed: \(hex(info.source)) -> \(hex(info.destination))"
        case .channelAlreadyExists(let info):
            "\(info.link): channel \(info.name):\(hex(info.source)):\(hex(info.destination)) already exists"
        case .channelNotFound(let link, let name, let destination):
            "\(link): no channel \(name) to \(hex(destination)) to destroy"
        case .driverOutput(let driver, let channel, let text):
            "\(driver) \(channel): \(text)"
        case .probeFailed(let driver, let channel, let error):
            "\(driver) \(channel): probe failed: \(error.code.rawValue): \(error.message)"
        case .announceFailed(let channel, let error):
            "\(channel): announcing the channel failed: \(error.code.rawValue): \(error.message)"
        case .droppedNoRecipient(let link, let source, let destination, let length):
            "\(link): msg received with no recipient: \(length) bytes \(hex(source)) -> \(hex(destination))"
        case .malformedNameService(let link, let source, let length, let reason):
            "\(link): malformed ns msg (\(length) bytes from \(hex(source))): \(reason)"
        case .invalidInbound(let link, let reason):
            "\(link): invalid inbound message: \(reason)"
        case .linkDown(let link):
            "\(link): link down"
        }
    }
}

/// Formats an address as Linux's "0x%x" does.
func hex(_ address: UInt32) -> String {
    "0x" + String(address, radix: 16)
}

/// Receives events from the rpmsg core. Called on whatever thread observed the event (a transport's
/// receive thread, a sender, the thread registering a driver), never while the core holds a lock, so an
/// implementation may call back into the core.
public protocol RpmsgEventSink: Sendable {
    func emit(_ event: RpmsgEvent)
}

/// Forwards events to a closure.
public struct RpmsgEventHandler: RpmsgEventSink {
    private let handler: @Sendable (RpmsgEvent) -> Void

    public init(_ handler: @escaping @Sendable (RpmsgEvent) -> Void) {
        self.handler = handler
    }

    public func emit(_ event: RpmsgEvent) { handler(event) }
}

/// Keeps every event in memory, in order (tests, diagnostics).
public final class RpmsgEventRecorder: RpmsgEventSink {
    private let storage = Mutex<[RpmsgEvent]>([])

    public init() {}

    public func emit(_ event: RpmsgEvent) {
        storage.withLock { $0.append(event) }
    }

    /// Every event so far.
    public var events: [RpmsgEvent] { storage.withLock { $0 } }

    /// The text of every ``RpmsgEvent/driverOutput(driver:channel:text:)`` event so far.
    public var driverOutput: [String] {
        events.compactMap { event in
            if case .driverOutput(_, _, let text) = event { return text }
            return nil
        }
    }

    /// Forgets the events recorded so far.
    public func removeAll() {
        storage.withLock { $0.removeAll() }
    }
}

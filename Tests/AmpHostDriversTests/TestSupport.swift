import AmpRpmsg
import AmpSystem
import AmpTestSupport
import AmpWire
import Foundation
import Glibc
import Synchronization
import Testing

@testable import AmpHostDrivers

/// A fresh private directory under /tmp, removed with everything in it by `remove()`.
struct ScratchDirectory {
    let path: String

    init() throws {
        path = try FileIO.makeTemporaryDirectory(in: "/tmp", prefix: "ampsoc-bridges-")
    }

    func file(_ name: String) -> String { path + "/" + name }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// Payloads a test's send closure received, in order.
final class PayloadLog: Sendable {
    private let entries = Mutex<[[UInt8]]>([])
    func append(_ payload: [UInt8]) { entries.withLock { $0.append(payload) } }
    var all: [[UInt8]] { entries.withLock { $0 } }
    var count: Int { entries.withLock { $0.count } }

    /// A send closure that records into this log.
    var sender: BridgeSend { { [self] payload in append(payload) } }
}

/// Bytes of `text`.
func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

extension UnixSocket {
    /// The next message, waiting up to `timeout`; nil when none came (or the peer closed).
    func nextMessage(maxLength: Int = 65536, timeout: Duration = .seconds(5)) throws -> [UInt8]? {
        guard try waitReadable(timeout: timeout) else { return nil }
        if case .message(let bytes, _) = try receive(maxLength: maxLength, wait: false) { return bytes }
        return nil
    }

    /// What the next read gives after waiting up to `timeout` for something to read.
    func nextReceive(maxLength: Int = 65536, timeout: Duration = .seconds(5)) throws -> Received {
        guard try waitReadable(timeout: timeout) else { return .wouldBlock }
        return try receive(maxLength: maxLength, wait: false)
    }
}

/// A host with the given driver and a fake remote over an in-memory link named "ipu.vdev0", the remote
/// announcing `channelName` from an endpoint that records what it receives.
struct DriverSetup {
    let link: InMemoryLink
    let remote: RpmsgEndpoint
    let received = PayloadLog()

    init(driver: any RpmsgDriver, channelName: String, mtu: Int = RpmsgConstants.defaultMTU) throws {
        let registry = RpmsgDriverRegistry()
        try registry.register(driver)
        link = InMemoryLink(hostName: "ipu.vdev0", hostRegistry: registry, mtu: mtu)
        let received = self.received
        remote = try link.remoteBus.createEndpoint { _, payload, _ in received.append(payload) }
        try link.remoteBus.announce(channelName, from: remote, action: .create)
        link.deliverUntilIdle()
    }

    /// The host's channel.
    func channel() throws -> RpmsgChannel {
        try #require(link.hostBus.channels.first)
    }

    /// Sends from the remote endpoint to the host endpoint at `address` and delivers it.
    func remoteSends(_ payload: [UInt8], to address: UInt32 = 1024) throws {
        try remote.sendTo(address, payload)
        link.deliverPendingToHost()
    }

    /// Waits until the host has queued `count` frames for the remote, delivers them, and returns what the
    /// remote endpoint received so far.
    func deliverToRemote(expecting count: Int) -> [[UInt8]] {
        eventually { link.pendingToRemote >= count }
        link.deliverPendingToRemote()
        return received.all
    }
}

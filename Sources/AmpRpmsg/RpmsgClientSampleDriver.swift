// A host driver that behaves as Linux's samples/rpmsg/rpmsg_client_sample.c (written anew, not copied):
//
//   binds to channels named "rpmsg-client-sample" (announced by the remote);
//   probe:    reports "new channel: 0x<src> -> 0x<dst>!" and sends "hello world!" (12 bytes, no NUL);
//   message:  counts it and reports "incoming msg <n> (src: 0x<source>)"; from the 100th message on it
//             reports "goodbye!" instead of answering, otherwise it sends "hello world!" again;
//   remove:   reports "rpmsg sample client driver is removed".
//
// Against a remote that echoes every message this makes 100 round trips. Reports are driver-output
// events (Linux's dev_info lines); addresses are lowercase hexadecimal as "0x%x" prints them.

import Synchronization

/// Linux's rpmsg client sample as a host driver.
public final class RpmsgClientSampleDriver: RpmsgDriver {
    /// Channel name the driver serves.
    public static let channelName = "rpmsg-client-sample"
    /// Payload of every message the driver sends.
    public static let message: [UInt8] = Array("hello world!".utf8)
    /// Messages received after which the driver stops answering (`MSG_LIMIT`).
    public static let messageLimit = 100

    public let name: String
    public var idTable: [String] { [Self.channelName] }

    /// Progress on one channel.
    public struct Progress: Sendable, Hashable {
        /// Messages received so far.
        public var received = 0
        /// Messages sent so far ("hello world!" from probe and from each answer).
        public var sent = 0
        /// Whether ``RpmsgClientSampleDriver/messageLimit`` messages arrived ("goodbye!" was reported).
        public var isComplete = false

        public init(received: Int = 0, sent: Int = 0, isComplete: Bool = false) {
            self.received = received
            self.sent = sent
            self.isComplete = isComplete
        }
    }

    /// Progress per channel device name; an entry starts afresh when a channel of that name is probed
    /// and stays after the channel is removed.
    private let progressByChannel = Mutex<[String: Progress]>([:])

    public init(name: String = "rpmsg_client_sample") {
        self.name = name
    }

    /// Progress on the channel whose device name is `deviceName` (zero when never probed).
    public func progress(of deviceName: String) -> Progress {
        progressByChannel.withLock { $0[deviceName] } ?? Progress()
    }

    /// Messages received, summed over every channel.
    public var receivedCount: Int {
        progressByChannel.withLock { $0.values.reduce(0) { $0 + $1.received } }
    }

    /// Whether at least one channel was probed and every probed channel is complete.
    public var isComplete: Bool {
        progressByChannel.withLock { !$0.isEmpty && $0.values.allSatisfy(\.isComplete) }
    }

    public func probe(_ channel: RpmsgChannel) throws(RpmsgError) {
        progressByChannel.withLock { $0[channel.deviceName] = Progress() }
        channel.log("new channel: \(hex(channel.localAddress)) -> \(hex(channel.destination))!")
        do {
            try channel.send(Self.message)
        } catch {
            channel.log("rpmsg_send failed: \(error.code.rawValue): \(error.message)")
            throw error
        }
        record(channel) { $0.sent += 1 }
    }

    public func remove(_ channel: RpmsgChannel) {
        channel.log("rpmsg sample client driver is removed")
    }

    public func callback(_ channel: RpmsgChannel, payload: [UInt8], source: UInt32) {
        let count = record(channel) { progress in
            progress.received += 1
            if progress.received >= Self.messageLimit { progress.isComplete = true }
        }.received
        channel.log("incoming msg \(count) (src: \(hex(source)))")
        guard count < Self.messageLimit else {
            channel.log("goodbye!")
            return
        }
        do {
            try channel.send(Self.message)
            record(channel) { $0.sent += 1 }
        } catch {
            channel.log("rpmsg_send failed: \(error.code.rawValue): \(error.message)")
        }
    }

    @discardableResult
    private func record(_ channel: RpmsgChannel, _ change: (inout Progress) -> Void) -> Progress {
        progressByChannel.withLock { table in
            var progress = table[channel.deviceName] ?? Progress()
            change(&progress)
            table[channel.deviceName] = progress
            return progress
        }
    }
}

import AmpRpmsg
import AmpSystem
import AmpWire
import Glibc

/// An rpmsg endpoint of the host, owned by Swift code: send to the remote, receive what arrives at its
/// address (the Swift equivalent of an endpoint made with RPMSG_CREATE_EPT_IOCTL on /dev/rpmsg_ctrlN).
///
/// Received messages queue (up to 1024; beyond that the oldest are dropped and counted) until
/// ``receive(timeout:)`` reads them. The endpoint goes away with its remote (stop or crash): then sends fail
/// with ENODEV and, once the queue is read, so does ``receive(timeout:)``.
public final class SoCEndpoint: Sendable {
    /// The remote processor whose link the endpoint lives on.
    public let rproc: String
    /// The endpoint's local address.
    public let address: UInt32
    /// Where ``send(_:)`` goes.
    public let destination: UInt32
    let endpoint: RpmsgEndpoint
    let queue: SoCBoundedQueue<SoCMessage>

    init(rproc: String, endpoint: RpmsgEndpoint, queue: SoCBoundedQueue<SoCMessage>) {
        self.rproc = rproc
        self.address = endpoint.address
        self.destination = endpoint.destination
        self.endpoint = endpoint
        self.queue = queue
    }

    /// Largest payload a send accepts.
    public var mtu: Int { endpoint.mtu }

    /// Whether the endpoint is gone (closed, or its remote stopped or crashed).
    public var isClosed: Bool { endpoint.isDestroyed }

    /// Messages dropped because nobody read them in time.
    public var dropped: UInt64 { queue.dropped }

    var label: String { "\(rproc) endpoint 0x\(String(address, radix: 16))" }

    /// Sends `payload` to ``destination`` (blocking up to the send timeout for a buffer).
    /// - Throws: EMSGSIZE beyond the MTU, ENODEV when the endpoint is gone, ETIMEDOUT without a buffer.
    public func send(_ payload: [UInt8]) throws(SoCError) {
        do {
            try endpoint.send(payload)
        } catch {
            throw SoCError(error, context: label)
        }
    }

    /// Sends `payload` to `destination`.
    public func send(_ payload: [UInt8], to destination: UInt32) throws(SoCError) {
        do {
            try endpoint.sendTo(destination, payload)
        } catch {
            throw SoCError(error, context: label)
        }
    }

    /// The next message that arrived at this endpoint, waiting up to `timeout`.
    /// - Throws: ETIMEDOUT, or ENODEV when the endpoint is gone and nothing is left to read.
    public func receive(timeout: Duration) throws(SoCError) -> SoCMessage {
        // Waits in slices so an endpoint that goes away with its remote ends the wait at once, not at the
        // timeout.
        let deadline = MonotonicClock.deadline(after: timeout)
        while true {
            if endpoint.isDestroyed { queue.close(reason: "the endpoint is gone (closed, or its remote stopped or crashed)") }
            let now = MonotonicClock.nanoseconds()
            let slice = min(deadline > now ? deadline - now : 0, 100_000_000)
            switch queue.next(timeout: .nanoseconds(Int64(slice))) {
            case .success(let message):
                return message
            case .failure(let end):
                switch end.ending {
                case .closed(let reason):
                    throw SoCError(errno: ENODEV, "\(label): \(reason)")
                case .timedOut where MonotonicClock.nanoseconds() < deadline:
                    continue
                case .timedOut:
                    throw SoCError(errno: ETIMEDOUT, "\(label): no message within \(timeout)")
                }
            }
        }
    }

    /// Destroys the endpoint (its address is free again). Idempotent.
    public func close() {
        endpoint.destroy()
        queue.close(reason: "the endpoint was closed")
    }
}

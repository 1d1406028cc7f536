import AmpSystem
import CAmpShim

/// The peer side of ``RawSharedMemoryTransport`` (run by `ampsoc-bench-peer raw-shm`): maps the segment,
/// then loops until the host sets `stop`: drains the ring (copying every message out), echoes each ping into
/// the pong slot, and otherwise sleeps on the host->peer doorbell with `consumerWaiting` set. The protocol is
/// described in ``RawSharedMemoryLayout``.
public final class RawSharedMemoryResponder {
    private let region: RawSharedMemoryRegion
    private let buffer: UnsafeMutableRawPointer
    /// The ping sequence already answered, read when attaching (before the peer reports ready, so the host's
    /// first ping always counts as new).
    private var lastPing: UInt32

    /// Maps the segment the host created under `segmentName`.
    public init(segmentName: String) throws(BenchError) {
        region = try withSystemErrors { () throws(SystemError) -> RawSharedMemoryRegion in
            try RawSharedMemoryRegion(segment: SharedMemorySegment.open(name: segmentName))
        }
        buffer = UnsafeMutableRawPointer.allocate(byteCount: RawSharedMemoryLayout.slotSize, alignment: 64)
        lastPing = region.pingSequence.loadAcquiring()
    }

    deinit { buffer.deallocate() }

    /// Serves pings and ring messages until the host sets `stop`.
    public func serve() throws(BenchError) {
        while true {
            try drainRing()
            let ping = region.pingSequence.loadAcquiring()
            if ping != lastPing {
                lastPing = ping
                try echoPing(ping)
                continue
            }
            if region.stop.loadAcquiring() != 0 { return }
            region.consumerWaiting.storeRelaxed(1)
            amp_fence_seq_cst()
            let idle = region.ringHead.loadAcquiring() == region.ringTail.loadRelaxed()
                && region.pingSequence.loadAcquiring() == lastPing && region.stop.loadAcquiring() == 0
            if idle {
                do {
                    _ = try region.hostToPeer.wait(timeout: nil)
                } catch {
                    region.consumerWaiting.storeRelaxed(0)
                    throw .system(error)
                }
            }
            region.consumerWaiting.storeRelaxed(0)
        }
    }

    /// Copies the ping slot into the pong slot, publishes it, and rings "pong posted".
    private func echoPing(_ sequence: UInt32) throws(BenchError) {
        guard let length = region.readMessage(slotOffset: RawSharedMemoryLayout.pingSlot, into: buffer) else {
            throw .protocolViolation(transport: "raw shared memory (peer)", detail: "ping slot length above \(RawSharedMemoryLayout.maximumPayload)")
        }
        region.writeMessage(slotOffset: RawSharedMemoryLayout.pongSlot, from: buffer, count: length)
        region.pongSequence.storeReleasing(sequence)
        try withSystemErrors { () throws(SystemError) in
            try region.peerToHost.ring(notifyID: RawSharedMemoryLayout.messageNotifyID)
        }
    }

    /// Consumes every message the host has published, re-reading the head until it stops moving. Frees slots one
    /// by one; every 32 messages and at the end, rings "ring space" if the producer waits for it.
    private func drainRing() throws(BenchError) {
        var tail = region.ringTail.loadRelaxed()
        var head = region.ringHead.loadAcquiring()
        guard tail != head else { return }
        while tail != head {
            while tail != head {
                guard region.readMessage(slotOffset: RawSharedMemoryLayout.ringSlot(tail), into: buffer) != nil else {
                    throw .protocolViolation(
                        transport: "raw shared memory (peer)", detail: "ring slot \(tail) length above \(RawSharedMemoryLayout.maximumPayload)")
                }
                tail &+= 1
                region.ringTail.storeReleasing(tail)
                if tail & 31 == 0 { try wakeProducerIfWaiting() }
            }
            head = region.ringHead.loadAcquiring()
        }
        try wakeProducerIfWaiting()
    }

    /// Rings "ring space" if the producer has said it waits (after a fence: see the layout's protocol note).
    private func wakeProducerIfWaiting() throws(BenchError) {
        amp_fence_seq_cst()
        if region.producerWaiting.loadRelaxed() != 0 {
            try withSystemErrors { () throws(SystemError) in
                try region.peerToHost.ring(notifyID: RawSharedMemoryLayout.ringNotifyID)
            }
        }
    }
}

// The send side of an SMD rpmsg link (Linux's __qcom_smd_send plus poll), over AmpSMD's SmdChannel.send:
//
//   route    destination = a channel's pseudo address (SmdRpmsgAddress); none -> .noDevice
//   checks   link closed or broken -> .noDevice; channel not OPENED on both sides -> .brokenPipe (EPIPE);
//            payload beyond the channel's FIFO -> .messageTooLarge; word channel, length not a multiple of
//            4 -> .invalidArgument
//   room     FIFO full: try* sends fail with .noBuffer; blocking sends leave fBLOCKREADINTR cleared (the
//            remote kicks after it reads), wait in 20 ms slices on the link's condition (woken by the
//            service pass) or, on the service thread, on the doorbell while pulling the receive FIFOs into
//            the inbox; past the deadline -> .timedOut
//   sent     the sender becomes the channel's inbound recipient; the remote is kicked
//
// A protocol violation met while sending (the remote's tail index is garbage) breaks the link.

import AmpRpmsg
import AmpSMD
import AmpSystem
import AmpWire
import Foundation

extension SmdRpmsgEdgeLink {
    /// Sends one packet on the channel whose pseudo address is `destination`; `source` becomes the channel's
    /// inbound recipient.
    ///
    /// - Throws: `.noDevice` (link closed or broken, no channel at `destination`), `.brokenPipe` (the channel
    ///   is not open: Linux's EPIPE), `.messageTooLarge` (beyond the channel's FIFO), `.invalidArgument` (a word
    ///   channel's payload not a multiple of 4), `.noBuffer` (FIFO full, `wait` nil), `.timedOut`.
    public func send(source: UInt32, destination: UInt32, payload: [UInt8], wait: Duration?) throws(RpmsgError) {
        let outcome = payload.withUnsafeBytes { bytes in
            condition.lock()
            defer { condition.unlock() }
            return sendLocked(source: source, destination: destination, payload: bytes, wait: wait)
        }
        switch outcome {
        case .sent:
            kick()
        case .failed(let error):
            throw error
        case .violated(let detail):
            fail(detail)
            throw RpmsgError(.noDevice, "\(name): the link broke: \(detail)")
        }
    }

    /// Whether the channel that `source` sends on has room for more than a packet header (Linux's poll on
    /// an SMD endpoint). The channel is the one whose driver endpoint is `source`, or that `source` last
    /// sent on.
    ///
    /// - Throws: `.noDevice` when the link is closed or broken, `.notSupported` when `source` is tied to no
    ///   SMD channel yet.
    public func poll(source: UInt32) throws(RpmsgError) -> RpmsgPollEvents {
        enum Outcome {
            case events(RpmsgPollEvents)
            case failed(RpmsgError)
            case violated(String)
        }
        let outcome = locked { () -> Outcome in
            if let error = unavailableError() { return .failed(error) }
            let record = records.first { $0.lastSender == source }
                ?? records.first { $0.rpmsgChannel?.endpoint?.address == source }
            guard let record else {
                return .failed(RpmsgError(.notSupported, "\(name): endpoint \(hexAddress(source)) is tied to no SMD channel"))
            }
            guard record.phase == .open, record.engine.state == .opened else { return .events([]) }
            do throws(SmdError) {
                return .events(try record.engine.isWritable() ? .writable : [])
            } catch {
                return .violated(error.description)
            }
        }
        switch outcome {
        case .events(let events):
            return events
        case .failed(let error):
            throw error
        case .violated(let detail):
            fail(detail)
            throw RpmsgError(.noDevice, "\(name): the link broke: \(detail)")
        }
    }

    enum SendOutcome {
        case sent
        case failed(RpmsgError)
        case violated(String)
    }

    /// The send path with the lock held (released only while waiting).
    func sendLocked(
        source: UInt32, destination: UInt32, payload: UnsafeRawBufferPointer, wait: Duration?
    ) -> SendOutcome {
        // The clock is read and the thread identified only when the send has to wait (not per message).
        var deadline = LazyDeadline()
        var onServiceThread = false
        while true {
            if let error = unavailableError() { return .failed(error) }
            guard let record = recordsByAddress[destination] else {
                return .failed(RpmsgError(.noDevice, "\(name): no SMD channel has address \(hexAddress(destination))"))
            }
            let engine = record.engine
            guard record.phase == .open, engine.state == .opened else {
                return .failed(RpmsgError(
                    .brokenPipe, "\(name): channel \(record.name) is not open (host \(engine.state), remote \(engine.remoteState))"))
            }
            guard payload.count <= engine.maximumPayload else {
                return .failed(RpmsgError(
                    .messageTooLarge,
                    "\(name): payload of \(payload.count) bytes exceeds the \(engine.maximumPayload) bytes channel \(record.name) can carry"))
            }
            guard engine.layout == .byte || payload.count % 4 == 0 else {
                return .failed(RpmsgError(
                    .invalidArgument, "\(name): channel \(record.name) is word-wide: payload of \(payload.count) bytes is not a multiple of 4"))
            }
            let result: SmdSendResult
            do {
                result = try engine.send(payload, requestWakeup: wait != nil)
            } catch {
                switch error.code {
                case .notOpen: return .failed(RpmsgError(.brokenPipe, "\(name): \(error.description)"))
                case .invalidArgument: return .failed(RpmsgError(.invalidArgument, "\(name): \(error.description)"))
                default: return .violated(error.description)
                }
            }
            if result == .sent {
                totals.transmitted += 1
                totals.transmittedBytes += UInt64(payload.count)
                record.lastSender = source
                return .sent
            }
            guard let wait else {
                totals.noBuffer += 1
                return .failed(RpmsgError(.noBuffer, "\(name): the FIFO of channel \(record.name) is full"))
            }
            if !deadline.isStarted {
                onServiceThread = isServiceThread
                totals.blockedSends += 1
            }
            guard let left = deadline.nanosecondsLeft(after: wait) else {
                totals.sendTimeouts += 1
                return .failed(RpmsgError(.timedOut, "\(name): the remote did not make room in channel \(record.name) in time"))
            }
            let slice = min(left, MonotonicClock.nanoseconds(of: Self.waitSlice))
            if onServiceThread {
                // Nobody else would wake this thread: wait on the doorbell, then keep the receive side moving.
                condition.unlock()
                serviceThreadDoorbellWaits.wrappingAdd(1, ordering: .relaxed)
                _ = try? toHost.wait(timeout: .nanoseconds(Int64(slice)))
                condition.lock()
                if closed || failureDetail != nil { continue }
                var plan = SmdServicePlan()
                do {
                    try pullInbound(into: &plan)
                } catch {
                    return .violated(error.description)
                }
                if plan.kickRemote { kick() }
            } else {
                _ = condition.wait(until: Date(timeIntervalSinceNow: Double(slice) / 1e9))
            }
        }
    }
}

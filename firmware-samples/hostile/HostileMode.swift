// The protocol violations of ampsoc-fw-hostile and how each is written into the rings (see main.swift for
// what each mode promises and what the host is expected to do about it).

import AmpRemote
import AmpWire

/// The protocol violations this firmware can commit.
enum HostileMode: String, CaseIterable {
    case usedIndexJump = "used-idx-jump"
    case usedIDOutOfRange = "used-id-range"
    case usedIDNotPosted = "used-id-unposted"
    case usedLengthTooLong = "used-len"
    case headerLengthTooLong = "header-len"
    case descriptorScribble = "desc-scribble"
    case descriptorLoop = "desc-loop"
    case availIndexJump = "avail-idx-jump"

    /// Modes that need a message from the host first: its buffer kept in flight (used-id-unposted) or its
    /// address to send to (desc-loop). They always wait for it, whatever --trigger says.
    var needsHostMessage: Bool { self == .usedIDNotPosted || self == .descriptorLoop }

    /// The vring whose notify id is rung after the violation: vring1 for the one written there, else vring0.
    var vring: Int { self == .usedIDNotPosted ? 1 : 0 }
}

/// When the --after-ms timer starts.
enum HostileTrigger: String, CaseIterable {
    /// When the host's driver sets DRIVER_OK.
    case ready
    /// When the first message from the host arrives.
    case message
}

/// The payload of the message desc-loop returns in a looped descriptor.
let loopedMessage = Array("looping chain".utf8)

/// Commits `mode`'s violation and returns what was written, for the trace.
func misbehave(_ mode: HostileMode, core: RemoteCore, rpmsg: RpmsgRemoteDevice, endpoint: RpmsgRemoteEndpoint) throws -> String {
    let ring = try HostileRing(core: core, info: rpmsg.vrings[mode.vring])
    let used = ring.usedIndex
    let num = UInt32(ring.layout.num)
    switch mode {
    case .usedIndexJump:
        let jumped = used &+ UInt16(truncatingIfNeeded: num + 44)
        ring.publishUsedIndex(jumped)
        return "used.idx \(used) -> \(jumped)"
    case .usedIDOutOfRange:
        ring.writeUsedElement(at: used, id: num + 5, length: 16)
        ring.publishUsedIndex(used &+ 1)
        return "used.ring[\(ring.layout.slot(of: used))] = {id \(num + 5), len 16}"
    case .usedIDNotPosted:
        // vring1: the host posted one buffer per message it sent, taking descriptors from 0 up; the last
        // descriptor is one it has never posted unless num messages were in flight at once.
        ring.writeUsedElement(at: used, id: num - 1, length: 0)
        ring.publishUsedIndex(used &+ 1)
        return "vring1 used.ring[\(ring.layout.slot(of: used))] = {id \(num - 1), len 0}"
    case .usedLengthTooLong:
        let buffer = try endpoint.getTxBuffer(wait: false)
        ring.writeUsedElement(at: used, id: UInt32(buffer.descriptorIndex), length: 4096)
        ring.publishUsedIndex(used &+ 1)
        return "used.ring[\(ring.layout.slot(of: used))] = {id \(buffer.descriptorIndex), len 4096}"
    case .headerLengthTooLong:
        let buffer = try endpoint.getTxBuffer(wait: false)
        try fill(buffer, from: endpoint, length: 1000, payload: Array("hostile!".utf8))
        ring.writeUsedElement(at: used, id: UInt32(buffer.descriptorIndex), length: UInt32(RpmsgHeader.size + 8))
        ring.publishUsedIndex(used &+ 1)
        return "desc[\(buffer.descriptorIndex)] returned with len 24 and rpmsg_hdr.len 1000"
    case .descriptorScribble:
        ring.scribbleDescriptors()
        return "all \(num) descriptors scribbled"
    case .descriptorLoop:
        let buffer = try endpoint.getTxBuffer(wait: false)
        try fill(buffer, from: endpoint, length: UInt16(loopedMessage.count), payload: loopedMessage)
        ring.chainDescriptorsInALoop()
        let length = RpmsgHeader.size + loopedMessage.count
        ring.writeUsedElement(at: used, id: UInt32(buffer.descriptorIndex), length: UInt32(length))
        ring.publishUsedIndex(used &+ 1)
        return "all \(num) descriptors chained in a loop, desc[\(buffer.descriptorIndex)] returned with \(length) bytes"
    case .availIndexJump:
        let other = try HostileRing(core: core, info: rpmsg.vrings[1])
        var moves = [String]()
        for (name, vring) in [("vring0", ring), ("vring1", other)] {
            let before = vring.availIndex
            let after = before &+ UInt16(truncatingIfNeeded: num + 44)
            vring.overwriteAvailIndex(after)
            moves.append("\(name) avail.idx \(before) -> \(after)")
        }
        return moves.joined(separator: ", ")
    }
}

/// Writes rpmsg_hdr {src: the endpoint, dst: its learned destination (0x400 before one is known), len:
/// `length`} and `payload` into `buffer` (which must hold the payload).
private func fill(_ buffer: RpmsgTxBuffer, from endpoint: RpmsgRemoteEndpoint, length: UInt16, payload: [UInt8]) throws {
    guard let start = buffer.payload.baseAddress, buffer.capacity >= payload.count else {
        throw WireError(field: "buffer", offset: 0, reason: "cannot hold \(payload.count) bytes")
    }
    let destination = endpoint.destination == RpmsgRemoteEndpoint.addressAny ? 0x400 : endpoint.destination
    let header = RpmsgHeader(source: endpoint.address, destination: destination, length: length)
    UnsafeMutableRawBufferPointer(start: start - RpmsgHeader.size, count: RpmsgHeader.size)
        .copyBytes(from: header.serialized(order: .host))
    UnsafeMutableRawBufferPointer(start: start, count: payload.count).copyBytes(from: payload)
}

import AmpSystem
import AmpWire

/// Live access to the control-block fields the runtime reads or writes after attaching (layout in AmpWire's
/// ControlBlock.swift). Every synchronisation field is an atomic word on the mapping: the host reads and writes
/// the same page concurrently. Validation of the header happens once, in ``AttachLayout``.
struct ControlBlockView {
    let segment: SharedMemorySegment
    let hostState: SharedAtomicWord
    let remoteState: SharedAtomicWord
    let stopRequest: SharedAtomicWord
    let heartbeat: SharedAtomicWord64
    let crashReported: SharedAtomicWord
    let crashType: SharedAtomicWord
    let faultAddress: SharedAtomicWord64

    init(segment: SharedMemorySegment) throws(SystemError) {
        self.segment = segment
        hostState = try segment.atomicWord(at: ControlBlock.hostStateOffset)
        remoteState = try segment.atomicWord(at: ControlBlock.remoteStateOffset)
        stopRequest = try segment.atomicWord(at: ControlBlock.stopRequestOffset)
        heartbeat = try SharedAtomicWord64(segment: segment, offset: ControlBlock.heartbeatOffset)
        crashReported = try segment.atomicWord(at: ControlBlock.crashReportedOffset)
        crashType = try segment.atomicWord(at: ControlBlock.crashTypeOffset)
        faultAddress = try SharedAtomicWord64(segment: segment, offset: ControlBlock.faultAddressOffset)
    }

    /// Whether the host asked for an orderly stop (`stopRequest != 0`, acquiring).
    var isStopRequested: Bool { stopRequest.load(ordering: .acquiring) != 0 }

    /// Whether the host allows the firmware to run (`hostState == released`).
    var isReleased: Bool { hostState.load(ordering: .acquiring) == ControlBlock.HostState.released.rawValue }

    /// Publishes the runtime's state (releasing).
    func setRemoteState(_ state: ControlBlock.RemoteState) {
        remoteState.store(state.rawValue, ordering: .releasing)
    }

    /// The `written` counter of trace record `index`.
    func traceWritten(_ index: Int) throws(SystemError) -> SharedAtomicWord64 {
        try SharedAtomicWord64(segment: segment, offset: ControlBlock.traceRecordOffset(index) + 8)
    }

    /// Writes a complete crash record: type, fault address and message first, then `crashReported = 1` with
    /// release order, so a host that sees the flag sees the whole record. The message is cut to fit
    /// `crashMessage[184]` with its NUL, at a UTF-8 character boundary.
    func writeCrashRecord(type: ControlBlock.CrashType, faultAddress address: UInt64, message: String) {
        crashType.store(type.rawValue, ordering: .relaxed)
        faultAddress.store(address)
        let text = Self.truncatedUTF8(message, maxBytes: ControlBlock.crashMessageCapacity - 1)
        var field = [UInt8](repeating: 0, count: ControlBlock.crashMessageCapacity)
        field.replaceSubrange(0..<text.count, with: text)
        // The field lies inside the control page, which attach validated to be mapped; this cannot throw.
        try? segment.write(field, at: ControlBlock.crashMessageOffset)
        crashReported.store(1, ordering: .releasing)
    }

    /// The first at most `maxBytes` bytes of `text` in UTF-8, never splitting a character's encoding.
    static func truncatedUTF8(_ text: String, maxBytes: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        for scalar in text.unicodeScalars {
            let encoded = Array(String(scalar).utf8)
            if bytes.count + encoded.count > maxBytes { break }
            bytes += encoded
        }
        return bytes
    }
}

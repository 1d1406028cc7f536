import AmpVirtio

/// A transmit buffer taken for zero-copy sending: write up to ``capacity`` payload bytes into ``payload``,
/// then pass it to ``RpmsgRemoteEndpoint/sendNoCopy(_:length:to:)`` (or give it back with
/// ``RpmsgRemoteEndpoint/releaseTxBuffer(_:)``). The header in front of the payload is written on send.
public final class RpmsgTxBuffer {
    enum State: String {
        case owned
        case sent
        case released
    }

    /// The payload area inside the host's buffer (shared memory), ``capacity`` bytes.
    public var payload: UnsafeMutableRawBufferPointer { payloadArea }
    /// The most payload bytes this buffer holds (the MTU with the host's usual buffers).
    public var capacity: Int { payload.count }
    /// The vring0 descriptor (head) index the host posted this buffer as, for diagnostics.
    public var descriptorIndex: UInt16 { buffer.head }
    /// Whether the buffer can still be filled and sent.
    public var isUsable: Bool { state == .owned }

    // @exclusivity(unchecked): the message loop's thread only (see RpmsgRemoteDevice). Variables, because the
    // device reuses an object nobody references any more for the next zero-copy send (``reuse``).
    @exclusivity(unchecked) private(set) var buffer: AvailableBuffer
    @exclusivity(unchecked) private(set) var session: UInt32
    @exclusivity(unchecked) var state: State = .owned
    @exclusivity(unchecked) private var payloadArea: UnsafeMutableRawBufferPointer

    init(buffer: AvailableBuffer, session: UInt32, payload: UnsafeMutableRawBufferPointer) {
        self.buffer = buffer
        self.session = session
        payloadArea = payload
    }

    /// Makes an object whose previous buffer was sent or released, and which nobody references any more,
    /// describe a new buffer.
    func reuse(buffer: AvailableBuffer, session: UInt32, payload: UnsafeMutableRawBufferPointer) {
        self.buffer = buffer
        self.session = session
        payloadArea = payload
        state = .owned
    }
}

/// A message an endpoint received, handed to its callback while the payload still sits in the host's
/// buffer on vring1 (zero-copy).
///
/// When the callback returns, the buffer goes back to the host, unless the callback called ``hold()``: then
/// the buffer (and ``withUnsafePayload(_:)``) stays valid until ``release()``, as OpenAMP's
/// `rpmsg_hold_rx_buffer` / `rpmsg_release_rx_buffer`. ``payload`` is a copy and can be used any time: it is
/// read once from the buffer (the host cannot change it afterwards) and kept if the message outlives the
/// callback.
public final class RpmsgReceivedMessage {
    enum State: String {
        /// In the callback, not held.
        case delivering
        /// Held by the firmware.
        case held
        /// Given back by ``release()``.
        case released
        /// Given back when the callback returned.
        case returned
    }

    /// The endpoint that received it (reply through it).
    public var endpoint: RpmsgRemoteEndpoint { receivingEndpoint }
    /// The sender's address (`rpmsg_hdr.src`).
    public var source: UInt32 { sourceAddress }
    /// The receiving address (`rpmsg_hdr.dst`, the endpoint's).
    public var destination: UInt32 { destinationAddress }
    /// The payload length (`rpmsg_hdr.len`).
    public var length: Int { payloadLength }

    // @exclusivity(unchecked): see RpmsgRemoteDevice (per-message state of the loop's thread). The public
    // properties above are getters over private storage because a stored property read from another module
    // gets a dynamic exclusivity check there (the attribute is not honoured across modules), which costs more
    // than the call.
    @exclusivity(unchecked) private var receivingEndpoint: RpmsgRemoteEndpoint
    @exclusivity(unchecked) private var sourceAddress: UInt32
    @exclusivity(unchecked) private var destinationAddress: UInt32
    @exclusivity(unchecked) private var payloadLength: Int

    @exclusivity(unchecked) private(set) var head: UInt16
    @exclusivity(unchecked) private(set) var session: UInt32
    @exclusivity(unchecked) private(set) var state: State = .delivering
    /// The payload in the shared buffer, while the firmware may read it there.
    @exclusivity(unchecked) private var inBuffer: UnsafeRawBufferPointer?
    @exclusivity(unchecked) private var copy: [UInt8]?

    init(endpoint: RpmsgRemoteEndpoint, source: UInt32, destination: UInt32, head: UInt16, session: UInt32, payload: UnsafeRawBufferPointer) {
        receivingEndpoint = endpoint
        sourceAddress = source
        destinationAddress = destination
        payloadLength = payload.count
        self.head = head
        self.session = session
        inBuffer = payload
    }

    /// Makes a message object that nobody references any more (its callback returned without keeping it)
    /// describe the next message, instead of allocating a new one.
    func reuse(endpoint: RpmsgRemoteEndpoint, source: UInt32, destination: UInt32, head: UInt16, session: UInt32, payload: UnsafeRawBufferPointer) {
        // Consecutive messages usually go to the same endpoint: skip the store (a retain and a release).
        if receivingEndpoint !== endpoint { receivingEndpoint = endpoint }
        sourceAddress = source
        destinationAddress = destination
        payloadLength = payload.count
        self.head = head
        self.session = session
        inBuffer = payload
        if copy != nil { copy = nil }
        state = .delivering
    }

    /// The payload bytes (copied from the buffer on first use).
    public var payload: [UInt8] {
        if let copy { return copy }
        let bytes = inBuffer.map { Array($0) } ?? []
        copy = bytes
        return bytes
    }

    /// Calls `body` with the payload: in the shared buffer while the callback runs or the buffer is held,
    /// otherwise in the copy.
    public func withUnsafePayload<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        if let inBuffer { return try body(inBuffer) }
        return try payload.withUnsafeBytes(body)
    }

    /// Whether the buffer is held (``hold()`` called, ``release()`` not yet).
    public var isHeld: Bool { state == .held }

    /// Keeps the buffer from going back to the host when the callback returns; only possible inside the
    /// callback. Returns whether the buffer is held. The host cannot reuse a held buffer: hold few, briefly.
    @discardableResult
    public func hold() -> Bool {
        if state == .delivering {
            state = .held
            endpoint.device.hold(self)
        }
        return state == .held
    }

    /// Gives a held buffer back to the host (the payload stays available as a copy). Does nothing unless held.
    public func release() {
        guard state == .held else { return }
        leaveBuffer(keepCopy: true, state: .released)
        endpoint.device.release(self)
    }

    /// Sends `payload` back to the sender from the receiving endpoint (blocking, as
    /// ``RpmsgRemoteEndpoint/send(to:_:timeout:)``).
    public func reply(_ payload: [UInt8]) throws(RpmsgRemoteError) {
        try endpoint.send(to: source, payload)
    }

    /// The buffer goes back to the host: keep a copy of the payload if someone may still read it.
    func leaveBuffer(keepCopy: Bool, state newState: State) {
        if keepCopy, copy == nil, let inBuffer { copy = Array(inBuffer) }
        inBuffer = nil
        state = newState
    }
}

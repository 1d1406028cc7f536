import AmpVirtio
import AmpWire

/// An rpmsg endpoint of the remote core: an address on the rpmsg bus with a callback for the messages sent
/// to it, and the sending calls of Linux's rpmsg API and OpenAMP (send, sendto, trysend, zero-copy).
///
/// Create one with ``RpmsgRemoteDevice/createEndpoint(name:address:callback:)``. Sending calls block the
/// caller (running the doorbell wait, with the heartbeat) until a transmit buffer is free, up to the device's
/// `sendTimeout`; the `try` variants fail at once with `noBuffer`. Payloads are at most the device's
/// ``RpmsgRemoteDevice/mtu`` bytes (496 with 512-byte buffers).
public final class RpmsgRemoteEndpoint {
    /// `RPMSG_ADDR_ANY`: let the device choose an address (the lowest free one from 1024).
    public static let addressAny = RpmsgConstants.addressAny

    /// The service name announced to the host, if any.
    public var name: String? { rpmsgName?.string }
    /// The endpoint's address (the `src` of what it sends).
    public let address: UInt32
    /// Where ``send(_:)`` sends: ADDR_ANY until set, or learned from the first message received.
    public var destination: UInt32 {
        get { defaultDestination }
        set { defaultDestination = newValue }
    }
    /// Whether ``destroy()`` was called.
    public var isDestroyed: Bool { destroyed }

    // Private storage behind the public accessors: a stored property used from another module gets a dynamic
    // exclusivity check there (`@exclusivity(unchecked)` is not honoured across modules).
    @exclusivity(unchecked) private var defaultDestination: UInt32 = RpmsgConstants.addressAny
    @exclusivity(unchecked) private var destroyed = false

    /// The device, unretained: sends go through it per message, where an `unowned` reference would cost a
    /// checked retain and a release each time. `deviceLifetime` stands in for `unowned`'s check.
    private let deviceReference: Unmanaged<RpmsgRemoteDevice>
    private let deviceLifetime: DeviceLifetime
    let rpmsgName: RpmsgName?
    let callback: (RpmsgReceivedMessage) -> Void

    init(device: RpmsgRemoteDevice, name: RpmsgName?, address: UInt32, callback: @escaping (RpmsgReceivedMessage) -> Void) {
        deviceReference = .passUnretained(device)
        deviceLifetime = device.lifetime
        self.rpmsgName = name
        self.address = address
        self.callback = callback
    }

    // MARK: Sending

    /// Sends `payload` to ``destination`` (Linux's `rpmsg_send`), blocking until a buffer is free.
    /// - Throws: `invalidAddress` without a destination; see ``send(to:_:timeout:)``.
    public func send(_ payload: [UInt8]) throws(RpmsgRemoteError) {
        try send(to: destination, payload)
    }

    /// Sends `payload` to `destination` (Linux's `rpmsg_sendto`), waiting up to `timeout` (default: the
    /// device's `sendTimeout`) for a transmit buffer and, before DRIVER_OK, for the host's driver.
    /// - Throws: `messageTooLarge` (over the MTU), `invalidAddress` (ADDR_ANY), `destroyed`, `timedOut`,
    ///   `stopping` (the host asked for a stop while waiting).
    public func send(to destination: UInt32, _ payload: [UInt8], timeout: Duration? = nil) throws(RpmsgRemoteError) {
        try checkAlive()
        try withDevice { device throws(RpmsgRemoteError) in
            let wait = timeout ?? device.configuration.sendTimeout
            try withBytes(of: payload) { bytes throws(RpmsgRemoteError) in
                try device.send(from: address, to: destination, payload: bytes, timeout: wait)
            }
        }
    }

    /// Sends `payload` to ``destination`` without waiting (Linux's `rpmsg_trysend`).
    /// - Throws: `noBuffer` when no transmit buffer is free, `notReady` before DRIVER_OK; see ``send(to:_:timeout:)``.
    public func trySend(_ payload: [UInt8]) throws(RpmsgRemoteError) {
        try trySend(to: destination, payload)
    }

    /// Sends `payload` to `destination` without waiting (Linux's `rpmsg_trysendto`).
    public func trySend(to destination: UInt32, _ payload: [UInt8]) throws(RpmsgRemoteError) {
        try checkAlive()
        try withDevice { device throws(RpmsgRemoteError) in
            try withBytes(of: payload) { bytes throws(RpmsgRemoteError) in
                try device.send(from: address, to: destination, payload: bytes, timeout: nil)
            }
        }
    }

    // MARK: Zero-copy sending

    /// Takes a transmit buffer to fill in place (OpenAMP's `rpmsg_get_tx_payload_buffer`): its
    /// ``RpmsgTxBuffer/payload`` points into shared memory. Send it with ``sendNoCopy(_:length:to:)`` or give
    /// it back with ``releaseTxBuffer(_:)``. With `wait` false fails at once (`noBuffer`, `notReady`).
    public func getTxBuffer(wait: Bool = true) throws(RpmsgRemoteError) -> RpmsgTxBuffer {
        try checkAlive()
        return try withDevice { device throws(RpmsgRemoteError) in
            try device.txBuffer(timeout: wait ? device.configuration.sendTimeout : nil)
        }
    }

    /// Sends the first `length` bytes of `buffer`'s payload to `destination` (default ``destination``)
    /// without copying (OpenAMP's `rpmsg_sendto_nocopy`). The buffer is then the host's.
    /// - Throws: `invalidBuffer` (already sent or released, or from before a device reset), `messageTooLarge`
    ///   (length beyond the buffer), `invalidAddress`, `destroyed`.
    public func sendNoCopy(_ buffer: RpmsgTxBuffer, length: Int, to destination: UInt32? = nil) throws(RpmsgRemoteError) {
        try checkAlive()
        let target = destination ?? self.destination
        try withDevice { device throws(RpmsgRemoteError) in
            try device.sendNoCopy(buffer, length: length, from: address, to: target)
        }
    }

    /// Gives back a buffer from ``getTxBuffer(wait:)`` without sending it; the next send reuses it.
    public func releaseTxBuffer(_ buffer: RpmsgTxBuffer) {
        device.releaseTxBuffer(buffer)
    }

    // MARK: Lifetime

    /// Destroys the endpoint: later messages to its address are dropped; a named endpoint is announced as
    /// destroyed (name-service DESTROY). Sending afterwards fails with `destroyed`.
    public func destroy() {
        guard !destroyed else { return }
        destroyed = true
        device.destroy(self)
    }

    /// The device (for paths that do not run per message; those use ``withDevice(_:)``). Traps once the
    /// device is gone, as the `unowned` reference it replaces did.
    var device: RpmsgRemoteDevice {
        checkDeviceLifetime()
        return deviceReference.takeUnretainedValue()
    }

    /// Runs `body` with the device, unretained; traps once the device is gone.
    @inline(__always)
    private func withDevice<Value>(
        _ body: (RpmsgRemoteDevice) throws(RpmsgRemoteError) -> Value
    ) throws(RpmsgRemoteError) -> Value {
        checkDeviceLifetime()
        return try deviceReference._withUnsafeGuaranteedRef { device in
            Result { () throws(RpmsgRemoteError) -> Value in try body(device) }
        }.get()
    }

    @inline(__always)
    private func checkDeviceLifetime() {
        guard deviceLifetime.isAlive else {
            fatalError("rpmsg: endpoint \(rpmsgHex(address)) used after its core (and rpmsg device) was released")
        }
    }

    /// `Array.withUnsafeBytes` with a typed error (the standard library's is untyped `rethrows`).
    private func withBytes(of payload: [UInt8], _ body: (UnsafeRawBufferPointer) throws(RpmsgRemoteError) -> Void) throws(RpmsgRemoteError) {
        var failure: RpmsgRemoteError?
        payload.withUnsafeBytes { bytes in
            do throws(RpmsgRemoteError) { try body(bytes) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    private func checkAlive() throws(RpmsgRemoteError) {
        guard !isDestroyed else {
            throw RpmsgRemoteError(.destroyed, "rpmsg: endpoint \(rpmsgHex(address))\(name.map { " (\"\($0)\")" } ?? "") was destroyed")
        }
    }
}

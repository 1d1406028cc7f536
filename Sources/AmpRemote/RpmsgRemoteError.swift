/// Why an rpmsg operation of the remote-core runtime failed. Codes are errno-like, so behaviour compares
/// with Linux's rpmsg API and OpenAMP's `RPMSG_ERR_*` values; the message names the endpoint, address or
/// size at fault.
///
/// Protocol violations by the host (a descriptor outside the memory regions, a broken ring) are not
/// errors the firmware sees: the runtime reports them as a fatal error crash and halts.
public struct RpmsgRemoteError: Error, Equatable, Sendable, CustomStringConvertible {
    /// errno-like classification.
    public enum Code: String, Sendable, Equatable {
        /// The loaded resource table has no usable rpmsg vdev (ENODEV).
        case noVirtioDevice
        /// The host's driver has not set DRIVER_OK yet (ENOTCONN; OpenAMP: RPMSG_ERR_DEV_STATE).
        case notReady
        /// No transmit buffer is available right now (ENOMEM, as Linux's trysend; OpenAMP: RPMSG_ERR_NO_BUFF).
        case noBuffer
        /// A blocking send waited its whole timeout for a buffer (ETIMEDOUT; Linux gives up after 15 s).
        case timedOut
        /// The host asked for an orderly stop while the call was blocked (ESHUTDOWN).
        case stopping
        /// The payload is longer than the MTU or the buffer (EMSGSIZE).
        case messageTooLarge
        /// A source or destination address is ADDR_ANY, or the endpoint has no destination yet (EINVAL).
        case invalidAddress
        /// The requested endpoint address is taken or reserved (EADDRINUSE).
        case addressInUse
        /// The endpoint was destroyed (EPIPE).
        case destroyed
        /// The endpoint name does not fit `char name[32]` or contains NUL (EINVAL).
        case invalidName
        /// A zero-copy buffer was already sent or released, or belongs to an earlier device session (EINVAL).
        case invalidBuffer
        /// The operation does not exist on this transport, e.g. zero-copy sending over SMD (EOPNOTSUPP).
        case notSupported
        /// The SMD channel (or the edge) cannot be set up: no smem region, SMEM full, spinlock timeout (ENOSPC).
        case channelUnavailable
    }

    public var code: Code
    /// What failed, naming the endpoint, address or size.
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}

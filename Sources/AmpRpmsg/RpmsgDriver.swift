// The rpmsg driver interface (Linux's `struct rpmsg_driver`): a driver names the channels it serves and
// is told when one appears (probe), when one goes away (remove), and about every message arriving on the
// endpoint the bus created for it (callback).
//
// Bus probe sequence: create the channel's endpoint (address = channel source, or the lowest free one) ->
// driver.probe -> announce the channel to the remote (only for local channels with a fixed source, when
// the link carries name-service messages). Remove sequence: announce the destruction -> driver.remove ->
// destroy the endpoint. No core lock is held while a driver method runs.

/// A host driver for rpmsg channels.
public protocol RpmsgDriver: AnyObject, Sendable {
    /// The driver's name (reported in events; unique within a registry).
    var name: String { get }

    /// Names of the channels the driver serves (Linux's `id_table`), compared byte for byte with the
    /// channel name.
    var idTable: [String] { get }

    /// A matching channel appeared; its endpoint exists already (``RpmsgChannel/endpoint``) and may
    /// receive messages before this returns. Throwing undoes the binding: the endpoint is destroyed and
    /// the next matching driver, if any, is tried.
    func probe(_ channel: RpmsgChannel) throws(RpmsgError)

    /// The channel is going away (or the driver is being unregistered). Sends may fail with `.noDevice`
    /// when the link is already down. The endpoint is destroyed right after this returns.
    func remove(_ channel: RpmsgChannel)

    /// A message arrived on the channel's endpoint from `source`. Runs on the transport's receive thread.
    func callback(_ channel: RpmsgChannel, payload: [UInt8], source: UInt32)

    /// The same, with the payload lent where it lies (valid only during the call, as Linux's rx callback's
    /// `data`); the bus calls this one. Default: copies the payload and calls
    /// ``callback(_:payload:source:)``. A driver that reads messages in place implements it to skip the copy.
    func callback(_ channel: RpmsgChannel, bytes: UnsafeRawBufferPointer, source: UInt32)
}

extension RpmsgDriver {
    public func callback(_ channel: RpmsgChannel, bytes: UnsafeRawBufferPointer, source: UInt32) {
        callback(channel, payload: Array(bytes), source: source)
    }
}

extension RpmsgDriver {
    /// Whether ``idTable`` contains a channel name, compared byte for byte.
    public func serves(_ channelName: [UInt8]) -> Bool {
        idTable.contains { Array($0.utf8) == channelName }
    }
}

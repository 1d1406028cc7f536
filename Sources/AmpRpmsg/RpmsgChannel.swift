// An rpmsg channel (Linux's `struct rpmsg_device`): a named service on one link, {name, src, dst}, that a
// driver can bind to. Channels announced by the remote have src ANY and dst = the remote endpoint's address;
// channels created locally may have a fixed src, and only those are announced back to the remote.
//
// Binding state (changed only by the bus's probe/remove sequence, never while a driver runs under a lock):
//
//   unbound --claim--> probing --probe ok--> bound --unbind/destroy--> removing --> unbound
//                         \--probe failed--> unbound
//
// A channel destroyed while a probe is running is removed by the prober as soon as the probe finishes.

import AmpWire
import Synchronization

/// A named service on one link, which a driver binds to.
public final class RpmsgChannel: Sendable {
    /// Service name as carried on the wire (at most 31 bytes).
    public let rpmsgName: RpmsgName
    /// Local address the channel was created with (ANY for channels announced by the remote).
    public let source: UInt32
    /// Remote address.
    public let destination: UInt32
    /// Whether probing announces the channel to the remote (created locally with a fixed source).
    public let announces: Bool
    /// Link name, name and addresses as reported in events.
    public let info: RpmsgChannelInfo

    /// The link's core (nil once it is gone); drivers use it to create further endpoints.
    public weak let bus: RpmsgBus?
    private let state = Mutex(State())

    enum Binding {
        case unbound
        case probing(any RpmsgDriver)
        case bound(any RpmsgDriver)
        case removing(any RpmsgDriver)
    }

    private struct State {
        var binding = Binding.unbound
        var endpoint: RpmsgEndpoint?
        var destroyed = false
        var removeAfterProbe = false
    }

    init(name: RpmsgName, source: UInt32, destination: UInt32, announces: Bool, bus: RpmsgBus) {
        self.rpmsgName = name
        self.source = source
        self.destination = destination
        self.announces = announces
        self.bus = bus
        self.info = RpmsgChannelInfo(link: bus.name, name: name.string, source: source, destination: destination)
    }

    /// Service name as text.
    public var name: String { info.name }

    /// Name of the link the channel lives on.
    public var linkName: String { info.link }

    /// "<link>.<name>.<src>.<dst>" as Linux names the channel device (see ``RpmsgChannelInfo/deviceName``).
    public var deviceName: String { info.deviceName }

    /// The endpoint of the bound (or probing) driver, if any.
    public var endpoint: RpmsgEndpoint? { state.withLock { $0.endpoint } }

    /// The channel's local address: its endpoint's address once a driver is bound, else ``source``.
    /// (Linux updates `rpdev->src` to the endpoint address the same way.)
    public var localAddress: UInt32 { endpoint?.address ?? source }

    /// Name of the driver probing, bound to, or being removed from the channel.
    public var driverName: String? { state.withLock { $0.binding.driver?.name } }

    /// Whether a driver is bound (probe finished successfully and remove has not started).
    public var isBound: Bool {
        state.withLock { if case .bound = $0.binding { true } else { false } }
    }

    /// Whether the channel was destroyed (name-service DESTROY, local destroy, or link down).
    public var isDestroyed: Bool { state.withLock { $0.destroyed } }

    // MARK: Driver helpers

    /// Sends to the channel's destination from its endpoint, waiting for a buffer (`rpmsg_send(rpdev->ept)`).
    /// - Throws: `.noDevice` when no driver endpoint exists, else as ``RpmsgEndpoint/send(_:)``.
    public func send(_ payload: [UInt8]) throws(RpmsgError) {
        try requireEndpoint().send(payload)
    }

    /// As ``send(_:)`` without waiting: `.noBuffer` when no buffer is free (`rpmsg_trysend(rpdev->ept)`).
    public func trySend(_ payload: [UInt8]) throws(RpmsgError) {
        try requireEndpoint().trySend(payload)
    }

    /// Reports a line of driver output (Linux's `dev_info(&rpdev->dev, ...)`) as a
    /// ``RpmsgEvent/driverOutput(driver:channel:text:)`` event.
    public func log(_ text: String) {
        bus?.emit(.driverOutput(driver: driverName ?? "", channel: deviceName, text: text))
    }

    private func requireEndpoint() throws(RpmsgError) -> RpmsgEndpoint {
        guard let endpoint else {
            throw RpmsgError(.noDevice, "\(deviceName): the channel has no endpoint (no driver bound)")
        }
        return endpoint
    }

    // MARK: Matching

    /// Linux's `rpmsg_device_match`: the name must be equal; an address that is not ANY must be equal too
    /// (the source is compared with ``localAddress``).
    func matches(name: RpmsgName, source: UInt32, destination: UInt32) -> Bool {
        guard name == rpmsgName else { return false }
        if source != RpmsgConstants.addressAny, source != localAddress { return false }
        if destination != RpmsgConstants.addressAny, destination != self.destination { return false }
        return true
    }

    // MARK: Binding state (used by the bus)

    /// Reserves the channel for `driver`'s probe; false when it is destroyed or not unbound.
    func claim(for driver: any RpmsgDriver) -> Bool {
        state.withLock { state in
            guard !state.destroyed, case .unbound = state.binding else { return false }
            state.binding = .probing(driver)
            return true
        }
    }

    /// Whether a driver could bind now (not destroyed, nobody probing or bound).
    var isAvailable: Bool {
        state.withLock { state in
            guard !state.destroyed, case .unbound = state.binding else { return false }
            return true
        }
    }

    func setEndpoint(_ endpoint: RpmsgEndpoint?) {
        state.withLock { $0.endpoint = endpoint }
    }

    /// What the prober must do after a successful probe.
    enum ProbeOutcome {
        case bound
        /// The channel was destroyed while probing: run the remove sequence now.
        case removeNow
    }

    /// Ends a probe. On failure the channel is unbound again; on success it is bound, unless it was
    /// destroyed meanwhile.
    func finishProbe(succeeded: Bool) -> ProbeOutcome {
        state.withLock { state in
            guard case .probing(let driver) = state.binding else { return .bound }
            guard succeeded else {
                state.binding = .unbound
                state.endpoint = nil
                state.removeAfterProbe = false
                return .bound
            }
            if state.removeAfterProbe {
                state.binding = .removing(driver)
                return .removeNow
            }
            state.binding = .bound(driver)
            return .bound
        }
    }

    /// Marks the channel destroyed. Returns the driver whose remove sequence must run now (bound), or nil
    /// (unbound, already removing, or probing, in which case the prober removes it).
    func beginDestroy() -> (any RpmsgDriver)? {
        state.withLock { state in
            state.destroyed = true
            switch state.binding {
            case .bound(let driver):
                state.binding = .removing(driver)
                return driver
            case .probing:
                state.removeAfterProbe = true
                return nil
            case .unbound, .removing:
                return nil
            }
        }
    }

    /// Starts unbinding `driver` (driver unregistration); false when it is not the bound driver.
    func beginUnbind(_ driver: any RpmsgDriver) -> Bool {
        state.withLock { state in
            guard case .bound(let bound) = state.binding, bound === driver else { return false }
            state.binding = .removing(driver)
            return true
        }
    }

    /// Ends a remove sequence: the channel is unbound and has no endpoint.
    func finishRemove() {
        state.withLock { state in
            state.binding = .unbound
            state.endpoint = nil
        }
    }
}

extension RpmsgChannel.Binding {
    var driver: (any RpmsgDriver)? {
        switch self {
        case .unbound: nil
        case .probing(let driver), .bound(let driver), .removing(let driver): driver
        }
    }
}

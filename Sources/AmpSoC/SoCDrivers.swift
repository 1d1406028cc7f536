import AmpHostDrivers
import AmpRpmsg
import AmpSystem
import AmpWire
import Glibc
import Synchronization

// The host drivers every emulated SoC has (endpoint sockets for "rpmsg-raw"/"rpmsg_chrdev" channels, a
// pseudo-terminal for "rpmsg-tty" channels) and the endpoints users create with a socket of their own
// (`ampsoc ept create`, Linux's RPMSG_CREATE_EPT_IOCTL on /dev/rpmsg_ctrlN).

/// The endpoints an instance holds for its users.
struct EndpointTables {
    /// The standing endpoint of each channel (``EmulatedSoC/send(channel:rproc:_:)``), by channel identity.
    var standing: [ObjectIdentifier: StandingEndpoint] = [:]
    /// Endpoints with sockets, by name.
    var created: [String: CreatedEndpoint] = [:]
    /// The drivers installed in the host's registry.
    var raw: RpmsgRawDriver?
    var tty: RpmsgTTYDriver?
    /// Every driver registered by this SoC (built-in and the user's).
    var drivers: [any RpmsgDriver] = []
}

/// An endpoint made by ``EmulatedSoC/createEndpoint(rproc:name:source:destination:)`` with its socket.
struct CreatedEndpoint {
    let rproc: String
    let name: String
    let endpoint: RpmsgEndpoint
    let bridge: EndpointSocketBridge
}

/// Where an endpoint's callback finds the bridge made right after the endpoint.
private final class BridgeSlot: Sendable {
    private let slot = Mutex<EndpointSocketBridge?>(nil)
    private let early = Mutex<[[UInt8]]>([])

    func deliver(_ payload: [UInt8]) {
        let bridge = slot.withLock { $0 }
        if let bridge {
            bridge.deliver(payload)
        } else {
            early.withLock { $0.append(payload) }
        }
    }

    /// Installs the bridge and hands it what arrived before it existed, in order.
    func install(_ bridge: EndpointSocketBridge) {
        slot.withLock { slot in
            for payload in early.withLock({ queued in defer { queued.removeAll() }; return queued }) {
                bridge.deliver(payload)
            }
            slot = bridge
        }
    }
}

extension EmulatedSoC {
    func installDrivers() {
        let raw = RpmsgRawDriver(directory: socketDirectory)
        let tty = RpmsgTTYDriver()
        // A fresh host's registry holds only the client sample driver: these names cannot clash.
        try? host.rpmsgRegistry.register(raw)
        try? host.rpmsgRegistry.register(tty)
        endpoints.withLock { tables in
            tables.raw = raw
            tables.tty = tty
            tables.drivers = [host.rpmsgClientSample, raw, tty]
        }
    }

    /// Registers a user's driver.
    func installDriver(_ driver: any RpmsgDriver) throws(RpmsgError) {
        try host.rpmsgRegistry.register(driver)
        endpoints.withLock { $0.drivers.append(driver) }
    }

    /// Whether a driver of this SoC serves channels named like `channel` (it will bind it).
    func hasDriver(for channel: RpmsgChannel) -> Bool {
        let name = Array(channel.name.utf8)
        return endpoints.withLock { $0.drivers }.contains { $0.serves(name) }
    }

    func uninstallDrivers() {
        let (raw, tty) = endpoints.withLock { ($0.raw, $0.tty) }
        if let raw { host.rpmsgRegistry.unregister(raw) }
        if let tty { host.rpmsgRegistry.unregister(tty) }
    }

    func socketPath(for channel: RpmsgChannel) -> String? {
        endpoints.withLock { $0.raw }?.socketPath(forChannel: channel)
    }

    func terminalPath(for channel: RpmsgChannel) -> String? {
        endpoints.withLock { $0.tty }?.terminalPath(forChannel: channel)
    }

    func bridgeStatus(for channel: RpmsgChannel) -> BridgeStatus? {
        let (raw, tty) = endpoints.withLock { ($0.raw, $0.tty) }
        if let socket = raw?.bridge(forChannel: channel) {
            return BridgeStatus(
                mtu: socket.mtu, clientConnected: socket.isClientConnected, counters: socket.counters,
                lastError: socket.lastError)
        }
        if let terminal = tty?.bridge(forChannel: channel) {
            return BridgeStatus(mtu: terminal.mtu, clientConnected: nil, counters: terminal.counters, lastError: terminal.lastError)
        }
        return nil
    }

    /// Closes every endpoint the instance holds for its users (at shutdown).
    func closeEndpoints() {
        let (standing, created) = endpoints.withLock { tables in
            defer {
                tables.standing.removeAll()
                tables.created.removeAll()
            }
            return (tables.standing.values.map(\.endpoint), Array(tables.created.values))
        }
        for endpoint in standing { endpoint.close() }
        for entry in created {
            entry.bridge.close()
            entry.endpoint.destroy()
        }
    }

    // MARK: Endpoints with sockets

    /// Creates an endpoint called `name` on `rproc`'s (first) rpmsg link, at `source` (ANY: the lowest free
    /// address from 1024) sending to `destination`, with a SOCK_SEQPACKET socket in ``socketDirectory``
    /// (semantics in docs/endpoint-sockets.md). The endpoint is not announced. It lives until
    /// ``destroyEndpoint(name:)``, until its remote stops or crashes (the socket is then closed and removed),
    /// or until shutdown.
    /// - Throws: EEXIST for a name in use, EINVAL for a bad name, ENODEV when `rproc` has no link, EBUSY for
    ///   a source address in use, or the socket's error naming its path.
    public func createEndpoint(
        rproc: String, name: String, source: UInt32 = RpmsgConstants.addressAny,
        destination: UInt32 = RpmsgConstants.addressAny
    ) throws(SoCError) -> EndpointStatus {
        guard !name.isEmpty, name.utf8.count <= 64,
            name.utf8.allSatisfy({ $0.isSocketNameByte })
        else {
            throw SoCError(errno: EINVAL, "endpoint name '\(name)': use 1 to 64 characters of A-Z a-z 0-9 . _ -")
        }
        if endpoints.withLock({ $0.created[name] != nil }) {
            throw SoCError(errno: EEXIST, "endpoint \(name) exists already")
        }
        let bus = try onProcessor(rproc) { processor throws(SoCError) in
            guard let bus = processor.rpmsgBuses.first else {
                throw SoCError(errno: ENODEV, "\(rproc): no rpmsg link: processor is \(processor.state)")
            }
            return bus
        }
        let slot = BridgeSlot()
        let endpoint: RpmsgEndpoint
        do {
            endpoint = try bus.createEndpoint(address: source, destination: destination) { _, payload, _ in
                slot.deliver(payload)
            }
        } catch {
            throw SoCError(error, context: "endpoint \(name) on \(rproc) (\(bus.name))")
        }
        let path = socketDirectory + "/ept." + rproc + "." + name
        let bridge: EndpointSocketBridge
        do {
            bridge = try EndpointSocketBridge(path: path, mtu: endpoint.mtu) { payload throws(RpmsgError) in
                try endpoint.send(payload)
            }
        } catch {
            endpoint.destroy()
            throw SoCError(errno: error.errno, "endpoint \(name): \(error.description)")
        }
        slot.install(bridge)
        let entry = CreatedEndpoint(rproc: rproc, name: name, endpoint: endpoint, bridge: bridge)
        let inserted = endpoints.withLock { tables in
            guard tables.created[name] == nil else { return false }
            tables.created[name] = entry
            return true
        }
        guard inserted else {
            bridge.close()
            endpoint.destroy()
            throw SoCError(errno: EEXIST, "endpoint \(name) exists already")
        }
        return Self.status(entry)
    }

    /// Destroys the endpoint called `name` and removes its socket. ENOENT when there is none.
    public func destroyEndpoint(name: String) throws(SoCError) {
        guard let entry = endpoints.withLock({ $0.created.removeValue(forKey: name) }) else {
            throw SoCError(errno: ENOENT, "no endpoint named \(name)")
        }
        entry.bridge.close()
        entry.endpoint.destroy()
    }

    /// The endpoints made with ``createEndpoint(rproc:name:source:destination:)`` that still exist, by name.
    public func endpointsStatus() -> [EndpointStatus] {
        endpoints.withLock { Array($0.created.values) }.filter { !$0.endpoint.isDestroyed }
            .sorted { $0.name < $1.name }.map(Self.status)
    }

    static func status(_ entry: CreatedEndpoint) -> EndpointStatus {
        EndpointStatus(
            rproc: entry.rproc, link: entry.endpoint.linkName, name: entry.name, address: entry.endpoint.address,
            destination: entry.endpoint.destination, counters: entry.endpoint.counters, socketPath: entry.bridge.path,
            bridge: BridgeStatus(
                mtu: entry.bridge.mtu, clientConnected: entry.bridge.isClientConnected, counters: entry.bridge.counters,
                lastError: entry.bridge.lastError))
    }

    /// Closes the sockets of created endpoints whose link went away (main loop, every round).
    func sweepCreatedEndpoints() {
        let gone = endpoints.withLock { tables in
            let gone = tables.created.values.filter { $0.endpoint.isDestroyed }
            for entry in gone { tables.created[entry.name] = nil }
            return gone
        }
        for entry in gone {
            entry.bridge.close()
            hub.emit(.info(rproc: entry.rproc, message: "endpoint \(entry.name) closed: its rpmsg link went down"))
        }
    }
}

extension UInt8 {
    /// A-Z a-z 0-9 . _ -
    var isSocketNameByte: Bool {
        (self >= 0x30 && self <= 0x39) || (self >= 0x41 && self <= 0x5A) || (self >= 0x61 && self <= 0x7A)
            || self == 0x2E || self == 0x5F || self == 0x2D
    }
}

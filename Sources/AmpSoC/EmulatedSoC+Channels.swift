import AmpRemoteproc
import AmpRpmsg
import AmpRpmsgVirtio
import AmpWire
import Glibc

// rpmsg channels on the host bus: listing, waiting for one to be announced, and talking to the service
// behind one from Swift.
extension EmulatedSoC {
    /// Every channel of every running remote (of `rproc` only, when given), in creation order per link.
    public func channels(rproc: String? = nil) throws(SoCError) -> [ChannelStatus] {
        try perform { [self] host in
            host.remoteProcessors.filter { rproc == nil || $0.name == rproc }.flatMap { processor in
                processor.rpmsgBuses.flatMap { bus in
                    bus.channels.filter { !$0.isDestroyed }.map { channelStatus($0, rproc: processor.name, bus: bus) }
                }
            }
        }
    }

    func channelStatus(_ channel: RpmsgChannel, rproc: String, bus: RpmsgBus) -> ChannelStatus {
        ChannelStatus(
            rproc: rproc, link: bus.name, transport: Self.transportName(bus.transport), name: channel.name,
            source: channel.localAddress, destination: channel.destination, deviceName: channel.deviceName,
            driver: channel.driverName, counters: channel.endpoint?.counters ?? RpmsgEndpointCounters(),
            socketPath: socketPath(for: channel), terminalPath: terminalPath(for: channel), bridge: bridgeStatus(for: channel))
    }

    /// "virtio" or "smd".
    static func transportName(_ transport: any RpmsgTransport) -> String {
        transport is VirtioRpmsgLink ? "virtio" : "smd"
    }

    /// Waits until a channel called `name` exists (on `rproc`, when given) and is ready: bound to its driver
    /// when one serves that name (so its socket or terminal exists), and returns it.
    /// - Throws: ETIMEDOUT naming the channel.
    public func waitForChannel(_ name: String, rproc: String? = nil, timeout: Duration) throws(SoCError) -> ChannelStatus {
        try waitUntil(timeout: timeout, "channel \(name)" + (rproc.map { " on \($0)" } ?? "")) { [self] host in
            for processor in host.remoteProcessors where rproc == nil || processor.name == rproc {
                for bus in processor.rpmsgBuses {
                    if let channel = bus.channels.first(where: { $0.name == name && !$0.isDestroyed }),
                        channel.isBound || !hasDriver(for: channel)
                    {
                        return channelStatus(channel, rproc: processor.name, bus: bus)
                    }
                }
            }
            return nil
        }
    }

    /// The live channel called `name` (on `rproc` when given) with its bus.
    /// - Throws: ENOENT when there is none, EINVAL when the name is ambiguous without `rproc`.
    func findChannel(_ name: String, rproc: String?, in host: SoCHost) throws(SoCError) -> (RpmsgChannel, RpmsgBus, String) {
        var found = [(RpmsgChannel, RpmsgBus, String)]()
        for processor in host.remoteProcessors where rproc == nil || processor.name == rproc {
            for bus in processor.rpmsgBuses {
                for channel in bus.channels where channel.name == name && !channel.isDestroyed {
                    found.append((channel, bus, processor.name))
                }
            }
        }
        if found.count > 1 {
            let places = found.map { "\($0.2) (\($0.1.name))" }.joined(separator: ", ")
            throw SoCError(errno: EINVAL, "channel \(name) exists on several links: \(places); name the remote processor")
        }
        guard let only = found.first else {
            if let rproc { _ = try Self.processor(rproc, in: host) }
            let known = host.remoteProcessors.flatMap { $0.rpmsgBuses.flatMap { $0.channels.map(\.name) } }
            throw SoCError(
                errno: ENOENT,
                "no channel named \(name)" + (rproc.map { " on \($0)" } ?? "")
                    + " (channels: \(known.isEmpty ? "none" : Set(known).sorted().joined(separator: ", ")))")
        }
        return only
    }

    // MARK: Talking to a channel's service

    /// Opens a new endpoint of the host on the link of channel `name`, sending to the channel's remote
    /// address (what `ampsoc call` does, and Linux's rpmsg_char with RPMSG_CREATE_EPT_IOCTL).
    public func openEndpoint(channel name: String, rproc: String? = nil) throws(SoCError) -> SoCEndpoint {
        let (bus, owner, destination) = try perform { [self] host throws(SoCError) in
            let (channel, bus, owner) = try findChannel(name, rproc: rproc, in: host)
            return (bus, owner, channel.destination)
        }
        return try openEndpoint(bus: bus, rproc: owner, source: RpmsgConstants.addressAny, destination: destination)
    }

    /// Opens a new endpoint on `rproc`'s (first) rpmsg link at `source` (ANY: the lowest free address from
    /// 1024) sending to `destination`.
    public func openEndpoint(
        rproc: String, source: UInt32 = RpmsgConstants.addressAny, destination: UInt32 = RpmsgConstants.addressAny
    ) throws(SoCError) -> SoCEndpoint {
        let bus = try onProcessor(rproc) { processor throws(SoCError) in
            guard let bus = processor.rpmsgBuses.first else {
                throw SoCError(errno: ENODEV, "\(rproc): no rpmsg link: processor is \(processor.state)")
            }
            return bus
        }
        return try openEndpoint(bus: bus, rproc: rproc, source: source, destination: destination)
    }

    func openEndpoint(bus: RpmsgBus, rproc: String, source: UInt32, destination: UInt32) throws(SoCError) -> SoCEndpoint {
        let queue = SoCBoundedQueue<SoCMessage>(capacity: 1024)
        do {
            let endpoint = try bus.createEndpoint(address: source, destination: destination) { endpoint, payload, from in
                queue.push(SoCMessage(payload: payload, source: from))
            }
            return SoCEndpoint(rproc: rproc, endpoint: endpoint, queue: queue)
        } catch {
            throw SoCError(error, context: "\(rproc) (\(bus.name))")
        }
    }

    /// Sends `payload` to the service of channel `name` from a fresh endpoint and returns the first reply
    /// (the endpoint is closed afterwards): the quickest way to poke an echo-style service.
    /// - Throws: ENOENT/EINVAL for the channel, EMSGSIZE, ETIMEDOUT when no reply comes within `timeout`.
    public func call(channel name: String, rproc: String? = nil, _ payload: [UInt8], timeout: Duration) throws(SoCError) -> SoCMessage {
        let endpoint = try openEndpoint(channel: name, rproc: rproc)
        defer { endpoint.close() }
        try endpoint.send(payload)
        do {
            return try endpoint.receive(timeout: timeout)
        } catch where error.errno == ETIMEDOUT {
            throw SoCError(errno: ETIMEDOUT, "channel \(name): no reply within \(timeout)")
        }
    }

    /// Sends `payload` to channel `name`'s service from the instance's standing endpoint for that channel
    /// (made on first use; ``receive(channel:rproc:timeout:)`` reads what arrives at it, so replies to these
    /// sends can be read by a later request, as `ampsoc send` then `ampsoc recv` do).
    public func send(channel name: String, rproc: String? = nil, _ payload: [UInt8]) throws(SoCError) {
        try standingEndpoint(channel: name, rproc: rproc).send(payload)
    }

    /// The next message that arrived at the standing endpoint of channel `name` (see ``send(channel:rproc:_:)``).
    public func receive(channel name: String, rproc: String? = nil, timeout: Duration) throws(SoCError) -> SoCMessage {
        try standingEndpoint(channel: name, rproc: rproc).receive(timeout: timeout)
    }

    /// The standing endpoint of a channel, made on first use and replaced when the channel was recreated.
    func standingEndpoint(channel name: String, rproc: String?) throws(SoCError) -> SoCEndpoint {
        let (channel, bus, owner) = try perform { [self] host throws(SoCError) in try findChannel(name, rproc: rproc, in: host) }
        let key = ObjectIdentifier(channel)
        if let existing = endpoints.withLock({ $0.standing[key] }), !existing.endpoint.isClosed {
            return existing.endpoint
        }
        let endpoint = try openEndpoint(bus: bus, rproc: owner, source: RpmsgConstants.addressAny, destination: channel.destination)
        let kept = endpoints.withLock { tables in
            if let existing = tables.standing[key], !existing.endpoint.isClosed { return existing.endpoint }
            tables.standing[key] = StandingEndpoint(channel: channel, endpoint: endpoint)
            return endpoint
        }
        if kept !== endpoint { endpoint.close() }
        return kept
    }

    /// Forgets standing endpoints whose channel or endpoint is gone (main loop, every round).
    func sweepStandingEndpoints() {
        let gone = endpoints.withLock { tables in
            let gone = tables.standing.filter { $0.value.channel.isDestroyed || $0.value.endpoint.isClosed }
            for key in gone.keys { tables.standing[key] = nil }
            return gone.values.map(\.endpoint)
        }
        for endpoint in gone { endpoint.close() }
    }
}

/// The instance's own endpoint for a channel (``EmulatedSoC/send(channel:rproc:_:)``).
struct StandingEndpoint {
    let channel: RpmsgChannel
    let endpoint: SoCEndpoint
}

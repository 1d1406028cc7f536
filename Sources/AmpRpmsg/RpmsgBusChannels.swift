// Channels of one link and the bus's probe/remove sequences (Linux's rpmsg_create_channel /
// rpmsg_release_channel, rpmsg_dev_probe / rpmsg_dev_remove).
//
//   create:  insert {name, src, dst} unless an equal one exists -> event channelCreated -> offer it to the
//            registered drivers serving the name, in registration order, until one probe succeeds
//   probe:   claim -> endpoint (src or ANY) -> driver.probe -> announce CREATE (local fixed-src channels,
//            name-service links only) -> bound
//   remove:  announce DESTROY (same condition, link up) -> driver.remove -> destroy endpoint -> unbound
//   destroy: take it out of the table -> remove sequence if bound -> event channelDestroyed

import AmpWire

extension RpmsgBus {
    /// Channels of this link, in creation order.
    public var channels: [RpmsgChannel] { tables.withLock { $0.channels } }

    /// The first channel matching `name` and the addresses that are not ANY.
    public func channel(
        named name: String, source: UInt32 = RpmsgConstants.addressAny,
        destination: UInt32 = RpmsgConstants.addressAny
    ) -> RpmsgChannel? {
        guard let rpmsgName = try? RpmsgName(name) else { return nil }
        return tables.withLock { tables in
            tables.channels.first { $0.matches(name: rpmsgName, source: source, destination: destination) }
        }
    }

    /// Creates a channel locally (`rpmsg_create_channel`) and binds a matching driver if one is registered.
    /// A channel with a fixed `source` is announced to the remote once a driver binds (name-service links).
    ///
    /// - Throws: `.invalidArgument` for a name longer than 31 bytes or containing NUL, `.exists` when a
    ///   channel with this name and addresses exists, `.noDevice` when the link is down.
    @discardableResult
    public func createChannel(
        name: String, source: UInt32 = RpmsgConstants.addressAny, destination: UInt32 = RpmsgConstants.addressAny
    ) throws(RpmsgError) -> RpmsgChannel {
        let rpmsgName: RpmsgName
        do {
            rpmsgName = try RpmsgName(name)
        } catch {
            throw RpmsgError(.invalidArgument, "\(self.name): bad channel name: \(error.reason)")
        }
        return try addChannel(
            name: rpmsgName, source: source, destination: destination,
            announces: source != RpmsgConstants.addressAny)
    }

    /// Destroys the first channel matching `name` and the addresses that are not ANY
    /// (`rpmsg_release_channel`); its driver's remove runs.
    /// - Throws: `.invalidArgument` when no channel matches.
    public func destroyChannel(
        name: String, source: UInt32 = RpmsgConstants.addressAny, destination: UInt32 = RpmsgConstants.addressAny
    ) throws(RpmsgError) {
        guard let channel = channel(named: name, source: source, destination: destination) else {
            throw RpmsgError(
                .invalidArgument, "\(self.name): no channel \(name) \(hex(source)) -> \(hex(destination))")
        }
        try destroyChannel(channel)
    }

    /// Destroys `channel`; its driver's remove runs.
    /// - Throws: `.invalidArgument` when the channel is not (or no longer) on this link.
    public func destroyChannel(_ channel: RpmsgChannel) throws(RpmsgError) {
        let removed = tables.withLock { tables in
            guard let index = tables.channels.firstIndex(where: { $0 === channel }) else { return false }
            tables.channels.remove(at: index)
            return true
        }
        guard removed else {
            throw RpmsgError(.invalidArgument, "\(name): \(channel.deviceName) is not a channel of this link")
        }
        tearDown(channel)
    }

    // MARK: Internals

    /// Inserts a channel (no equal one may exist), reports it and binds a driver.
    func addChannel(
        name: RpmsgName, source: UInt32, destination: UInt32, announces: Bool
    ) throws(RpmsgError) -> RpmsgChannel {
        let channel = RpmsgChannel(
            name: name, source: source, destination: destination, announces: announces, bus: self)
        try tables.withLock { tables throws(RpmsgError) in
            guard isUp else {
                throw RpmsgError(.noDevice, "\(self.name): the link is down")
            }
            guard !tables.channels.contains(where: { $0.matches(name: name, source: source, destination: destination) })
            else {
                throw RpmsgError(
                    .exists, "\(self.name): channel \(name):\(hex(source)):\(hex(destination)) already exists")
            }
            tables.channels.append(channel)
        }
        emit(.channelCreated(channel.info))
        bind(channel, candidates: registry.drivers(serving: name))
        return channel
    }

    /// Runs the remove sequence if a driver is bound (or lets the prober do it) and reports the channel
    /// destroyed. The channel must already be out of the table.
    func tearDown(_ channel: RpmsgChannel) {
        if let driver = channel.beginDestroy() {
            runRemove(channel, driver: driver)
        }
        emit(.channelDestroyed(channel.info))
    }

    /// Offers `channel` to `candidates` in order until one binds (or the channel is taken or destroyed).
    func bind(_ channel: RpmsgChannel, candidates: [any RpmsgDriver]) {
        for driver in candidates {
            if probe(channel, driver: driver) { return }
        }
    }

    /// The bus probe sequence; true when the channel is now taken (by this driver or another one) or
    /// destroyed, false when this driver failed and the next one may try.
    private func probe(_ channel: RpmsgChannel, driver: any RpmsgDriver) -> Bool {
        guard channel.claim(for: driver) else { return true }
        let endpoint: RpmsgEndpoint
        do {
            endpoint = try makeEndpoint(
                address: channel.source, destination: channel.destination, channel: channel,
                // The channel is captured strongly (no weak load per message): the endpoint drops this
                // closure when it is destroyed, which every way out of a channel does.
                handler: .borrowing { _, payload, source in
                    driver.callback(channel, bytes: payload, source: source)
                })
        } catch {
            return probeFailed(channel, driver: driver, error: error, endpoint: nil)
        }
        channel.setEndpoint(endpoint)
        do {
            try driver.probe(channel)
        } catch {
            return probeFailed(channel, driver: driver, error: error, endpoint: endpoint)
        }
        do {
            try announce(channel, action: .create)
        } catch {
            driver.remove(channel)
            return probeFailed(channel, driver: driver, error: error, endpoint: endpoint)
        }
        switch channel.finishProbe(succeeded: true) {
        case .bound:
            break
        case .removeNow:
            runRemove(channel, driver: driver)
        }
        return true
    }

    private func probeFailed(
        _ channel: RpmsgChannel, driver: any RpmsgDriver, error: RpmsgError, endpoint: RpmsgEndpoint?
    ) -> Bool {
        if let endpoint { destroyEndpoint(endpoint) }
        _ = channel.finishProbe(succeeded: false)
        emit(.probeFailed(driver: driver.name, channel: channel.deviceName, error: error))
        return false
    }

    /// The bus remove sequence for a channel in the removing state.
    func runRemove(_ channel: RpmsgChannel, driver: any RpmsgDriver) {
        if isUp {
            do {
                try announce(channel, action: .destroy)
            } catch {
                emit(.announceFailed(channel: channel.deviceName, error: error))
            }
        }
        driver.remove(channel)
        if let endpoint = channel.endpoint { destroyEndpoint(endpoint) }
        channel.finishRemove()
    }
}

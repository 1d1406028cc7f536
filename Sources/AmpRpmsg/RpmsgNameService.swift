// The rpmsg name service (Linux's rpmsg_ns.c): on links that carry announcements (virtio F_NS) the bus
// binds an endpoint at address 53, and each side tells the other about services it creates or destroys.
//
//   rpmsg_ns_msg (exactly 40 bytes, byte order of the link; see AmpWire's NameServiceMessage)
//     name  char[32] @0   service name; the receiver treats name[31] as NUL, so 32 non-NUL bytes read as 31
//     addr  u32      @32  the announcing endpoint's address
//     flags u32      @36  bit 0: 0 = CREATE, 1 = DESTROY
//
// Receiving: a payload of any other length is counted (malformedNameService) and reported, then ignored;
// so is a CREATE or DESTROY naming address ANY (Linux would create a channel nobody can send to).
// CREATE makes a channel {name, src ANY, dst addr} (a duplicate name+dst is reported as
// channelAlreadyExists); DESTROY destroys the matching channel (its driver's remove runs).
//
// Sending: a local channel created with a fixed source is announced (CREATE) once its driver's probe
// succeeded, and DESTROY is sent before its driver's remove runs; the message goes from the channel's
// endpoint to address 53.

import AmpWire

/// Binds the name-service endpoint of a bus.
enum RpmsgNameService {
    static func start(on bus: RpmsgBus) {
        // Cannot fail: the bus is new (its table is empty) and up.
        _ = try? bus.makeEndpoint(
            address: RpmsgConstants.nameServiceAddress, destination: RpmsgConstants.addressAny, channel: nil,
            handler: .copying { [weak bus] _, payload, source in
                bus?.handleNameServiceMessage(payload, from: source)
            })
    }
}

extension RpmsgBus {
    /// Sends a name-service announcement for `name` with `endpoint`'s address, from that endpoint to
    /// address 53 (what a remote does to publish a service, and what the core does for local channels).
    ///
    /// - Throws: `.notSupported` when the link carries no name-service messages, `.invalidArgument` for a
    ///   name that does not fit 31 bytes or contains NUL, otherwise as ``RpmsgEndpoint/sendTo(_:_:)``.
    public func announce(_ name: String, from endpoint: RpmsgEndpoint, action: NameServiceMessage.Action) throws(RpmsgError) {
        guard transport.supportsNameService else {
            throw RpmsgError(.notSupported, "\(self.name): the link carries no name-service messages")
        }
        let rpmsgName: RpmsgName
        do {
            rpmsgName = try RpmsgName(name)
        } catch {
            throw RpmsgError(.invalidArgument, "\(self.name): bad service name: \(error.reason)")
        }
        try sendAnnouncement(rpmsgName, from: endpoint, action: action)
    }

    /// Announces a channel if it was created locally with a fixed source and the link carries
    /// name-service messages (Linux's virtio announce_create / announce_destroy); otherwise does nothing.
    func announce(_ channel: RpmsgChannel, action: NameServiceMessage.Action) throws(RpmsgError) {
        guard channel.announces, transport.supportsNameService, let endpoint = channel.endpoint else { return }
        try sendAnnouncement(channel.rpmsgName, from: endpoint, action: action)
    }

    private func sendAnnouncement(
        _ name: RpmsgName, from endpoint: RpmsgEndpoint, action: NameServiceMessage.Action
    ) throws(RpmsgError) {
        let message = NameServiceMessage(name: name, address: endpoint.address, action: action)
        try endpoint.sendTo(RpmsgConstants.nameServiceAddress, message.serialized(order: transport.byteOrder))
    }

    /// Handles one message delivered to address 53.
    func handleNameServiceMessage(_ payload: [UInt8], from source: UInt32) {
        let message: NameServiceMessage
        do {
            message = try NameServiceMessage.parse(payload, order: transport.byteOrder)
        } catch {
            rejectNameService(payload, from: source, reason: error.reason)
            return
        }
        guard message.address != RpmsgConstants.addressAny else {
            rejectNameService(payload, from: source, reason: "the announced address is ANY (0xffffffff)")
            return
        }
        switch message.action {
        case .create:
            createAnnouncedChannel(message)
        case .destroy:
            destroyAnnouncedChannel(message)
        }
    }

    private func createAnnouncedChannel(_ message: NameServiceMessage) {
        do {
            _ = try addChannel(
                name: message.name, source: RpmsgConstants.addressAny, destination: message.address,
                announces: false)
        } catch {
            if error.code == .exists {
                emit(
                    .channelAlreadyExists(
                        RpmsgChannelInfo(
                            link: name, name: message.name.string, source: RpmsgConstants.addressAny,
                            destination: message.address)))
            }
            // .noDevice: the link went down meanwhile; the announcement no longer matters.
        }
    }

    private func destroyAnnouncedChannel(_ message: NameServiceMessage) {
        let channel = tables.withLock { tables in
            tables.channels.first {
                $0.matches(name: message.name, source: RpmsgConstants.addressAny, destination: message.address)
            }
        }
        guard let channel, (try? destroyChannel(channel)) != nil else {
            emit(.channelNotFound(link: name, name: message.name.string, destination: message.address))
            return
        }
    }

    private func rejectNameService(_ payload: [UInt8], from source: UInt32, reason: String) {
        count { $0.malformedNameService += 1 }
        emit(.malformedNameService(link: name, source: source, length: payload.count, reason: reason))
    }
}

import AmpRpmsg
import Synchronization

/// Carries rpmsg events from whatever thread observed them (a link's service thread, a sender, the main
/// loop itself) to the host's main loop, which alone may call the ``HostEventSink``.
///
/// `emit` appends and, for the first event since the last drain, wakes the main loop; the main loop calls
/// ``HostContext/drainRpmsgEvents()`` every iteration and right after taking links down, so the events keep
/// their order relative to the host's own (a crash, then its channels' destruction, then the restart).
final class RpmsgEventQueue: RpmsgEventSink {
    private struct State {
        var events: [RpmsgEvent] = []
        /// Link name -> remote processor, for the `rproc` field of host events.
        var rprocOfLink: [String: String] = [:]

        /// The remote processor of the event's link, or of the link prefixing its channel's device name.
        func rproc(of event: RpmsgEvent) -> String? {
            if let link = event.link { return rprocOfLink[link] }
            guard let channel = event.channelDeviceName else { return nil }
            return rprocOfLink.first { channel.hasPrefix($0.key + ".") }?.value
        }
    }

    private let state = Mutex(State())
    private let wake: @Sendable () -> Void

    /// - Parameter wake: makes the main loop run soon (called without any lock held).
    init(wake: @escaping @Sendable () -> Void) {
        self.wake = wake
    }

    func emit(_ event: RpmsgEvent) {
        let first = state.withLock { state in
            state.events.append(event)
            return state.events.count == 1
        }
        if first { wake() }
    }

    /// Records that events of link `link` concern remote processor `rproc`.
    func register(link: String, rproc: String) {
        state.withLock { $0.rprocOfLink[link] = rproc }
    }

    /// Takes every queued event, with the remote processor of its link when known.
    func drain() -> [(rproc: String?, event: RpmsgEvent)] {
        state.withLock { state in
            let taken = state.events.map { event in (rproc: state.rproc(of: event), event: event) }
            state.events.removeAll()
            return taken
        }
    }
}

extension RpmsgEvent {
    /// The link the event happened on, when it names one.
    var link: String? {
        switch self {
        case .channelCreated(let info), .channelDestroyed(let info), .channelAlreadyExists(let info): info.link
        case .channelNotFound(let link, _, _), .droppedNoRecipient(let link, _, _, _),
            .malformedNameService(let link, _, _, _), .invalidInbound(let link, _), .linkDown(let link):
            link
        case .driverOutput, .probeFailed, .announceFailed: nil
        }
    }

    /// The channel device name ("<link>.<name>.<src>.<dst>") of events that carry only that.
    var channelDeviceName: String? {
        switch self {
        case .driverOutput(_, let channel, _), .probeFailed(_, let channel, _), .announceFailed(let channel, _): channel
        default: nil
        }
    }
}

extension HostEvent {
    /// The host event reporting `event` of a link of `rproc`, or nil for events the host does not report
    /// (a link going down: its channels' destruction is reported instead).
    ///
    /// Channels and driver output become ``channel(rproc:action:name:src:dst:)`` and
    /// ``driver(driver:channel:text:)``; everything dropped or rejected becomes an error, so nothing
    /// disappears silently; a repeated or unknown announcement is informational.
    init?(rpmsg event: RpmsgEvent, rproc: String?) {
        switch event {
        case .channelCreated(let info):
            self = .channel(
                rproc: rproc ?? info.link, action: .create, name: info.name, src: info.source, dst: info.destination)
        case .channelDestroyed(let info):
            self = .channel(
                rproc: rproc ?? info.link, action: .destroy, name: info.name, src: info.source, dst: info.destination)
        case .driverOutput(let driver, let channel, let text):
            self = .driver(driver: driver, channel: channel, text: text)
        case .channelAlreadyExists, .channelNotFound:
            self = .info(rproc: rproc, message: event.text)
        case .probeFailed, .announceFailed, .droppedNoRecipient, .malformedNameService, .invalidInbound:
            self = .error(rproc: rproc, message: event.text)
        case .linkDown:
            return nil
        }
    }
}

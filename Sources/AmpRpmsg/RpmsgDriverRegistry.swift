// The driver side of the rpmsg bus type (Linux's `rpmsg_bus` with its driver list): every link (RpmsgBus)
// attaches to one registry, and channels on any attached link are matched to registered drivers by name,
// in both orders: a channel that appears finds the drivers already registered, and a driver registered
// later finds the unbound channels already there. Channels are inserted into their bus before the registry
// is asked, and drivers into the registry before the buses are scanned, so a channel and a driver that
// appear at the same time still meet (a channel's claim makes sure only one probe runs).
//
// The registry also carries what all links share: the event sink and the totals of the link counters.

import AmpWire
import Synchronization

/// Registered drivers, the links attached to them, the event sink and counter totals.
public final class RpmsgDriverRegistry: Sendable {
    /// Where events of every attached link go (nil: events are discarded).
    public let events: (any RpmsgEventSink)?

    private let state = Mutex(State())
    /// The counters of every link ever attached (kept after a link goes down: the totals include it). Links
    /// count only into their own cell, so the hot paths update one set of counters, not two.
    private let linkCounterCells = Mutex<[LinkCounterCell]>([])

    private struct State {
        var drivers: [any RpmsgDriver] = []
        var buses: [WeakBus] = []
    }

    private struct WeakBus {
        weak var bus: RpmsgBus?
    }

    public init(events: (any RpmsgEventSink)? = nil) {
        self.events = events
    }

    /// Names of the registered drivers, in registration order.
    public var driverNames: [String] { state.withLock { $0.drivers.map(\.name) } }

    /// The attached links that are still up.
    public var buses: [RpmsgBus] { state.withLock { $0.buses.compactMap(\.bus) } }

    /// Link counters summed over every link that was ever attached.
    public var totals: RpmsgLinkCounters {
        let cells = linkCounterCells.withLock { $0 }
        var sum = RpmsgLinkCounters()
        for cell in cells {
            let counters = cell.snapshot
            sum.rxMessages &+= counters.rxMessages
            sum.rxBytes &+= counters.rxBytes
            sum.txMessages &+= counters.txMessages
            sum.txBytes &+= counters.txBytes
            sum.droppedNoRecipient &+= counters.droppedNoRecipient
            sum.malformedNameService &+= counters.malformedNameService
            sum.invalidInbound &+= counters.invalidInbound
        }
        return sum
    }

    /// Includes a new link's counters in ``totals`` (for good: also after the link went down).
    func trackCounters(_ cell: LinkCounterCell) {
        linkCounterCells.withLock { $0.append(cell) }
    }

    /// Registers `driver` and probes it on every unbound channel it serves (`register_rpmsg_driver`).
    /// - Throws: `.exists` when a driver of the same name is registered.
    public func register(_ driver: any RpmsgDriver) throws(RpmsgError) {
        let buses = try state.withLock { state throws(RpmsgError) -> [RpmsgBus] in
            guard !state.drivers.contains(where: { $0.name == driver.name }) else {
                throw RpmsgError(.exists, "a driver named \(driver.name) is already registered")
            }
            state.drivers.append(driver)
            return state.buses.compactMap(\.bus)
        }
        for bus in buses {
            for channel in bus.channels where channel.isAvailable && driver.serves(channel.rpmsgName.bytes) {
                bus.bind(channel, candidates: [driver])
            }
        }
    }

    /// Unregisters `driver` (`unregister_rpmsg_driver`): it is removed from every channel it is bound to,
    /// and those channels are offered to the remaining matching drivers.
    public func unregister(_ driver: any RpmsgDriver) {
        let buses = state.withLock { state in
            state.drivers.removeAll { $0 === driver }
            return state.buses.compactMap(\.bus)
        }
        for bus in buses {
            for channel in bus.channels where channel.beginUnbind(driver) {
                bus.runRemove(channel, driver: driver)
                bus.bind(channel, candidates: drivers(serving: channel.rpmsgName))
            }
        }
    }

    /// Registered drivers that serve `name`, in registration order.
    func drivers(serving name: RpmsgName) -> [any RpmsgDriver] {
        state.withLock { $0.drivers.filter { $0.serves(name.bytes) } }
    }

    func attach(_ bus: RpmsgBus) {
        state.withLock { state in
            state.buses.removeAll { $0.bus == nil }
            state.buses.append(WeakBus(bus: bus))
        }
    }

    func detach(_ bus: RpmsgBus) {
        state.withLock { state in
            state.buses.removeAll { $0.bus == nil || $0.bus === bus }
        }
    }

    func emit(_ event: RpmsgEvent) {
        events?.emit(event)
    }
}

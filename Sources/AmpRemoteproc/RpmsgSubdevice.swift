import AmpRpmsg
import Synchronization

/// What the remoteproc core needs of a processor's rpmsg subdevice, whatever the wire under it (virtio vdevs
/// of the resource table, or the processor's SMD edge): the buses it made, a fatal protocol violation for the
/// main loop, and an orderly way down (links closed -> service thread joined -> buses down, drivers' remove
/// runs -> devices reset).
protocol RpmsgSubdevice: AnyObject {
    /// The rpmsg cores of the subdevice's links.
    var buses: [RpmsgBus] { get }
    /// Notes for the boot log (devices left alone).
    var warnings: [String] { get }
    /// The first fatal violation of any link ("<link>: <detail>"), returned once.
    func takeFailure() -> String?
    /// Takes every link down. Idempotent.
    func stop()
}

/// The first failure reported by any link, handed from a service thread to the main loop.
final class FailureRecord: Sendable {
    private let state = Mutex<(first: String?, taken: Bool)>((nil, false))

    func record(_ detail: String) {
        state.withLock { state in
            if state.first == nil { state.first = detail }
        }
    }

    func take() -> String? {
        state.withLock { state in
            guard let first = state.first, !state.taken else { return nil }
            state.taken = true
            return first
        }
    }
}

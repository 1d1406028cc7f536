// Waiting in tests for something another thread or process does.

import Foundation

/// Polls `condition` every millisecond until it holds or `timeout` passes; returns whether it held. Never a
/// timing assertion: the timeout only bounds a test that would otherwise hang.
@discardableResult
public func eventually(timeout: Duration = .seconds(10), _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while true {
        if try condition() { return true }
        if ContinuousClock.now >= deadline { return try condition() }
        usleep(1_000)
    }
}

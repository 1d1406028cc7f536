// Endpoint address allocation of one link, with the rules of Linux's rpmsg (an IDR per device):
//
//   - a request for ANY (0xFFFFFFFF) gets the lowest free address >= 1024; a released address is reused;
//   - a request for a fixed address gets exactly that address if it is free, else EBUSY; fixed addresses
//     below 1024 (the reserved range, e.g. the name service at 53) can only be had this way;
//   - ANY itself is never an address.

import AmpWire

/// The set of bound addresses of one link and the allocation policy. Not thread-safe: the bus keeps it
/// inside its mutex.
struct RpmsgAddressTable<Value> {
    private(set) var entries: [UInt32: Value] = [:]

    /// Binds the value `make` builds for the address to `requested` (or to the lowest free dynamic
    /// address when it is ANY) and returns that value.
    ///
    /// - Throws: ``RpmsgError/Code/addressInUse`` when a fixed address is taken, ``RpmsgError/Code/noSpace``
    ///   when every dynamic address is.
    mutating func bind(_ requested: UInt32, make: (UInt32) -> Value) throws(RpmsgError) -> Value {
        let address: UInt32
        if requested == RpmsgConstants.addressAny {
            address = try lowestFreeDynamicAddress()
        } else {
            guard entries[requested] == nil else {
                throw RpmsgError(.addressInUse, "endpoint address \(hex(requested)) is already bound")
            }
            address = requested
        }
        let value = make(address)
        entries[address] = value
        return value
    }

    /// Frees `address`; returns the value that was bound to it.
    @discardableResult
    mutating func release(_ address: UInt32) -> Value? {
        entries.removeValue(forKey: address)
    }

    subscript(address: UInt32) -> Value? { entries[address] }

    /// Bound addresses in increasing order.
    var addresses: [UInt32] { entries.keys.sorted() }

    /// Scans upward from 1024; as many steps as there are bound addresses at most.
    private func lowestFreeDynamicAddress() throws(RpmsgError) -> UInt32 {
        var candidate = RpmsgConstants.reservedAddressLimit
        while entries[candidate] != nil {
            guard candidate < RpmsgConstants.addressAny - 1 else {
                throw RpmsgError(.noSpace, "no free endpoint address left")
            }
            candidate += 1
        }
        return candidate
    }
}

import AmpRpmsg
// Filled when AmpHostDrivers lands: the endpoint-socket and tty drivers of every SoC.
extension EmulatedSoC {
    func installDrivers() {}
    func uninstallDrivers() {}
    func closeEndpoints() {
        let standing = endpoints.withLock { tables in
            defer { tables.standing.removeAll() }
            return tables.standing.values.map(\.endpoint)
        }
        for endpoint in standing { endpoint.close() }
    }
    func socketPath(for channel: RpmsgChannel) -> String? { nil }
    func terminalPath(for channel: RpmsgChannel) -> String? { nil }
}
struct EndpointTables {
    var standing: [ObjectIdentifier: StandingEndpoint] = [:]
}

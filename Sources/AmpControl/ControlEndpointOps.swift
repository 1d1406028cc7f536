import AmpJSON
import AmpSoC
import Glibc

// Endpoints made on request (`ampsoc ept create`): each is bridged by the SoC to a SOCK_SEQPACKET socket in
// the instance's endpoint directory, the equivalent of a /dev/rpmsgN made with RPMSG_CREATE_EPT_IOCTL.
extension ControlDispatcher {
    func createEndpoint(_ arguments: ControlArguments) throws(ControlError) -> JSONObject {
        try arguments.allow(["name", "rproc", "src", "dst"])
        let name = try arguments.string("name")
        let rproc = try arguments.string("rproc")
        let any: UInt64 = 0xFFFF_FFFF
        let source = UInt32(try arguments.integer("src", in: 0...any) ?? any)
        let destination = UInt32(try arguments.integer("dst", in: 0...any) ?? any)
        return try socCall { () throws(SoCError) -> JSONObject in
            let status = try soc.createEndpoint(rproc: rproc, name: name, source: source, destination: destination)
            return ["endpoint": .object(ControlJSON.endpoint(status))]
        }
    }

    func destroyEndpoint(_ arguments: ControlArguments) throws(ControlError) -> JSONObject {
        try arguments.allow(["name"])
        let name = try arguments.string("name")
        return try socCall { () throws(SoCError) -> JSONObject in
            try soc.destroyEndpoint(name: name)
            return ["name": .string(name)]
        }
    }

    func listEndpoints(_ arguments: ControlArguments) throws(ControlError) -> JSONObject {
        try arguments.allow([])
        return ["endpoints": .array(endpointStatuses().map { .object(ControlJSON.endpoint($0)) })]
    }

    func endpointStatuses() -> [EndpointStatus] {
        soc.endpointsStatus()
    }
}

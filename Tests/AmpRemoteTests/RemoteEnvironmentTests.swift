import Testing

@testable import AmpRemote

/// `RemoteEnvironment.parse`: every variable, and errors naming the one at fault.
@Suite struct RemoteEnvironmentTests {
    static let valid: [String: String] = [
        "AMPSOC_SEGMENT": "/ampsoc.test.1-2.dsp0",
        "AMPSOC_RPROC": "dsp0",
        "AMPSOC_HOST_PID": "4242",
        "AMPSOC_GENERATION": "7",
        "AMPSOC_DOORBELL": "futex",
    ]

    @Test func parsesEveryVariable() throws {
        let environment = try RemoteEnvironment.parse(Self.valid)
        #expect(environment == RemoteEnvironment(
            segmentName: "/ampsoc.test.1-2.dsp0", rprocName: "dsp0", hostPID: 4242, generation: 7, doorbell: .futex))
    }

    @Test func parsesEventFDDoorbell() throws {
        var env = Self.valid
        env["AMPSOC_DOORBELL"] = "eventfd:3,4"
        #expect(try RemoteEnvironment.parse(env).doorbell == .eventfd(toRemote: 3, toHost: 4))
    }

    @Test(arguments: [
        ("AMPSOC_SEGMENT", nil, "AMPSOC_SEGMENT: is not set (remote-core firmware is started by the ampsoc host, which sets the AMPSOC_* variables)"),
        ("AMPSOC_SEGMENT", "", "AMPSOC_SEGMENT: is empty"),
        ("AMPSOC_SEGMENT", "ampsoc.x", "AMPSOC_SEGMENT: \"ampsoc.x\" is not a shared-memory name (\"/\" and one path component)"),
        ("AMPSOC_SEGMENT", "/a/b", "AMPSOC_SEGMENT: \"/a/b\" is not a shared-memory name (\"/\" and one path component)"),
        ("AMPSOC_RPROC", nil, "AMPSOC_RPROC: is not set (remote-core firmware is started by the ampsoc host, which sets the AMPSOC_* variables)"),
        ("AMPSOC_HOST_PID", "0", "AMPSOC_HOST_PID: \"0\" is not a process id (a positive decimal number)"),
        ("AMPSOC_HOST_PID", "12x", "AMPSOC_HOST_PID: \"12x\" is not a process id (a positive decimal number)"),
        ("AMPSOC_GENERATION", "-1", "AMPSOC_GENERATION: \"-1\" is not a generation number (decimal, 0...4294967295)"),
        ("AMPSOC_GENERATION", "4294967296", "AMPSOC_GENERATION: \"4294967296\" is not a generation number (decimal, 0...4294967295)"),
        ("AMPSOC_DOORBELL", "pipe", "AMPSOC_DOORBELL: \"pipe\" must be \"futex\" or \"eventfd:<to-remote fd>,<to-host fd>\""),
        ("AMPSOC_DOORBELL", "eventfd:3", "AMPSOC_DOORBELL: \"eventfd:3\" must be \"eventfd:<to-remote fd>,<to-host fd>\" with two non-negative descriptor numbers"),
        ("AMPSOC_DOORBELL", "eventfd:3,-4", "AMPSOC_DOORBELL: \"eventfd:3,-4\" must be \"eventfd:<to-remote fd>,<to-host fd>\" with two non-negative descriptor numbers"),
        ("AMPSOC_DOORBELL", "eventfd:5,5", "AMPSOC_DOORBELL: \"eventfd:5,5\" names descriptor 5 for both directions; each direction needs its own eventfd"),
    ] as [(String, String?, String)])
    func rejectsBadVariable(key: String, value: String?, message: String) {
        var env = Self.valid
        env[key] = value
        do {
            _ = try RemoteEnvironment.parse(env)
            Issue.record("parsed \(key)=\(value ?? "<unset>")")
        } catch {
            #expect(error.kind == .environment)
            #expect(error.subject == key)
            #expect(error.description == message)
            #expect(error.exitCode == 78)
        }
    }
}

import AmpRemoteproc
import Testing

/// The `--events json` and text forms of the rpmsg host events, byte for byte.
@Suite struct HostEventRpmsgTests {
    @Test func channelEventsPrintAddressesAsLinuxDeviceNamesDo() {
        let created = HostEvent.channel(rproc: "ipu", action: .create, name: "rpmsg-client-sample", src: 0xFFFF_FFFF, dst: 0x400)
        #expect(created.json.encoded()
            == #"{"event":"channel","action":"create","rproc":"ipu","name":"rpmsg-client-sample","src":-1,"dst":1024}"#)
        #expect(created.text == "ipu: rpmsg channel rpmsg-client-sample created: src 0xffffffff, dst 0x400")
        let destroyed = HostEvent.channel(rproc: "dsp", action: .destroy, name: "rpmsg-echo", src: 1025, dst: 0x401)
        #expect(destroyed.json.encoded()
            == #"{"event":"channel","action":"destroy","rproc":"dsp","name":"rpmsg-echo","src":1025,"dst":1025}"#)
        #expect(destroyed.text == "dsp: rpmsg channel rpmsg-echo destroyed: src 0x401, dst 0x401")
    }

    @Test func driverOutputNamesDriverAndChannel() {
        let event = HostEvent.driver(
            driver: "rpmsg_client_sample", channel: "ipu.vdev0.rpmsg-client-sample.-1.1024", text: "incoming msg 1 (src: 0x400)")
        #expect(event.json.encoded()
            == #"{"event":"driver","driver":"rpmsg_client_sample","channel":"ipu.vdev0.rpmsg-client-sample.-1.1024","text":"incoming msg 1 (src: 0x400)"}"#)
        #expect(event.text == "rpmsg_client_sample ipu.vdev0.rpmsg-client-sample.-1.1024: incoming msg 1 (src: 0x400)")
    }
}

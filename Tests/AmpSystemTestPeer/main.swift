// amp-system-testpeer: the other process in AmpSystemTests. Each mode exercises one cross-process behaviour
// of the system layer; failures are reported through distinct exit codes (see `Failure`).
//
//   exit <code>                      exit with <code>
//   kill-self <signal>               raise <signal> (default disposition), then wait
//   sleep                            wait for signals forever (SIGTERM kills it)
//   ignore-term <readyFD>            ignore SIGTERM, write "ready\n" to <readyFD>, wait forever
//   fds open=<a,b,..> closed=<c,..>  write "fd <n>\n" to each open fd; fail if a closed fd is open
//   env <name> <value>               fail unless the environment variable <name> is exactly <value>
//   sigmask                          fail unless no signal is blocked and SIGINT/SIGTERM/SIGPIPE/SIGCHLD are
//                                    not ignored (/proc/self/status)
//   echo <segment> <futex|eventfd> <count> <spinMicroseconds>
//                                    mailbox pair at offset 0: wait on host->remote, ring every received id back
//                                    on remote->host, <count> times; eventfds arrive as fd 3 (h->r) and 4 (r->h)
//   spawn-orphan <readyFD>           spawn this executable as "orphan <my pid>" with <readyFD> as its fd 3, wait
//   orphan <expectedParent>          ParentDeath.install(expectedParent:), write "<pid>\n" to fd 3, wait forever
import AmpSystem
import Glibc

enum Failure: Int32 {
    case usage = 64
    case doorbellTimeout = 65
    case systemError = 66
    case descriptorStillOpen = 67
    case signalStateWrong = 68
    case environmentWrong = 69
}

func fail(_ failure: Failure, _ message: String) -> Never {
    let line = "amp-system-testpeer: \(message)\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
    exit(failure.rawValue)
}

func waitForever() -> Never {
    while true { pause() }
}

func writeLine(_ text: String, to fd: Int32) {
    let line = text + "\n"
    _ = line.withCString { write(fd, $0, strlen($0)) }
}

func fdNumbers(_ text: Substring) -> [Int32] {
    text.split(separator: ",").compactMap { Int32($0) }
}

func runEcho(_ arguments: ArraySlice<String>) throws(SystemError) {
    let values = Array(arguments)
    guard values.count == 4, let count = Int(values[2]), let spin = Int64(values[3]) else {
        fail(.usage, "echo <segment> <futex|eventfd> <count> <spinMicroseconds>")
    }
    let segment = try SharedMemorySegment.open(name: values[0])
    let inboundKind: Doorbell.Kind
    let outboundKind: Doorbell.Kind
    switch values[1] {
    case "futex":
        inboundKind = .futex
        outboundKind = .futex
    case "eventfd":
        inboundKind = .eventfd(try EventFD(adopting: 3))
        outboundKind = .eventfd(try EventFD(adopting: 4))
    default:
        fail(.usage, "unknown doorbell kind \(values[1])")
    }
    let spinBudget = Duration.microseconds(spin)
    let inbound = try Doorbell(
        segment: segment, mailboxOffset: MailboxLayout.hostToRemoteOffset, kind: inboundKind, spinBudget: spinBudget)
    let outbound = try Doorbell(
        segment: segment, mailboxOffset: MailboxLayout.remoteToHostOffset, kind: outboundKind, spinBudget: spinBudget)
    for round in 0..<count {
        let mask = try inbound.wait(timeout: .seconds(10))
        if mask == 0 { fail(.doorbellTimeout, "no ring in round \(round)") }
        for bit in 0..<32 where mask & (UInt32(1) << UInt32(bit)) != 0 {
            try outbound.ring(notifyID: UInt32(bit))
        }
    }
}

func checkSignalState() {
    guard let status = try? FileIO.readFile("/proc/self/status") else { fail(.systemError, "cannot read status") }
    let text = String(decoding: status, as: UTF8.self)
    func mask(_ key: String) -> UInt64? {
        for line in text.split(separator: "\n") where line.hasPrefix(key + ":") {
            return UInt64(line.dropFirst(key.count + 1).trimmingPrefix(while: { $0 == "\t" || $0 == " " }), radix: 16)
        }
        return nil
    }
    guard let blocked = mask("SigBlk"), let ignored = mask("SigIgn") else { fail(.signalStateWrong, "no masks") }
    if blocked != 0 { fail(.signalStateWrong, "blocked mask \(String(blocked, radix: 16))") }
    for signal in [SIGINT, SIGTERM, SIGPIPE, SIGCHLD] where ignored & (UInt64(1) << UInt64(signal - 1)) != 0 {
        fail(.signalStateWrong, "signal \(signal) ignored")
    }
}

func main() {
    let arguments = CommandLine.arguments.dropFirst()
    guard let mode = arguments.first else { fail(.usage, "missing mode") }
    let rest = arguments.dropFirst()
    do {
        switch mode {
        case "exit":
            exit(rest.first.flatMap { Int32($0) } ?? 0)
        case "kill-self":
            raise(rest.first.flatMap { Int32($0) } ?? SIGABRT)
            waitForever()
        case "sleep":
            waitForever()
        case "ignore-term":
            guard let readyFD = rest.first.flatMap({ Int32($0) }) else { fail(.usage, "ignore-term <readyFD>") }
            signal(SIGTERM, SIG_IGN)
            writeLine("ready", to: readyFD)
            waitForever()
        case "fds":
            for argument in rest {
                if argument.hasPrefix("open=") {
                    for fd in fdNumbers(argument.dropFirst(5)) { writeLine("fd \(fd)", to: fd) }
                } else if argument.hasPrefix("closed=") {
                    for fd in fdNumbers(argument.dropFirst(7)) where fcntl(fd, F_GETFD) != -1 {
                        fail(.descriptorStillOpen, "fd \(fd) is open")
                    }
                }
            }
            exit(0)
        case "env":
            let values = Array(rest)
            guard values.count == 2 else { fail(.usage, "env <name> <value>") }
            guard let found = getenv(values[0]), String(cString: found) == values[1] else {
                fail(.environmentWrong, "\(values[0]) is not \(values[1])")
            }
            exit(0)
        case "sigmask":
            checkSignalState()
            exit(0)
        case "echo":
            try runEcho(rest)
            exit(0)
        case "spawn-orphan":
            guard let readyFD = rest.first.flatMap({ Int32($0) }) else { fail(.usage, "spawn-orphan <readyFD>") }
            let executable = try readSelfPath()
            let child = try ChildProcess.spawn(
                executable: executable, arguments: ["orphan", "\(getpid())"], inheritFDs: [(from: readyFD, to: 3)])
            withExtendedLifetime(child) { waitForever() }
        case "orphan":
            guard let parent = rest.first.flatMap({ pid_t($0) }) else { fail(.usage, "orphan <expectedParent>") }
            try ParentDeath.install(expectedParent: parent)
            writeLine("\(getpid())", to: 3)
            waitForever()
        default:
            fail(.usage, "unknown mode \(mode)")
        }
    } catch {
        fail(.systemError, error.description)
    }
}

func readSelfPath() throws(SystemError) -> String {
    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
    let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    guard length > 0 else { throw SystemError(call: "readlink", subject: "/proc/self/exe", errno: errno) }
    return String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

main()

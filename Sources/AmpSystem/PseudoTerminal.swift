import Glibc
import Synchronization

/// A pseudo-terminal pair: the master side, non-blocking, for the program that plays the "line", and the
/// slave device (`/dev/pts/N`) that terminal programs (screen, picocom, a test) open by ``slavePath``.
///
/// Made with `posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC)`, `grantpt`, `unlockpt`, `ptsname_r`. The slave is
/// put in raw mode (`cfmakeraw`: no echo, no line editing, no CR/LF translation, 8-bit clean), so bytes pass
/// unmodified in both directions, and one slave descriptor stays open inside this object: without it, reads
/// on the master fail with EIO (and poll reports a hang-up) whenever no terminal program has the slave open.
/// Both descriptors are closed by ``close()`` (idempotent) or on deinit.
public final class PseudoTerminal: Sendable {
    /// The slave device's path, e.g. "/dev/pts/3".
    public let slavePath: String
    private let master: Atomic<Int32>
    private let slave: Atomic<Int32>

    /// Opens a new pseudo-terminal with its slave in raw mode.
    public init() throws(SystemError) {
        let masterFD = try Sys.retrying("posix_openpt", "/dev/ptmx", Sys.posixOpenpt(O_RDWR | O_NOCTTY | O_CLOEXEC))
        var slaveFD: Int32 = -1
        var name = ""
        do throws(SystemError) {
            _ = try Sys.checked("grantpt", "/dev/ptmx", Sys.grantpt(masterFD))
            _ = try Sys.checked("unlockpt", "/dev/ptmx", Sys.unlockpt(masterFD))
            _ = try Sys.checked("ptsname_r", "/dev/ptmx", Sys.ptsname(masterFD, &name))
            slaveFD = try Sys.retrying("open", name, Sys.open(name, O_RDWR | O_NOCTTY | O_CLOEXEC))
            try Self.makeRaw(slaveFD, path: name)
            let flags = try Sys.checked("fcntl(F_GETFL)", name, Sys.fcntl(masterFD, F_GETFL, 0))
            _ = try Sys.checked("fcntl(F_SETFL)", name, Sys.fcntl(masterFD, F_SETFL, flags | O_NONBLOCK))
        } catch {
            if slaveFD >= 0 { _ = Sys.close(slaveFD) }
            _ = Sys.close(masterFD)
            throw error
        }
        slavePath = name
        master = Atomic(masterFD)
        slave = Atomic(slaveFD)
    }

    deinit { close() }

    /// The master descriptor (non-blocking), or -1 once closed.
    public var masterDescriptor: Int32 { master.load(ordering: .acquiring) }

    /// Puts the terminal open as `fd` in raw mode: `tcgetattr(3)`, `cfmakeraw(3)`, `tcsetattr(TCSANOW)`.
    /// The settings belong to the terminal, so they apply to every descriptor open on it.
    public static func makeRaw(_ fd: Int32, path: String) throws(SystemError) {
        var settings = termios()
        _ = try Sys.checked("tcgetattr", path, Sys.tcgetattr(fd, &settings))
        cfmakeraw(&settings)
        _ = try Sys.retrying("tcsetattr", path, Sys.tcsetattr(fd, settings))
    }

    /// Reads what the terminal's user typed (`read(2)` on the master): at most `maxLength` bytes, or nil when
    /// nothing is waiting.
    public func read(maxLength: Int) throws(SystemError) -> [UInt8]? {
        let fd = masterDescriptor
        var buffer = [UInt8](repeating: 0, count: max(1, maxLength))
        let result = buffer.withUnsafeMutableBytes { raw in Sys.retryingEINTR { Sys.read(fd, raw.baseAddress, raw.count) } }
        if result == -Int(EAGAIN) { return nil }
        let count = try Sys.checked("read", slavePath, result)
        buffer.removeSubrange(count...)
        return buffer
    }

    /// Writes output for the terminal (`write(2)` on the master); returns how many bytes were taken (possibly
    /// fewer than given), or nil when the terminal's input queue is full.
    public func write(_ bytes: ArraySlice<UInt8>) throws(SystemError) -> Int? {
        let fd = masterDescriptor
        let result = bytes.withUnsafeBytes { raw in Sys.retryingEINTR { Sys.write(fd, raw.baseAddress, raw.count) } }
        if result == -Int(EAGAIN) { return nil }
        return try Sys.checked("write", slavePath, result)
    }

    /// Closes the master and the slave kept open (idempotent). Terminal programs still holding the slave
    /// then see a hang-up.
    public func close() {
        let slaveFD = slave.exchange(-1, ordering: .acquiringAndReleasing)
        if slaveFD >= 0 { _ = Sys.close(slaveFD) }
        let masterFD = master.exchange(-1, ordering: .acquiringAndReleasing)
        if masterFD >= 0 { _ = Sys.close(masterFD) }
    }
}

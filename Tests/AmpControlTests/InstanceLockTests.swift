@testable import AmpControl
import AmpSystem
import Foundation
import Glibc
import Testing

/// The runtime directory and the per-instance lock: where files go, who may use them, one instance per name.
@Suite(.serialized) struct InstanceLockTests {
    @Test func runtimeDirectoryComesFromXDGWhenUsable() throws {
        let base = try ControlTestSupport.temporaryDirectory("xdg")
        defer { try? FileManager.default.removeItem(at: base) }
        let runtime = try RuntimeDirectory.resolve(environment: ["XDG_RUNTIME_DIR": base.path])
        #expect(runtime.path == base.path + "/ampsoc")
        let info = try #require(try FileAndSocketCalls.status(of: runtime.path))
        #expect(info.st_mode & 0o777 == 0o700)
        // Relative, missing or foreign values fall back to /tmp/ampsoc-<uid>.
        let fallback = "/tmp/ampsoc-\(getuid())"
        #expect(RuntimeDirectory.candidatePath(environment: ["XDG_RUNTIME_DIR": "relative/dir"]) == fallback)
        #expect(RuntimeDirectory.candidatePath(environment: ["XDG_RUNTIME_DIR": base.path + "/missing"]) == fallback)
        #expect(RuntimeDirectory.candidatePath(environment: [:]) == fallback)
    }

    @Test func unsafeRuntimeDirectoriesAreRefused() throws {
        let base = try ControlTestSupport.temporaryDirectory("unsafe")
        defer { try? FileManager.default.removeItem(at: base) }
        let open = base.appendingPathComponent("ampsoc").path
        #expect(mkdir(open, 0o700) == 0)
        #expect(chmod(open, 0o755) == 0)
        #expect(throws: ControlError(
            code: EACCES, "runtime directory \(open) has mode 0755: group or others can use it; refusing to use it (chmod 700 it)")) {
            try RuntimeDirectory.resolve(environment: ["XDG_RUNTIME_DIR": base.path])
        }
        #expect(chmod(open, 0o700) == 0)
        if getuid() == 0 {
            #expect(chown(open, 4242, 4242) == 0)
            let error = #expect(throws: ControlError.self) { try RuntimeDirectory.resolve(environment: ["XDG_RUNTIME_DIR": base.path]) }
            #expect(error?.message.hasPrefix("runtime directory \(open) belongs to uid 4242, not to this user (uid 0)") == true)
        }
        #expect(rmdir(open) == 0)
        #expect(symlink("/tmp", open) == 0)
        #expect(throws: ControlError.self) { try RuntimeDirectory.resolve(environment: ["XDG_RUNTIME_DIR": base.path]) }
    }

    @Test func aNameIsHeldByOneInstanceAndReleasedWithEverything() throws {
        let base = try ControlTestSupport.temporaryDirectory("lock")
        defer { try? FileManager.default.removeItem(at: base) }
        let runtime = try RuntimeDirectory.resolve(environment: ["XDG_RUNTIME_DIR": base.path])
        let lock = try InstanceLock.acquire(name: "board-1", runtime: runtime)
        #expect(lock.socketPath == runtime.path + "/board-1.sock")
        #expect(lock.endpointDirectory == runtime.path + "/board-1.d")
        #expect(InstanceLock.holderPID(lockPath: lock.lockPath) == getpid())
        #expect(ControlTestSupport.entries(of: runtime.path).sorted() == ["board-1.d", "board-1.lock"])

        #expect(throws: ControlError(
            code: EADDRINUSE,
            "an ampsoc instance named 'board-1' is already running (pid \(getpid()), control socket \(runtime.path)/board-1.sock); "
                + "stop it or choose another --name", field: "name")) {
            try InstanceLock.acquire(name: "board-1", runtime: runtime)
        }
        let other = try InstanceLock.acquire(name: "board-2", runtime: runtime)
        other.release()
        lock.release()
        lock.release()
        #expect(ControlTestSupport.entries(of: runtime.path).isEmpty)
    }

    @Test func filesOfADeadInstanceAreReplaced() throws {
        let base = try ControlTestSupport.temporaryDirectory("stale")
        defer { try? FileManager.default.removeItem(at: base) }
        let runtime = try RuntimeDirectory.resolve(environment: ["XDG_RUNTIME_DIR": base.path])
        // What a killed instance leaves: an unlocked lock file, a socket file, an endpoint directory with a file.
        try "99999\n".write(toFile: runtime.lockPath(for: "old"), atomically: false, encoding: .utf8)
        try "".write(toFile: runtime.socketPath(for: "old"), atomically: false, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: runtime.endpointDirectory(for: "old"), withIntermediateDirectories: false)
        try "".write(toFile: runtime.endpointDirectory(for: "old") + "/x.sock", atomically: false, encoding: .utf8)
        let lock = try InstanceLock.acquire(name: "old", runtime: runtime)
        #expect(InstanceLock.holderPID(lockPath: lock.lockPath) == getpid())
        #expect(ControlTestSupport.entries(of: lock.endpointDirectory).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: lock.socketPath))
        lock.release()
        #expect(ControlTestSupport.entries(of: runtime.path).isEmpty)
    }

    @Test func badNamesAndTooLongPathsAreRefused() throws {
        let base = try ControlTestSupport.temporaryDirectory("names")
        defer { try? FileManager.default.removeItem(at: base) }
        let runtime = try RuntimeDirectory.resolve(environment: ["XDG_RUNTIME_DIR": base.path])
        #expect(throws: ControlError.self) { try InstanceLock.acquire(name: "../escape", runtime: runtime) }
        let deep = RuntimeDirectory(path: "/tmp/" + String(repeating: "d", count: 60))
        let error = #expect(throws: ControlError.self) { try InstanceLock.acquire(name: "abcdefghijklmnopqrstuvwxyz", runtime: deep) }
        #expect(error?.code == ENAMETOOLONG)
        #expect(error?.message.hasPrefix("instance name 'abcdefghijklmnopqrstuvwxyz' is too long for runtime directory") == true)
    }
}

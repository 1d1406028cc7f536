import Glibc

/// Removes shared-memory segments left behind by ampsoc processes that died without unlinking them.
///
/// A segment is stale when its name parses as a ``SegmentName`` and its creator is gone: no /proc/<pid>, a
/// different start time (the pid was recycled), or a zombie. Names that do not parse are never touched.
public enum StaleSegmentCleaner {
    /// Where Linux keeps POSIX shared-memory names.
    public static let directory = "/dev/shm"

    /// How long another instance's segment must have existed before a cleaner removes it (see ``clean(ownInstance:othersOlderThan:)``).
    public static let defaultGrace: Duration = .seconds(10)

    /// Scans ``directory`` for "ampsoc." entries whose creator is no longer alive, unlinks them
    /// (`shm_unlink(3)`), and returns the names removed (with their leading "/"), sorted.
    ///
    /// Segments of `ownInstance` (the instance about to start) go as soon as their creator is dead. Segments of
    /// other instances go only once they are also older than `grace` (by their change time): a host killed a
    /// moment ago may still be looked at, or restarted under its own name, which cleans up at once.
    /// A segment that vanished meanwhile (another cleaner) is skipped silently.
    public static func clean(ownInstance: String? = nil, othersOlderThan grace: Duration = defaultGrace) throws(SystemError) -> [String] {
        let own = ownInstance.map(SegmentNames.sanitize)
        let now = Sys.realtimeSeconds()
        let graceSeconds = Int64(MonotonicClock.nanoseconds(of: grace) / 1_000_000_000)
        var removed: [String] = []
        for entry in try Sys.listDirectory(directory) where entry.hasPrefix(SegmentNames.prefix) {
            guard let name = SegmentNames.parse(entry), !isCreatorAlive(name) else { continue }
            if name.instance != own {
                var info = stat()
                guard Sys.statPath(directory + "/" + entry, &info) == 0, now - Int64(info.st_ctim.tv_sec) >= graceSeconds else {
                    continue
                }
            }
            let result = Sys.shmUnlink(name.path)
            if result == 0 {
                removed.append(name.path)
            } else if result != -ENOENT {
                throw SystemError(call: "shm_unlink", subject: name.path, errno: -result)
            }
        }
        return removed.sorted()
    }

    /// Whether the process that created `name` still runs: same pid, same start time, not a zombie.
    /// An unreadable stat file other than "no such process" counts as alive (never remove what we cannot judge).
    public static func isCreatorAlive(_ name: SegmentName) -> Bool {
        do {
            let stat = try ProcessStat.read(pid: name.creatorPID)
            return stat.startTime == name.creatorStartTime && !stat.hasExited
        } catch {
            return !(error.code == .noSuchFile || error.code == .noSuchProcess)
        }
    }
}

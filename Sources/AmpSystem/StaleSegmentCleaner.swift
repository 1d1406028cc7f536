import Glibc

/// Removes shared-memory segments left behind by ampsoc processes that died without unlinking them.
///
/// A segment is stale when its name parses as a ``SegmentName`` and its creator is gone: no /proc/<pid>, a
/// different start time (the pid was recycled), or a zombie. Names that do not parse are never touched.
public enum StaleSegmentCleaner {
    /// Where Linux keeps POSIX shared-memory names.
    public static let directory = "/dev/shm"

    /// Scans ``directory`` for "ampsoc." entries whose creator is no longer alive, unlinks them
    /// (`shm_unlink(3)`), and returns the names removed (with their leading "/"), sorted.
    /// A segment that vanished meanwhile (another cleaner) is skipped silently.
    public static func clean() throws(SystemError) -> [String] {
        var removed: [String] = []
        for entry in try Sys.listDirectory(directory) where entry.hasPrefix(SegmentNames.prefix) {
            guard let name = SegmentNames.parse(entry), !isCreatorAlive(name) else { continue }
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

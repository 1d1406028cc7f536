import Glibc

/// One parsed shared-memory segment name: "/ampsoc.<instance>.<pid>-<starttime>.<rproc>".
///
/// `instance` names the host instance, `creatorPID` and `creatorStartTime` (field 22 of /proc/<pid>/stat) name
/// the creating process for good (a recycled pid has a different start time), `rproc` names the remote processor.
/// Instance and rproc are sanitised to [A-Za-z0-9_-], 1...64 characters, so "." separates fields unambiguously
/// and the whole name stays far below NAME_MAX.
public struct SegmentName: Equatable, Hashable, Sendable, CustomStringConvertible {
    public var instance: String
    public var creatorPID: pid_t
    public var creatorStartTime: UInt64
    public var rproc: String

    /// Builds a name, sanitising `instance` and `rproc` with ``SegmentNames/sanitize(_:)``.
    public init(instance: String, creatorPID: pid_t, creatorStartTime: UInt64, rproc: String) {
        self.instance = SegmentNames.sanitize(instance)
        self.creatorPID = creatorPID
        self.creatorStartTime = creatorStartTime
        self.rproc = SegmentNames.sanitize(rproc)
    }

    /// The name for shm_open, with its leading "/".
    public var path: String { "/\(SegmentNames.prefix)\(instance).\(creatorPID)-\(creatorStartTime).\(rproc)" }

    public var description: String { path }
}

/// Building and parsing ``SegmentName``s.
public enum SegmentNames {
    /// Every ampsoc segment's name (in /dev/shm) starts with this.
    public static let prefix = "ampsoc."
    /// Longest sanitised instance or rproc component.
    public static let maxComponentLength = 64

    /// A name for a segment created by the calling process (its pid and start time).
    public static func make(instance: String, rproc: String) throws(SystemError) -> SegmentName {
        SegmentName(instance: instance, creatorPID: getpid(), creatorStartTime: try ProcessStat.ownStartTime(), rproc: rproc)
    }

    /// Replaces every character outside [A-Za-z0-9_-] with "_", truncates to ``maxComponentLength``, and
    /// turns the empty string into "_".
    public static func sanitize(_ component: String) -> String {
        var result = ""
        for scalar in component.unicodeScalars.prefix(maxComponentLength) {
            result.unicodeScalars.append(isAllowed(scalar) ? scalar : "_")
        }
        return result.isEmpty ? "_" : result
    }

    /// Parses "/ampsoc.<instance>.<pid>-<starttime>.<rproc>" (the leading "/" is optional, as in /dev/shm
    /// listings). Returns nil for anything else, including unsanitised components.
    public static func parse(_ text: String) -> SegmentName? {
        var body = Substring(text)
        if body.hasPrefix("/") { body = body.dropFirst() }
        guard body.hasPrefix(prefix) else { return nil }
        let fields = body.dropFirst(prefix.count).split(separator: ".", omittingEmptySubsequences: false)
        guard fields.count == 3 else { return nil }
        let owner = fields[1].split(separator: "-", omittingEmptySubsequences: false)
        guard owner.count == 2, let pid = pid_t(owner[0]), pid > 0, let startTime = UInt64(owner[1]),
              isComponent(fields[0]), isComponent(fields[2])
        else { return nil }
        return SegmentName(instance: String(fields[0]), creatorPID: pid, creatorStartTime: startTime, rproc: String(fields[2]))
    }

    private static func isComponent(_ text: Substring) -> Bool {
        !text.isEmpty && text.unicodeScalars.count <= maxComponentLength && text.unicodeScalars.allSatisfy(isAllowed)
    }

    private static func isAllowed(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "A"..."Z", "a"..."z", "0"..."9", "_", "-": return true
        default: return false
        }
    }
}

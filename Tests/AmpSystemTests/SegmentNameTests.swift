import Glibc
import Testing

@testable import AmpSystem

@Suite("SegmentNameTests")
struct SegmentNameTests {
    @Test func buildsAndParsesTheDocumentedFormat() throws {
        let name = SegmentName(instance: "board-1", creatorPID: 4242, creatorStartTime: 987_654, rproc: "dsp_0")
        #expect(name.path == "/ampsoc.board-1.4242-987654.dsp_0")
        #expect(SegmentNames.parse(name.path) == name)
        #expect(SegmentNames.parse("ampsoc.board-1.4242-987654.dsp_0") == name)
    }

    @Test func sanitisesComponentsToTheAllowedAlphabet() {
        #expect(SegmentNames.sanitize("my soc/dsp.0") == "my_soc_dsp_0")
        #expect(SegmentNames.sanitize("") == "_")
        #expect(SegmentNames.sanitize("héllo") == "h_llo")
        #expect(SegmentNames.sanitize(String(repeating: "a", count: 100)).count == 64)
        let name = SegmentName(instance: "a.b", creatorPID: 1, creatorStartTime: 2, rproc: "../x")
        #expect(name.path == "/ampsoc.a_b.1-2.___x")
        #expect(SegmentNames.parse(name.path) == name)
    }

    @Test func longestNameStaysBelowTheShmOpenLimit() {
        let long = String(repeating: "z", count: 500)
        let name = SegmentName(instance: long, creatorPID: Int32.max, creatorStartTime: UInt64.max, rproc: long)
        #expect(name.path.utf8.count == 1 + 7 + 64 + 1 + 10 + 1 + 20 + 1 + 64)
        #expect(name.path.utf8.count - 1 < Int(NAME_MAX) - 1)
    }

    @Test func rejectsForeignAndMalformedNames() {
        for text in [
            "/other.a.1-2.b", "/ampsoc.a.1-2", "/ampsoc.a.1-2.b.c", "/ampsoc.a.x-2.b", "/ampsoc.a.1-y.b",
            "/ampsoc.a.-1-2.b", "/ampsoc.a.0-2.b", "/ampsoc..1-2.b", "/ampsoc.a b.1-2.c", "/ampsoc.a.1-2.",
            "/ampsoc.a.12.b",
        ] {
            #expect(SegmentNames.parse(text) == nil, "\(text)")
        }
    }

    @Test func makeUsesThisProcessAndItsStartTime() throws {
        let name = try SegmentNames.make(instance: "host", rproc: "m4")
        #expect(name.creatorPID == getpid())
        #expect(name.creatorStartTime == (try ProcessStat.ownStartTime()))
        #expect(name.creatorStartTime > 0)
        #expect(StaleSegmentCleaner.isCreatorAlive(name))
        var recycled = name
        recycled.creatorStartTime += 1
        #expect(!StaleSegmentCleaner.isCreatorAlive(recycled))
    }

    @Test func parsesStatLinesWithAwkwardCommandNames() {
        // Fields: pid (comm) state ppid ... field 22 = starttime. The command name contains ") (" and spaces.
        var fields = (4...21).map { "\($0)" }
        fields[0] = "1"  // field 4: ppid
        let line = "123 (we) ird (name) S " + fields.joined(separator: " ") + " 777000 23 24\n"
        let parsed = ProcessStat.parse(Array(line.utf8))
        #expect(parsed == ProcessStat(state: "S", startTime: 777_000))
        #expect(ProcessStat.parse(Array("123 (x) Z 1 2".utf8)) == nil)
        #expect(ProcessStat.parse(Array("no parenthesis".utf8)) == nil)
        #expect(ProcessStat(state: "Z", startTime: 1).hasExited)
        #expect(!ProcessStat(state: "R", startTime: 1).hasExited)
    }
}

@Suite("StaleSegmentCleanerTests")
struct StaleSegmentCleanerTests {
    @Test func removesSegmentsOfDeadCreatorsAndKeepsLiveOnes() throws {
        // A pid that certainly belonged to a process that is gone: spawn /bin/true and reap it.
        let child = try ChildProcess.spawn(executable: "/bin/true")
        let deadPID = child.pid
        #expect(try child.waitForExit(timeout: .seconds(5)) == .exited(0))
        #expect(!TestSupport.processExists(deadPID))

        let salt = UInt32.random(in: 0...UInt32.max)
        let dead = SegmentName(instance: "test-stale", creatorPID: deadPID, creatorStartTime: 1, rproc: "r\(salt)")
        let recycled = SegmentName(
            instance: "test-stale", creatorPID: getpid(), creatorStartTime: try ProcessStat.ownStartTime() + 1,
            rproc: "r\(salt)")
        let live = try SegmentNames.make(instance: "test-stale", rproc: "r\(salt)")

        // Segments "left behind" by crashed creators, plus one owned by this (live) process.
        for abandoned in [dead, recycled] { try TestSupport.createAbandonedSegment(abandoned.path) }
        let liveSegment = try SharedMemorySegment.create(name: live.path, size: 4096)

        // Another instance's cleaner leaves them alone while they are young.
        let other = try StaleSegmentCleaner.clean(ownInstance: "test-other")
        #expect(!other.contains(dead.path) && !other.contains(recycled.path))
        #expect(TestSupport.segmentExists(dead.path))

        let removed = try StaleSegmentCleaner.clean(ownInstance: "test-stale")
        #expect(removed.contains(dead.path))
        #expect(removed.contains(recycled.path))
        #expect(!removed.contains(live.path))
        #expect(!TestSupport.segmentExists(dead.path))
        #expect(!TestSupport.segmentExists(recycled.path))
        #expect(TestSupport.segmentExists(live.path))

        // A second run finds nothing more of ours.
        let again = try StaleSegmentCleaner.clean(ownInstance: "test-stale")
        #expect(!again.contains(dead.path) && !again.contains(live.path))
        try liveSegment.unlink()
        #expect(!TestSupport.segmentExists(live.path))
    }

    @Test func otherInstancesSegmentsGoOnceOlderThanTheGrace() throws {
        let child = try ChildProcess.spawn(executable: "/bin/true")
        let deadPID = child.pid
        #expect(try child.waitForExit(timeout: .seconds(5)) == .exited(0))
        let abandoned = SegmentName(
            instance: "test-grace", creatorPID: deadPID, creatorStartTime: 1, rproc: "r\(UInt32.random(in: 0...UInt32.max))")
        try TestSupport.createAbandonedSegment(abandoned.path)
        #expect(!(try StaleSegmentCleaner.clean(ownInstance: "someone-else")).contains(abandoned.path))
        #expect(TestSupport.segmentExists(abandoned.path))
        // Its own instance's next start removes it at once.
        #expect(try StaleSegmentCleaner.clean(ownInstance: "test-grace").contains(abandoned.path))
        #expect(!TestSupport.segmentExists(abandoned.path))
    }

    @Test func leavesNamesItCannotParseAlone() throws {
        let foreign = "/ampsoc.not-our-format-\(UInt32.random(in: 0...UInt32.max))"
        let segment = try SharedMemorySegment.create(name: foreign, size: 4096)
        let removed = try StaleSegmentCleaner.clean()
        #expect(!removed.contains(foreign))
        #expect(TestSupport.segmentExists(foreign))
        try segment.unlink()
        #expect(!TestSupport.segmentExists(foreign))
    }
}

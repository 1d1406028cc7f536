import Glibc
import Testing

@testable import AmpSystem

@Suite("SharedMemoryTests")
struct SharedMemoryTests {
    @Test func createOpenShareBytesAndUnlink() throws {
        let name = try TestSupport.uniqueSegmentName("shm")
        do {
            let creator = try SharedMemorySegment.create(name: name, size: 8192)
            #expect(creator.size == 8192)
            #expect(creator.ownsName)
            #expect(TestSupport.segmentExists(name))
            #expect(try creator.read(at: 0, count: 16) == [UInt8](repeating: 0, count: 16))

            let peer = try SharedMemorySegment.open(name: name)
            #expect(peer.size == 8192)
            #expect(!peer.ownsName)
            try creator.write([0xde, 0xad, 0xbe, 0xef], at: 4092)
            #expect(try peer.read(at: 4090, count: 8) == [0, 0, 0xde, 0xad, 0xbe, 0xef, 0, 0])
            // Two distinct mappings of the same pages.
            #expect(creator.base != peer.base)

            var out = [UInt8](repeating: 0xff, count: 4)
            try out.withUnsafeMutableBytes { try peer.read(at: 4092, into: $0) }
            #expect(out == [0xde, 0xad, 0xbe, 0xef])

            try peer.zero(at: 4093, count: 2)
            #expect(try creator.read(at: 4092, count: 4) == [0xde, 0, 0, 0xef])

            try creator.unlink()
            #expect(!TestSupport.segmentExists(name))
            try creator.unlink()  // second call is a no-op
            // Mappings stay valid after unlink.
            try peer.write([7], at: 0)
            #expect(try creator.read(at: 0, count: 1) == [7])
        }
        #expect(!TestSupport.segmentExists(name))
    }

    @Test func creatorUnlinksOnDeinitButOpenerDoesNot() throws {
        let name = try TestSupport.uniqueSegmentName("deinit")
        do {
            let creator = try SharedMemorySegment.create(name: name, size: 4096)
            do {
                let peer = try SharedMemorySegment.open(name: name)
                #expect(peer.size == 4096)
            }
            #expect(TestSupport.segmentExists(name))
            withExtendedLifetime(creator) {}
        }
        #expect(!TestSupport.segmentExists(name))
    }

    @Test func modeIsExactly0600EvenWithPermissiveUmask() throws {
        let name = try TestSupport.uniqueSegmentName("mode")
        // umask only clears bits, so 0600 must come from the explicit fchmod regardless of its value.
        let previous = umask(0o177)  // would leave 0400 without the fchmod
        defer { umask(previous) }
        let segment = try SharedMemorySegment.create(name: name, size: 4096)
        var info = stat()
        #expect(stat("/dev/shm" + name, &info) == 0)
        #expect(info.st_mode & 0o7777 == 0o600)
        #expect(info.st_mode & S_IFMT == S_IFREG)
        #expect(info.st_size == 4096)
        #expect(info.st_uid == getuid())
        try segment.unlink()
        #expect(!TestSupport.segmentExists(name))
    }

    @Test func duplicateCreateFailsWithEEXISTNamingTheSegment() throws {
        let name = try TestSupport.uniqueSegmentName("excl")
        let first = try SharedMemorySegment.create(name: name, size: 4096)
        try first.write([42], at: 0)
        let error = #expect(throws: SystemError.self) { try SharedMemorySegment.create(name: name, size: 4096) }
        #expect(error?.code == .fileExists)
        #expect(error?.errno == EEXIST)
        #expect(error?.call == "shm_open")
        #expect(error?.subject == name)
        #expect(error?.description.contains(name) == true)
        // The failed create must not have unlinked or truncated the first segment.
        #expect(TestSupport.segmentExists(name))
        #expect(try first.read(at: 0, count: 1) == [42])
        try first.unlink()
        #expect(!TestSupport.segmentExists(name))
    }

    @Test func openingAMissingSegmentFailsWithENOENT() throws {
        let name = try TestSupport.uniqueSegmentName("missing")
        let error = #expect(throws: SystemError.self) { try SharedMemorySegment.open(name: name) }
        #expect(error?.code == .noSuchFile)
        #expect(error?.subject == name)
    }

    @Test func invalidNamesAndSizesAreRejectedBeforeAnySyscall() throws {
        let slashless = #expect(throws: SystemError.self) { try SharedMemorySegment.create(name: "ampsoc.x", size: 4096) }
        #expect(slashless?.code == .invalidArgument)
        let nested = #expect(throws: SystemError.self) { try SharedMemorySegment.create(name: "/a/b", size: 4096) }
        #expect(nested?.code == .invalidArgument)
        let long = #expect(throws: SystemError.self) {
            try SharedMemorySegment.create(name: "/" + String(repeating: "x", count: 254), size: 4096)
        }
        #expect(long?.code == .nameTooLong)
        let name = try TestSupport.uniqueSegmentName("size")
        let empty = #expect(throws: SystemError.self) { try SharedMemorySegment.create(name: name, size: 0) }
        #expect(empty?.code == .invalidArgument)
        #expect(!TestSupport.segmentExists(name))
    }

    @Test func accessOutsideTheMappingThrowsERANGENamingTheSegment() throws {
        let name = try TestSupport.uniqueSegmentName("bounds")
        let segment = try SharedMemorySegment.create(name: name, size: 4096)
        defer { try? segment.unlink() }
        #expect(try segment.read(at: 4095, count: 1) == [0])
        #expect(try segment.read(at: 4096, count: 0) == [])
        let past = #expect(throws: SystemError.self) { try segment.read(at: 4095, count: 2) }
        #expect(past?.code == .outOfRange)
        #expect(past?.subject == name)
        #expect(past?.call == "bounds check (offset 4095, count 2, segment size 4096)")
        #expect(throws: SystemError.self) { try segment.write([1, 2], at: 4095) }
        #expect(throws: SystemError.self) { try segment.zero(at: -1, count: 1) }
        #expect(throws: SystemError.self) { try segment.read(at: Int.max, count: 2) }
        #expect(throws: SystemError.self) { try segment.atomicWord(at: 4094) }
        let misaligned = #expect(throws: SystemError.self) { try segment.atomicWord(at: 2) }
        #expect(misaligned?.code == .invalidArgument)
    }

    @Test func atomicWordsAreSharedBetweenMappings() throws {
        let name = try TestSupport.uniqueSegmentName("atomic")
        let creator = try SharedMemorySegment.create(name: name, size: 4096)
        defer { try? creator.unlink() }
        let peer = try SharedMemorySegment.open(name: name)
        let mine = try creator.atomicWord(at: 128)
        let theirs = try peer.atomicWord(at: 128)
        mine.store(5)
        #expect(theirs.load() == 5)
        #expect(theirs.wrappingAdd(3) == 5)
        #expect(mine.bitwiseOr(0x100) == 8)
        #expect(theirs.exchange(0xffff_ffff) == 0x108)
        #expect(mine.wrappingAdd(1) == 0xffff_ffff)
        #expect(theirs.load(ordering: .relaxed) == 0)
        #expect(mine.wrappingSubtract(1, ordering: .sequentiallyConsistent) == 0)
        let swapped = theirs.compareExchange(expected: 0xffff_ffff, desired: 9)
        #expect(swapped.exchanged && swapped.original == 0xffff_ffff)
        let refused = theirs.compareExchange(expected: 1, desired: 2)
        #expect(!refused.exchanged && refused.original == 9)
        // Native byte order in memory: the word's bytes as the other mapping sees them.
        #expect(try peer.read(at: 128, count: 4) == [9, 0, 0, 0])
    }
}

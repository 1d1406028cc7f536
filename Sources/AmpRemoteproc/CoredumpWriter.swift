import AmpSystem
import AmpWire
import Glibc

/// Writes an ELF core file of a remote's device memory after a crash, as Linux's remoteproc coredump:
/// ET_CORE with the firmware's e_machine, class and byte order, and one PT_LOAD per carveout region (RAM;
/// like Linux, which registers carveouts as dump segments, device-memory windows are left out)
/// (p_vaddr = p_paddr = the region's da, p_flags RWX, p_align 0), its data the region's bytes as they are
/// in the segment. No section headers, no notes.
///
/// Coredump modes (the profile's `coredump`, Linux's sysfs `coredump`): `disabled` writes nothing (the
/// caller does not call the writer); `enabled` and `inline` both write this same file. In Linux, `enabled`
/// copies the device memory into a buffer before handing the dump to user space, while `inline` lets user
/// space read straight from device memory and keeps the core halted until the read ends. Here the host
/// reads the segment of an already-stopped remote and writes the file itself, so the two are identical.
///
/// The file is `<directory>/<rproc>-<crashcount>-<unix time>.core`, written to a temporary file in the
/// same directory, flushed and renamed into place, so a reader never sees a partial dump.
public enum CoredumpWriter {
    /// The core image of `segment`'s regions (see the type's comment).
    ///
    /// - Throws: EFBIG when an ELF32 core would exceed 4 GiB; system errors reading the segment.
    public static func image(
        segment: SharedMemorySegment, memoryMap: RemoteMemoryMap, machine: UInt16, elfClass: ELFClass, byteOrder: ByteOrder,
        rproc: String
    ) throws(RemoteprocError) -> [UInt8] {
        var segments = [ELFImageBuilder.Segment]()
        var total = UInt64(elfClass.headerSize)
        for region in memoryMap.regions where region.kind == .carveout {
            let data: [UInt8]
            do {
                data = try segment.read(at: region.segmentOffset, count: Int(region.size))
            } catch {
                throw RemoteprocError(rproc: rproc, system: error, context: "coredump: region '\(region.name)':")
            }
            total += UInt64(elfClass.programHeaderSize) + UInt64(data.count)
            segments.append(
                ELFImageBuilder.Segment(
                    type: ELFProgramHeader.PT_LOAD,
                    flags: ELFProgramHeader.PF_R | ELFProgramHeader.PF_W | ELFProgramHeader.PF_X,
                    vaddr: UInt64(region.da), paddr: UInt64(region.da), memsz: UInt64(region.size), align: 0, data: data))
        }
        guard elfClass == .elf64 || total <= UInt64(UInt32.max) else {
            throw RemoteprocError(
                rproc: rproc, code: .fileTooLarge, message: "coredump: \(total) bytes do not fit an ELF32 core file (at most 4 GiB)")
        }
        let builder = ELFImageBuilder(
            class: elfClass, order: byteOrder, type: ELFHeader.ET_CORE, machine: machine, segments: segments)
        return builder.build()
    }

    /// The core file's name: "<rproc>-<crashCount>-<unixTime>.core", with characters other than letters,
    /// digits, "-", "_" and "." in `rproc` replaced by "_".
    public static func fileName(rproc: String, crashCount: Int, unixTime: Int) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.".unicodeScalars)
        let safe = String(String.UnicodeScalarView(rproc.unicodeScalars.map { allowed.contains($0) ? $0 : "_" }))
        return "\(safe.isEmpty || safe.hasPrefix(".") ? "_" + safe : safe)-\(crashCount)-\(unixTime).core"
    }

    /// Writes the core of `segment` for `firmware` into `directory` (created if missing) and returns the
    /// file's path. `unixTime` defaults to now.
    public static func write(
        segment: SharedMemorySegment, memoryMap: RemoteMemoryMap, firmware: FirmwareImage, rproc: String, crashCount: Int,
        directory: String, unixTime: Int? = nil
    ) throws(RemoteprocError) -> String {
        let bytes = try image(
            segment: segment, memoryMap: memoryMap, machine: firmware.machine, elfClass: firmware.elfClass,
            byteOrder: firmware.byteOrder, rproc: rproc)
        let name = fileName(rproc: rproc, crashCount: crashCount, unixTime: unixTime ?? Int(time(nil)))
        let path = directory.hasSuffix("/") ? directory + name : directory + "/" + name
        do {
            try FileIO.makeDirectories(directory)
            try FileIO.writeFileAtomically(bytes, to: path)
        } catch {
            throw RemoteprocError(rproc: rproc, system: error, context: "coredump:")
        }
        return path
    }
}

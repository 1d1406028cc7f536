// Byte order of a wire structure. Remoteproc structures are native-endian on the remote core; ELF files
// declare theirs in e_ident[EI_DATA]. Every read and write in this module names its byte order explicitly.

/// The byte order in which a multi-byte integer is stored.
public enum ByteOrder: String, Sendable, Hashable, CaseIterable {
    case little
    case big

    /// The byte order of the machine running this code.
    public static var host: ByteOrder {
        UInt16(1).littleEndian == 1 ? .little : .big
    }
}

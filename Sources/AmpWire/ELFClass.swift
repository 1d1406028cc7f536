// ELF identification: the 16-byte e_ident prefix every ELF file starts with.
//
//   e_ident[0..3]  magic 0x7F 'E' 'L' 'F'
//   e_ident[4]     EI_CLASS    1 = ELF32, 2 = ELF64 (decides the width of addresses and offsets)
//   e_ident[5]     EI_DATA     1 = little endian (ELFDATA2LSB), 2 = big endian (ELFDATA2MSB)
//   e_ident[6]     EI_VERSION  1 (EV_CURRENT)
//   e_ident[7]     EI_OSABI
//   e_ident[8]     EI_ABIVERSION
//   e_ident[9..15] padding, zero
//
// The class fixes the sizes of the three tables parsed here: file header 52/64 bytes, program header
// 32/56 bytes, section header 40/64 bytes (ELF32/ELF64).

/// The ELF file class: the width of addresses and file offsets.
public enum ELFClass: Int, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case elf32 = 32
    case elf64 = 64

    /// The value stored in `e_ident[EI_CLASS]`: 1 for ELF32, 2 for ELF64.
    public var identValue: UInt8 {
        switch self {
        case .elf32: 1
        case .elf64: 2
        }
    }

    /// The class whose `e_ident[EI_CLASS]` value is `value`, or nil for an invalid class.
    public init?(identValue value: UInt8) {
        switch value {
        case 1: self = .elf32
        case 2: self = .elf64
        default: return nil
        }
    }

    /// Size of the ELF file header: 52 bytes (ELF32) or 64 bytes (ELF64).
    public var headerSize: Int { self == .elf32 ? 52 : 64 }
    /// Size of one program header: 32 bytes (ELF32) or 56 bytes (ELF64).
    public var programHeaderSize: Int { self == .elf32 ? 32 : 56 }
    /// Size of one section header: 40 bytes (ELF32) or 64 bytes (ELF64).
    public var sectionHeaderSize: Int { self == .elf32 ? 40 : 64 }
    /// Size of an address or file offset: 4 bytes (ELF32) or 8 bytes (ELF64).
    public var wordSize: Int { self == .elf32 ? 4 : 8 }

    public var description: String { self == .elf32 ? "ELF32" : "ELF64" }
}

/// Offsets and values inside `e_ident`.
public enum ELFIdent {
    /// The four magic bytes at offset 0: 0x7F 'E' 'L' 'F'.
    public static let magic: [UInt8] = [0x7F, 0x45, 0x4C, 0x46]
    /// Size of `e_ident`.
    public static let size = 16
    public static let classOffset = 4
    public static let dataOffset = 5
    public static let versionOffset = 6
    public static let osabiOffset = 7
    public static let abiVersionOffset = 8

    /// `e_ident[EI_DATA]` for a byte order: 1 little endian, 2 big endian.
    public static func dataValue(for order: ByteOrder) -> UInt8 {
        order == .little ? 1 : 2
    }

    /// The byte order for an `e_ident[EI_DATA]` value, or nil when it is neither 1 nor 2.
    public static func byteOrder(forDataValue value: UInt8) -> ByteOrder? {
        switch value {
        case 1: .little
        case 2: .big
        default: nil
        }
    }
}

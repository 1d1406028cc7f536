// Serialising one resource-table entry at its offset: the u32 type word, then the payload laid out as
// described atop Resource.swift, in the table's byte order. The counterpart of Resource.decode in
// ResourceTableParser.swift.

extension Resource {
    /// Writes the entry (type word and payload) at `offset`.
    func write(into writer: inout ByteWriter, at offset: Int) {
        writer.put(type, at: offset)
        let payload = offset + ResourceTable.entryHeaderSize
        switch self {
        case .carveout(let region), .devmem(let region):
            writer.put(region.da, at: payload + MemoryOffset.da)
            writer.put(region.pa, at: payload + MemoryOffset.pa)
            writer.put(region.len, at: payload + MemoryOffset.len)
            writer.put(region.flags, at: payload + MemoryOffset.flags)
            writer.put(region.reserved, at: payload + MemoryOffset.reserved)
            Self.writeName(region.name, into: &writer, at: payload + MemoryOffset.name)
        case .trace(let trace):
            writer.put(trace.da, at: payload + TraceOffset.da)
            writer.put(trace.len, at: payload + TraceOffset.len)
            writer.put(trace.reserved, at: payload + TraceOffset.reserved)
            Self.writeName(trace.name, into: &writer, at: payload + TraceOffset.name)
        case .vdev(let vdev):
            writer.put(vdev.id, at: payload + VdevOffset.id)
            writer.put(vdev.notifyid, at: payload + VdevOffset.notifyid)
            writer.put(vdev.dfeatures, at: payload + VdevOffset.dfeatures)
            writer.put(vdev.gfeatures, at: payload + VdevOffset.gfeatures)
            writer.put(UInt32(truncatingIfNeeded: vdev.config.count), at: payload + VdevOffset.configLen)
            writer.put(vdev.status, at: payload + VdevOffset.status)
            writer.put(UInt8(truncatingIfNeeded: vdev.vrings.count), at: payload + VdevOffset.numOfVrings)
            for (index, value) in vdev.reserved.prefix(2).enumerated() {
                writer.put(value, at: payload + VdevOffset.reserved + index)
            }
            for (index, vring) in vdev.vrings.enumerated() {
                let start = payload + VdevOffset.vring(index)
                writer.put(vring.da, at: start + VringOffset.da)
                writer.put(vring.align, at: start + VringOffset.align)
                writer.put(vring.num, at: start + VringOffset.num)
                writer.put(vring.notifyid, at: start + VringOffset.notifyid)
                writer.put(vring.pa, at: start + VringOffset.pa)
            }
            writer.put(bytes: vdev.config, at: payload + VdevOffset.config(vringCount: vdev.vrings.count))
        case .vendor(_, let data), .unknown(_, let data):
            writer.put(bytes: data, at: payload)
        }
    }

    /// Writes `name` as a `name[32]` array: up to 32 UTF-8 bytes, NUL-padded. A 32-byte name fills the
    /// array without a terminator, exactly as such a name reads back.
    private static func writeName(_ name: String, into writer: inout ByteWriter, at offset: Int) {
        let utf8 = Array(name.utf8.prefix(ResourceTable.nameSize))
        writer.put(bytes: utf8 + [UInt8](repeating: 0, count: ResourceTable.nameSize - utf8.count), at: offset)
    }
}

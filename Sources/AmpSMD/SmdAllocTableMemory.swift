// Reading and writing the entries of an SMD allocation table (SMEM item 13 or 266, 64 entries of 32 bytes;
// layout in AmpWire's SmdAllocEntry) in live shared memory.
//
// Publication order: the creator writes name, cid and flags first and ref_count last with a release store;
// a reader loads ref_count with acquire first and takes the rest only when it is non-zero, so it never sees a
// half-written entry of a correct peer.

import AmpWire

/// One allocation table in shared memory.
struct SmdAllocTableMemory {
    let region: SmemRegion
    let item: SmemItem
    let table: SmdAllocTable

    /// The table's item, validated to hold 64 entries.
    init(heap: SmemHeap, table: SmdAllocTable, item: SmemItem) throws(SmdError) {
        guard item.size >= SmdConstants.allocTableSize else {
            throw SmdError(
                .protocolViolation, field: "smem.toc[\(item.number)].size",
                "allocation table item \(item.number) has \(item.size) bytes, fewer than \(SmdConstants.allocTableSize)")
        }
        region = heap.region
        self.item = item
        self.table = table
    }

    func entryOffset(_ index: Int) -> Int { item.offset + index * SmdAllocEntry.size }

    /// Error-message name of entry `index`.
    func fieldName(_ index: Int) -> String { "smd_alloc_tbl[\(table.index)][\(index)]" }

    /// ref_count of entry `index` (acquire).
    func refCount(_ index: Int) -> UInt32 {
        region.acquire32(entryOffset(index) + SmdAllocEntry.refCountOffset)
    }

    /// The whole entry `index` as stored.
    func entry(_ index: Int) -> SmdAllocEntry {
        let bytes = region.snapshotWords(at: entryOffset(index), count: SmdAllocEntry.size)
        // 32 bytes always parse.
        return (try? SmdAllocEntry(from: ByteReader(bytes, order: .little), at: 0))
            ?? SmdAllocEntry(nameBytes: [], cid: 0, flags: SmdAllocFlags(rawValue: 0), refCount: 0)
    }

    /// Publishes `entry` at `index`: everything but ref_count, then ref_count with a release store.
    func publish(_ entry: SmdAllocEntry, at index: Int) {
        let bytes = entry.serialized()
        region.storeWords(Array(bytes[0..<SmdAllocEntry.refCountOffset]), at: entryOffset(index))
        region.release32(entry.refCount, at: entryOffset(index) + SmdAllocEntry.refCountOffset)
        smdFullFence()
    }
}

import AmpWire

// Handling of RSC_VDEV entries (Linux's rproc_handle_vdev + rproc_alloc_vring, and the buffer pool the
// virtio rpmsg bus allocates at probe): ring memory, notify ids, write-backs, and the offsets the virtio
// layer later reads and writes (status, gfeatures, config space). Rules in ResourceHandler.swift.

extension ResourceHandling {
    mutating func handleVdev(_ vdev: Resource.VirtioDevice, entry: ResourceTableEntry, index: Int) throws(RemoteprocError) {
        let vdevIndex = result.vdevs.count
        let position = "entry \(index) @ \(rprocHex(entry.offset))"
        guard vdev.vrings.count <= ResourceTable.maxVringsPerVdev else {
            throw resourceError(
                "vdev \(vdevIndex) (\(position))",
                "\(vdev.vrings.count) vrings; at most \(ResourceTable.maxVringsPerVdev) are supported")
        }
        let payload = entry.offset + ResourceTable.entryHeaderSize
        var updated = vdev
        var rings = [VringRecord]()
        for (ringIndex, vring) in vdev.vrings.enumerated() {
            let label = "vdev \(vdevIndex) vring \(ringIndex) (\(position))"
            let tableOffset = payload + Resource.VdevOffset.vring(ringIndex)
            let ring = try allocateRing(
                vring, label: label, name: "vdev\(vdevIndex)vring\(ringIndex)", index: ringIndex, tableOffset: tableOffset)
            updated.vrings[ringIndex].da = ring.da
            updated.vrings[ringIndex].pa = ring.pa
            updated.vrings[ringIndex].notifyid = ring.notifyid
            writeBack(ring.da, tableOffset: tableOffset + Resource.VringOffset.da)
            writeBack(ring.pa, tableOffset: tableOffset + Resource.VringOffset.pa)
            writeBack(ring.notifyid, tableOffset: tableOffset + Resource.VringOffset.notifyid)
            rings.append(ring)
        }
        var pool: BufferPoolRecord?
        if vdev.id == VirtioDeviceID.rpmsg {
            if let first = vdev.vrings.first {
                pool = try allocateBufferPool(vdevIndex: vdevIndex, vringNum: first.num)
            } else {
                result.warnings.append("vdev \(vdevIndex) (\(position)): rpmsg device without vrings: no buffer pool allocated")
            }
        }
        replace(index, with: .vdev(updated))
        result.vdevs.append(
            VdevRecord(
                index: vdevIndex, entryIndex: index, entryOffset: entry.offset, id: vdev.id, dfeatures: vdev.dfeatures,
                vrings: rings, bufferPool: pool,
                statusOffset: payload + Resource.VdevOffset.status,
                gfeaturesOffset: payload + Resource.VdevOffset.gfeatures,
                configOffset: payload + Resource.VdevOffset.config(vringCount: vdev.vrings.count),
                configLength: vdev.config.count))
    }

    /// Ring memory for one vring: allocated (da ANY or 0) or claimed at its fixed address; the next notify id.
    private mutating func allocateRing(
        _ vring: Resource.VdevVring, label: String, name: String, index: Int, tableOffset: Int
    ) throws(RemoteprocError) -> VringRecord {
        let layout: VringLayout
        let allocationSize: Int
        do {
            layout = try VringLayout(num: Int(vring.num), align: Int(vring.align))
            allocationSize = try layout.allocationSize(pageSize: RemoteMemoryMap.pageSize)
        } catch {
            let field = error.field.hasPrefix("vring.") ? String(error.field.dropFirst("vring.".count)) : error.field
            throw resourceError(label, "\(field) \(error.reason)")
        }
        let da: UInt32
        let pa: UInt32
        let segmentOffset: Int
        let size: Int
        let regionName: String
        if vring.da == ResourceTable.addressAny || vring.da == 0 {
            if vring.da == 0 {
                result.warnings.append(
                    "\(label): da 0 treated as ANY: the host allocates the ring and writes its address back (as Linux without an IOMMU)")
            }
            guard let (range, region) = allocator.allocate(owner: "carveout '\(name)'", length: UInt64(allocationSize)) else {
                throw tooSmall(carveout: name, length: UInt64(allocationSize))
            }
            da = UInt32(truncatingIfNeeded: range.da)
            pa = region.pa(of: range.da)
            segmentOffset = region.segmentOffset(of: range.da)
            size = allocationSize
            regionName = region.name
        } else {
            let region = try claim(label, da: vring.da, length: UInt32(layout.totalSize), kinds: [.carveout, .devmem])
            da = vring.da
            pa = region.pa(of: UInt64(da))
            segmentOffset = region.segmentOffset(of: UInt64(da))
            size = layout.totalSize
            regionName = region.name
        }
        let notifyid = nextNotifyID
        nextNotifyID += 1
        result.memoryEntries.append(MemoryEntry(name: name, da: da, pa: pa, length: size, segmentOffset: segmentOffset, region: regionName))
        return VringRecord(
            index: index, da: da, pa: pa, num: vring.num, align: vring.align, notifyid: notifyid, segmentOffset: segmentOffset,
            size: size, tableOffset: tableOffset)
    }

    /// The rpmsg buffer pool: carveout `vdev<i>buffer` of bufferCount(num) buffers.
    private mutating func allocateBufferPool(vdevIndex: Int, vringNum: UInt32) throws(RemoteprocError) -> BufferPoolRecord {
        let name = "vdev\(vdevIndex)buffer"
        let count = RpmsgConstants.bufferCount(vringNum: Int(vringNum))
        let length = count * bufferSize
        guard let (range, region) = allocator.allocate(owner: "carveout '\(name)'", length: UInt64(length)) else {
            throw tooSmall(carveout: name, length: UInt64(length))
        }
        let pool = BufferPoolRecord(
            da: UInt32(truncatingIfNeeded: range.da), pa: region.pa(of: range.da), segmentOffset: region.segmentOffset(of: range.da),
            count: count, bufferSize: bufferSize)
        result.memoryEntries.append(
            MemoryEntry(name: name, da: pool.da, pa: pool.pa, length: length, segmentOffset: pool.segmentOffset, region: region.name))
        return pool
    }
}

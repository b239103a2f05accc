/// The end-of-central-directory record (APPNOTE §4.3.16): where the entries are listed.
struct CentralDirectory {
    /// How many entries it lists.
    let count: Int
    /// Where it starts and how long it is.
    let offset: Int
    let size: Int

    /// The record of `bytes`, searched for from the end past a comment of at most 64 KiB.
    init(_ bytes: [UInt8]) throws(PackageError) {
        let recordSize = 22
        guard bytes.count >= recordSize else { throw .malformed("it is too short to be a zip") }
        var position = bytes.count - recordSize
        let lowest = max(0, bytes.count - recordSize - 0xFFFF)
        while position >= lowest {
            if bytes.uint32(at: position) == 0x0605_4B50,
                position + recordSize + Int(bytes.uint16(at: position + 20)) == bytes.count
            {
                break
            }
            position -= 1
        }
        guard position >= lowest else { throw .malformed("no end of central directory record") }
        let disk = bytes.uint16(at: position + 4)
        let directoryDisk = bytes.uint16(at: position + 6)
        let onDisk = bytes.uint16(at: position + 8)
        let total = bytes.uint16(at: position + 10)
        let size = bytes.uint32(at: position + 12)
        let offset = bytes.uint32(at: position + 16)
        guard total != 0xFFFF, size != 0xFFFF_FFFF, offset != 0xFFFF_FFFF else {
            throw .malformed("ZIP64 archives are not accepted")
        }
        guard disk == 0, directoryDisk == 0, onDisk == total else {
            throw .malformed("archives split over several disks are not accepted")
        }
        guard Int(offset) + Int(size) <= position else {
            throw .malformed("the central directory lies outside the file")
        }
        (self.count, self.offset, self.size) = (Int(total), Int(offset), Int(size))
    }

    /// Every entry it lists, with its path checked.
    func entries(in bytes: [UInt8]) throws(PackageError) -> [ZipEntry] {
        var entries: [ZipEntry] = []
        var position = offset
        for _ in 0..<count {
            let entry = try ZipEntry(centralHeaderAt: position, in: bytes, end: offset + size)
            entries.append(entry)
            position = entry.nextHeader
        }
        guard position == offset + size else {
            throw .malformed("the central directory's size does not match its entries")
        }
        return entries
    }
}

/// One central directory header (APPNOTE §4.3.12), checked.
struct ZipEntry {
    let path: String
    /// The name as stored, to compare with the local header's.
    let name: [UInt8]
    let isDirectory: Bool
    let method: UInt16
    let crc32: UInt32
    let compressedSize: Int
    let uncompressedSize: Int
    let localHeaderOffset: Int
    /// Where the next central header starts.
    let nextHeader: Int

    init(centralHeaderAt position: Int, in bytes: [UInt8], end: Int) throws(PackageError) {
        guard position + 46 <= end, bytes.uint32(at: position) == 0x0201_4B50 else {
            throw .malformed("a central directory header is missing or damaged")
        }
        let madeBy = bytes.uint16(at: position + 4)
        let flags = bytes.uint16(at: position + 8)
        let nameLength = Int(bytes.uint16(at: position + 28))
        let extraLength = Int(bytes.uint16(at: position + 30))
        let commentLength = Int(bytes.uint16(at: position + 32))
        let nextHeader = position + 46 + nameLength + extraLength + commentLength
        guard nextHeader <= end else { throw .malformed("a central directory header runs past its end") }
        guard let name = String(validating: bytes[(position + 46)..<(position + 46 + nameLength)], as: UTF8.self) else {
            throw .unsafeEntry(path: "?", reason: "its name is not UTF-8")
        }
        guard flags & 0x0001 == 0 else { throw .unsafeEntry(path: name, reason: "it is encrypted") }
        let isDirectory = name.hasSuffix("/")
        let path = isDirectory ? String(name.dropLast()) : name
        guard PackagePath.isSafe(path) else {
            throw .unsafeEntry(
                path: name,
                reason: "a path must be relative, inside the package, without .., empty parts or backslashes")
        }
        try Self.checkType(madeBy: madeBy, attributes: bytes.uint32(at: position + 38), isDirectory: isDirectory, name)
        self.path = path
        self.name = Array(bytes[(position + 46)..<(position + 46 + nameLength)])
        self.isDirectory = isDirectory
        self.method = bytes.uint16(at: position + 10)
        self.crc32 = bytes.uint32(at: position + 16)
        self.compressedSize = Int(bytes.uint32(at: position + 20))
        self.uncompressedSize = Int(bytes.uint32(at: position + 24))
        self.localHeaderOffset = Int(bytes.uint32(at: position + 42))
        self.nextHeader = nextHeader
        guard !isDirectory || (compressedSize == 0 && uncompressedSize == 0) else {
            throw .unsafeEntry(path: name, reason: "a directory entry holds data")
        }
    }

    /// Refuses symlinks, devices, FIFOs and sockets, which Unix zips mark in the mode bits.
    private static func checkType(madeBy: UInt16, attributes: UInt32, isDirectory: Bool, _ name: String)
        throws(PackageError)
    {
        // Host 3 is Unix, 19 is macOS: their external attributes carry st_mode in the high 16 bits.
        guard [3, 19].contains(madeBy >> 8) else { return }
        let type = (attributes >> 16) & 0o170000
        switch type {
        case 0: return
        case 0o100000:
            guard !isDirectory else { throw .unsafeEntry(path: name, reason: "a file named like a directory") }
        case 0o040000:
            guard isDirectory else { throw .unsafeEntry(path: name, reason: "a directory without a trailing /") }
        case 0o120000: throw .unsafeEntry(path: name, reason: "symbolic links are not accepted")
        default:
            throw .unsafeEntry(
                path: name, reason: "only regular files and directories are accepted, not devices, FIFOs or sockets")
        }
    }

    /// Where this entry's data starts, after its local header (APPNOTE §4.3.7).
    func dataStart(in bytes: [UInt8]) throws(PackageError) -> Int {
        let position = localHeaderOffset
        guard position + 30 <= bytes.count, bytes.uint32(at: position) == 0x0403_4B50 else {
            throw .malformed("the local header of '\(path)' is missing or damaged")
        }
        let nameLength = Int(bytes.uint16(at: position + 26))
        let start = position + 30 + nameLength + Int(bytes.uint16(at: position + 28))
        // The local header must name the same entry as the central directory: archivers that
        // read one or the other must not unpack different files.
        guard start <= bytes.count, Array(bytes[(position + 30)..<(position + 30 + nameLength)]) == name else {
            throw .malformed("the local header of '\(path)' names another entry")
        }
        return start
    }
}

extension Array where Element == UInt8 {
    /// The little-endian 16-bit number at `index`.
    func uint16(at index: Int) -> UInt16 { UInt16(self[index]) | UInt16(self[index + 1]) << 8 }

    /// The little-endian 32-bit number at `index`.
    func uint32(at index: Int) -> UInt32 {
        UInt32(self[index]) | UInt32(self[index + 1]) << 8 | UInt32(self[index + 2]) << 16 | UInt32(self[index + 3])
            << 24
    }
}

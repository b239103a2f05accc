import CZlib

/// Reads a zip archive (PKWARE APPNOTE 6.3.x) held in memory, refusing whatever could harm the
/// machine that unpacks it: sizes and entry counts are checked from the central directory before
/// anything is inflated, inflated bytes are bounded by the declared size, entries may not
/// overlap (the overlapping-entry zip bomb), and only regular files and directories with safe
/// relative paths pass. Stored and deflated entries only; no ZIP64, encryption or multi-disk.
public enum ZipReader {
    /// One regular file of an archive.
    public struct File: Equatable, Sendable {
        public let path: String
        public let bytes: [UInt8]
    }

    /// The files of `bytes`, in archive order (directories are implied by paths and dropped).
    public static func files(
        of bytes: [UInt8], entriesMax: Int, unpackedBytesMax: Int
    ) throws(PackageError) -> [File] {
        let directory = try CentralDirectory(bytes)
        guard directory.count <= entriesMax else {
            throw .tooLarge("\(directory.count) entries; at most \(entriesMax)")
        }
        let entries = try directory.entries(in: bytes)
        let declared = entries.reduce(0) { $0 + $1.uncompressedSize }
        guard declared <= unpackedBytesMax else {
            throw .tooLarge("\(declared) bytes unpacked; at most \(unpackedBytesMax)")
        }
        try checkNoOverlap(entries, in: bytes, centralDirectoryStart: directory.offset)
        try checkNoCollisions(entries)
        var files: [File] = []
        for entry in entries where !entry.isDirectory {
            files.append(File(path: entry.path, bytes: try unpack(entry, from: bytes)))
        }
        return files
    }

    /// Refuses two entries that would land on one file: the same path, paths differing only in
    /// case (one file on case-insensitive disks), or a file that other entries use as a folder.
    private static func checkNoCollisions(_ entries: [ZipEntry]) throws(PackageError) {
        var seen: Set<String> = []
        for entry in entries where !seen.insert(entry.path.lowercased()).inserted {
            throw .unsafeEntry(path: entry.path, reason: "the path appears twice (letter case aside)")
        }
        let files = Set(entries.filter { !$0.isDirectory }.map { $0.path.lowercased() })
        for entry in entries {
            var folder = ""
            for part in entry.path.lowercased().split(separator: "/").dropLast() {
                folder += folder.isEmpty ? String(part) : "/" + part
                if files.contains(folder) {
                    throw .unsafeEntry(path: entry.path, reason: "'\(folder)' is a file, so it cannot also be a folder")
                }
            }
        }
    }

    /// Refuses entries whose data ranges overlap one another or the central directory.
    private static func checkNoOverlap(
        _ entries: [ZipEntry], in bytes: [UInt8], centralDirectoryStart: Int
    ) throws(PackageError) {
        var ranges: [(start: Int, end: Int, path: String)] = []
        for entry in entries {
            let start = try entry.dataStart(in: bytes)
            let end = start + entry.compressedSize
            guard end <= centralDirectoryStart else {
                throw .malformed("the data of '\(entry.path)' runs past the end of the entries")
            }
            ranges.append((entry.localHeaderOffset, end, entry.path))
        }
        ranges.sort { $0.start < $1.start }
        for (previous, next) in zip(ranges, ranges.dropFirst()) where next.start < previous.end {
            throw .malformed("the entries '\(previous.path)' and '\(next.path)' overlap")
        }
    }

    /// The bytes of `entry`, inflated and checked against its declared size and CRC-32.
    private static func unpack(_ entry: ZipEntry, from bytes: [UInt8]) throws(PackageError) -> [UInt8] {
        let start = try entry.dataStart(in: bytes)
        let data = bytes[start..<(start + entry.compressedSize)]
        let output: [UInt8]
        switch entry.method {
        case 0:
            guard entry.compressedSize == entry.uncompressedSize else {
                throw .malformed("the stored entry '\(entry.path)' declares two different sizes")
            }
            output = Array(data)
        case 8:
            output = try inflate(data, expected: entry.uncompressedSize, path: entry.path)
        default:
            throw .malformed(
                "'\(entry.path)' uses compression method \(entry.method); only stored and deflate are read")
        }
        guard Zlib.crc(output) == entry.crc32 else {
            throw .malformed("the checksum of '\(entry.path)' does not match its data")
        }
        return output
    }

    /// Raw deflate (RFC 1951) of `data`, which must inflate to exactly `expected` bytes: never
    /// more is produced, however the stream was made.
    private static func inflate(_ data: ArraySlice<UInt8>, expected: Int, path: String) throws(PackageError) -> [UInt8]
    {
        var output = [UInt8](repeating: 0, count: expected + 1)
        var stream = z_stream()
        guard inflateInit2_(&stream, -MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw .malformed("the inflater could not start")
        }
        defer { inflateEnd(&stream) }
        let status = Zlib.finish(&stream, input: Array(data), output: &output) { CZlib.inflate($0, $1) }
        let produced = Int(stream.total_out)
        guard status == Z_STREAM_END else {
            if produced > expected {
                throw .tooLarge("'\(path)' inflates to more than the \(expected) bytes it declares")
            }
            throw .malformed("the deflate stream of '\(path)' is broken or truncated")
        }
        guard produced == expected else {
            throw .malformed("'\(path)' inflates to \(produced) bytes, not the \(expected) it declares")
        }
        output.removeLast()
        return output
    }
}

import CZlib

/// Writes a zip archive in memory (APPNOTE 6.3.x, deflate or stored): how `agentry agent push`
/// packs a directory. Entry fields are the caller's, so tests can also write the hostile
/// archives the reader must refuse.
public struct ZipWriter {
    /// One entry to write.
    public struct Entry: Sendable {
        public var path: String
        public var bytes: [UInt8]
        /// Deflate the data (else store it).
        public var deflate: Bool
        /// The Unix `st_mode` (type and permissions) recorded in the external attributes.
        public var mode: UInt32

        /// A regular file, deflated, `rw-r--r--`.
        public init(path: String, bytes: [UInt8], deflate: Bool = true, mode: UInt32 = 0o100644) {
            self.path = path
            self.bytes = bytes
            self.deflate = deflate
            self.mode = mode
        }
    }

    private var output: [UInt8] = []
    private var central: [UInt8] = []
    private var count = 0

    /// An empty archive.
    public init() {}

    /// Appends `entry`, compressing it as asked.
    public mutating func add(_ entry: Entry) {
        let data = entry.deflate ? Self.deflate(entry.bytes) : entry.bytes
        let crc = Zlib.crc(entry.bytes)
        let name = Array(entry.path.utf8)
        let method: UInt16 = entry.deflate ? 8 : 0
        let offset = UInt32(output.count)
        // Local file header (§4.3.7); bit 11 says the name is UTF-8.
        output.append(le32: 0x0403_4B50)
        output.append(le16: 20, 0x0800, method, 0, 0x21)
        output.append(le32: crc, UInt32(data.count), UInt32(entry.bytes.count))
        output.append(le16: UInt16(name.count), 0)
        output += name
        output += data
        // Central directory header (§4.3.12), made by Unix (3) so the mode is read back.
        central.append(le32: 0x0201_4B50)
        central.append(le16: 0x031E, 20, 0x0800, method, 0, 0x21)
        central.append(le32: crc, UInt32(data.count), UInt32(entry.bytes.count))
        central.append(le16: UInt16(name.count), 0, 0, 0, 0)
        central.append(le32: entry.mode << 16, offset)
        central += name
        count += 1
    }

    /// The finished archive.
    public func bytes() -> [UInt8] {
        var bytes = output + central
        bytes.append(le32: 0x0605_4B50)
        bytes.append(le16: 0, 0, UInt16(count), UInt16(count))
        bytes.append(le32: UInt32(central.count), UInt32(output.count))
        bytes.append(le16: 0)
        return bytes
    }

    /// Raw deflate (RFC 1951) of `bytes` at the default level.
    static func deflate(_ bytes: [UInt8]) -> [UInt8] {
        var stream = z_stream()
        guard
            deflateInit2_(
                &stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY,
                ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK
        else { preconditionFailure("zlib refused to start a deflate stream") }
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(bytes.count))))
        let status = Zlib.finish(&stream, input: bytes, output: &output) { CZlib.deflate($0, $1) }
        precondition(status == Z_STREAM_END, "deflateBound's output space was not enough")
        output.removeLast(output.count - Int(stream.total_out))
        return output
    }
}

extension Array where Element == UInt8 {
    mutating func append(le16 values: UInt16...) {
        for value in values { append(contentsOf: [UInt8(value & 0xFF), UInt8(value >> 8)]) }
    }

    mutating func append(le32 values: UInt32...) {
        for value in values {
            append(contentsOf: [
                UInt8(value & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value >> 16 & 0xFF), UInt8(value >> 24),
            ])
        }
    }
}

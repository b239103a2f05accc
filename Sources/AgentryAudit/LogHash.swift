import Crypto

/// A SHA-256 value in the audit log: a record hash, an interior node or a tree root.
///
/// Kept as four big-endian words rather than an array, so the millions of hashes a verification
/// touches cost no heap allocation.
public struct LogHash: Hashable, Sendable, CustomStringConvertible {
    private let words: (UInt64, UInt64, UInt64, UInt64)

    /// Wraps 32 bytes; anything else is a programming error.
    public init(_ bytes: [UInt8]) {
        precondition(bytes.count == LogHash.byteCount, "a log hash has exactly 32 bytes")
        self = bytes.withUnsafeBytes { LogHash(raw: $0) }
    }

    /// Reads 32 bytes from `raw`.
    init(raw: UnsafeRawBufferPointer) {
        precondition(raw.count == LogHash.byteCount, "a log hash has exactly 32 bytes")
        func word(_ offset: Int) -> UInt64 {
            UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
        }
        words = (word(0), word(8), word(16), word(24))
    }

    /// The finished SHA-256 of `hasher`.
    init(finishing hasher: SHA256) {
        self = hasher.finalize().withUnsafeBytes { LogHash(raw: $0) }
    }

    /// Parses 64 hex digits (either case), or nil.
    public init?(hex: String) {
        let parsed = hex.utf8.withContiguousStorageIfAvailable { LogHash(hexDigits: UnsafeRawBufferPointer($0)) }
        guard let parsed else {
            guard hex.utf8.count == 64, let bytes = HexText.decode(hex) else { return nil }
            self.init(bytes)
            return
        }
        guard let parsed else { return nil }
        self = parsed
    }

    /// Parses 64 hex digits (either case) given as UTF-8 bytes, or nil; allocates nothing, for
    /// the millions of stored hashes a verification reads.
    public init?(hexDigits digits: UnsafeRawBufferPointer) {
        guard digits.count == 2 * LogHash.byteCount else { return nil }
        func word(_ offset: Int) -> UInt64? {
            var value: UInt64 = 0
            for position in offset..<(offset + 16) {
                guard let digit = HexText.digitValue(digits[position]) else { return nil }
                value = value << 4 | UInt64(digit)
            }
            return value
        }
        guard let first = word(0), let second = word(16), let third = word(32), let fourth = word(48) else {
            return nil
        }
        words = (first, second, third, fourth)
    }

    /// Parses the standard base64 of 32 bytes, or nil.
    public init?(base64: String) {
        guard let bytes = Base64Text.decode(base64), bytes.count == LogHash.byteCount else { return nil }
        self.init(bytes)
    }

    /// SHA-256 output size.
    public static let byteCount = 32

    /// SHA-256 of the empty string: the root of the empty tree (RFC 6962 §2.1).
    public static let emptyTree = LogHash(finishing: SHA256())

    /// The 32 bytes.
    public var bytes: [UInt8] { withBytes { Array($0) } }

    /// Calls `body` with the 32 bytes, without copying them to the heap.
    public func withBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        var bigEndian = (words.0.bigEndian, words.1.bigEndian, words.2.bigEndian, words.3.bigEndian)
        return try withUnsafeBytes(of: &bigEndian, body)
    }

    /// Compares all four words.
    public static func == (lhs: LogHash, rhs: LogHash) -> Bool {
        lhs.words.0 == rhs.words.0 && lhs.words.1 == rhs.words.1 && lhs.words.2 == rhs.words.2
            && lhs.words.3 == rhs.words.3
    }

    /// Hashes all four words.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
        hasher.combine(words.3)
    }

    /// Lowercase hex.
    public var hex: String { HexText.encode(bytes) }
    /// Standard base64, as checkpoints carry roots.
    public var base64: String { Base64Text.encode(bytes) }
    /// Lowercase hex.
    public var description: String { hex }
}

/// Lowercase hex encoding and strict decoding.
public enum HexText {
    private static let digits = Array("0123456789abcdef".utf8)

    /// Lowercase hex of `bytes`.
    public static func encode(_ bytes: [UInt8]) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            output.append(digits[Int(byte >> 4)])
            output.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// The bytes of an even-length hex string, or nil on any other character.
    public static func decode(_ text: String) -> [UInt8]? {
        let characters = Array(text.utf8)
        guard characters.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(characters.count / 2)
        var index = 0
        while index < characters.count {
            guard let high = digitValue(characters[index]), let low = digitValue(characters[index + 1]) else {
                return nil
            }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    /// The value of one hex digit (either case), or nil.
    static func digitValue(_ character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): character - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): character - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): character - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// Standard base64 (RFC 4648 §4, padded), implemented here so the module needs nothing but swift-crypto.
public enum Base64Text {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let values: [UInt8: UInt8] = Dictionary(
        uniqueKeysWithValues: alphabet.enumerated().map { ($0.element, UInt8($0.offset)) })

    /// Padded base64 of `bytes`.
    public static func encode(_ bytes: [UInt8]) -> String {
        var output: [UInt8] = []
        output.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index < bytes.count {
            let remaining = bytes.count - index
            let value =
                UInt32(bytes[index]) << 16 | (remaining > 1 ? UInt32(bytes[index + 1]) << 8 : 0)
                | (remaining > 2 ? UInt32(bytes[index + 2]) : 0)
            output.append(alphabet[Int(value >> 18 & 63)])
            output.append(alphabet[Int(value >> 12 & 63)])
            output.append(remaining > 1 ? alphabet[Int(value >> 6 & 63)] : UInt8(ascii: "="))
            output.append(remaining > 2 ? alphabet[Int(value & 63)] : UInt8(ascii: "="))
            index += 3
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// The bytes of canonical padded base64, or nil (wrong length, bad character, non-zero padding bits).
    public static func decode(_ text: String) -> [UInt8]? {
        let characters = Array(text.utf8)
        guard characters.count % 4 == 0 else { return nil }
        var bytes: [UInt8] = []
        var index = 0
        while index < characters.count {
            let group = characters[index..<(index + 4)]
            let padding = group.reversed().prefix { $0 == UInt8(ascii: "=") }.count
            guard padding <= 2, index + 4 == characters.count || padding == 0 else { return nil }
            var value: UInt32 = 0
            for character in group.prefix(4 - padding) {
                guard let digit = values[character] else { return nil }
                value = value << 6 | UInt32(digit)
            }
            value <<= 6 * UInt32(padding)
            let produced = [UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
            guard produced.suffix(padding).allSatisfy({ $0 == 0 }) else { return nil }
            bytes += produced.prefix(3 - padding)
            index += 4
        }
        return bytes
    }
}

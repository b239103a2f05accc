/// Why bytes are not a canonical audit event, or an event cannot be encoded.
public struct AuditEncodingError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What is wrong.
    public let description: String
    init(_ description: String) { self.description = description }
}

extension AuditEvent {
    /// The first line of every version-1 leaf.
    public static let formatLine = "agentry-audit/v1"
    /// Identifier values are 1…128 characters of this set: no spaces, no newlines, no free text.
    static let identifierCharacters = Set(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:@/-".unicodeScalars)

    /// The fields in their one canonical order: `(key, value)` for each present field.
    private var lines: [(String, String)] {
        var lines: [(String, String)] = [("time", String(time)), ("kind", kind.rawValue), ("actor", actor)]
        let optional: [(String, String?)] = [
            ("subject", subject), ("agent", agent), ("agent_version", agentVersion), ("run", run), ("outcome", outcome),
            ("model", model), ("tool", tool), ("input_tokens", inputTokens.map(String.init)),
            ("output_tokens", outputTokens.map(String.init)), ("cost_microdollars", costMicrodollars.map(String.init)),
            ("erases", erases?.hex),
        ]
        for (key, value) in optional { if let value { lines.append((key, value)) } }
        for payload in payloads { lines.append(("payload", "\(payload.name) \(payload.hash.hex)")) }
        return lines
    }

    /// Throws unless every identifier is in the allowed set, numbers are non-negative and payload names unique.
    public func validate() throws(AuditEncodingError) {
        guard time >= 0 else { throw AuditEncodingError("time must not be negative") }
        for (key, value) in [("actor", actor)]
            + [
                ("subject", subject), ("agent", agent), ("agent_version", agentVersion), ("run", run),
                ("outcome", outcome),
                ("model", model), ("tool", tool),
            ].compactMap({ key, value in value.map { (key, $0) } }) + payloads.map({ ("payload name", $0.name) })
        {
            guard !value.isEmpty, value.utf8.count <= 128, value.utf8.allSatisfy({ Self.identifierBytes[Int($0)] })
            else {
                throw AuditEncodingError("\(key) must be 1 to 128 characters of letters, digits and ._:@/-")
            }
        }
        for number in [inputTokens, outputTokens, costMicrodollars].compactMap({ $0 }) where number < 0 {
            throw AuditEncodingError("counts and costs must not be negative")
        }
        guard Set(payloads.map(\.name)).count == payloads.count else {
            throw AuditEncodingError("payload names must be unique")
        }
    }

    /// The canonical leaf bytes: the format line, then `key value` lines in the fixed order.
    public func encoded() throws(AuditEncodingError) -> [UInt8] {
        try validate()
        let text = ([Self.formatLine] + lines.map { "\($0.0) \($0.1)" }).map { $0 + "\n" }.joined()
        return Array(text.utf8)
    }

    /// Decodes leaf bytes, accepting only the canonical encoding: exactly what `encoded()` produces.
    ///
    /// One pass over the bytes, no re-encoding: fields must come in the canonical order, each once
    /// (payload lines sorted by name), identifiers from the allowed set, numbers and hashes canonical.
    public init(leaf: [UInt8]) throws(AuditEncodingError) {
        var reader = LeafReader(bytes: leaf)
        guard reader.line().elementsEqual(Self.formatLine.utf8), reader.endedWithNewline else {
            throw AuditEncodingError("unknown leaf format")
        }
        var event = AuditEvent(time: 0, kind: .userCreated, actor: "")
        var position = -1
        var required = 0
        while !reader.atEnd {
            let line = reader.line()
            guard let space = line.firstIndex(of: 0x20), reader.endedWithNewline else {
                throw AuditEncodingError("a line is 'key value' ending in a newline")
            }
            let key = String(decoding: line[..<space], as: UTF8.self)
            let value = line[(space + 1)...]
            guard let order = Self.fieldOrder[key], order > position || (key == "payload" && order == position) else {
                throw AuditEncodingError("field \(key) is unknown, repeated or out of order")
            }
            position = order
            if order < 3 { required += 1 }
            try event.set(key, value)
        }
        guard required == 3 else { throw AuditEncodingError("time, kind and actor are required") }
        self = event
    }

    /// Each field's rank in the canonical order.
    private static let fieldOrder: [String: Int] = Dictionary(
        uniqueKeysWithValues: [
            "time", "kind", "actor", "subject", "agent", "agent_version", "run", "outcome", "model", "tool",
            "input_tokens",
            "output_tokens", "cost_microdollars", "erases", "payload",
        ].enumerated().map { ($0.element, $0.offset) })

    private static let kindsByName: [String: AuditEventKind] = Dictionary(
        uniqueKeysWithValues: AuditEventKind.allCases.map { ($0.rawValue, $0) })

    /// Sets one field from its canonical value bytes.
    private mutating func set(_ key: String, _ value: ArraySlice<UInt8>) throws(AuditEncodingError) {
        switch key {
        case "time": time = try Self.number(value, key)
        case "kind":
            guard let kind = Self.kindsByName[String(decoding: value, as: UTF8.self)] else {
                throw AuditEncodingError("unknown kind")
            }
            self.kind = kind
        case "actor": actor = try Self.identifier(value, key)
        case "subject": subject = try Self.identifier(value, key)
        case "agent": agent = try Self.identifier(value, key)
        case "agent_version": agentVersion = try Self.identifier(value, key)
        case "run": run = try Self.identifier(value, key)
        case "outcome": outcome = try Self.identifier(value, key)
        case "model": model = try Self.identifier(value, key)
        case "tool": tool = try Self.identifier(value, key)
        case "input_tokens": inputTokens = try Self.number(value, key)
        case "output_tokens": outputTokens = try Self.number(value, key)
        case "cost_microdollars": costMicrodollars = try Self.number(value, key)
        case "erases": erases = try Self.lowercaseHash(value, key)
        default:
            guard let space = value.firstIndex(of: 0x20) else {
                throw AuditEncodingError("a payload line is 'payload <name> <hex>'")
            }
            let name = try Self.identifier(value[..<space], "payload name")
            guard payloads.last.map({ $0.name < name }) ?? true else {
                throw AuditEncodingError("payload lines are sorted by unique name")
            }
            payloads.append(PayloadCommitment(name: name, hash: try Self.lowercaseHash(value[(space + 1)...], key)))
        }
    }

    /// Which ASCII bytes an identifier may contain.
    private static let identifierBytes: [Bool] = (0..<256).map { byte in
        byte < 128 && identifierCharacters.contains(Unicode.Scalar(UInt8(byte)))
    }

    private static func identifier(_ bytes: ArraySlice<UInt8>, _ key: String) throws(AuditEncodingError) -> String {
        guard !bytes.isEmpty, bytes.count <= 128, bytes.allSatisfy({ identifierBytes[Int($0)] }) else {
            throw AuditEncodingError("\(key) must be 1 to 128 characters of letters, digits and ._:@/-")
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func number(_ bytes: ArraySlice<UInt8>, _ key: String) throws(AuditEncodingError) -> Int64 {
        guard let first = bytes.first, bytes.count <= 19, bytes.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
            first != 0x30 || bytes.count == 1, let value = Int64(String(decoding: bytes, as: UTF8.self))
        else { throw AuditEncodingError("\(key) is not a canonical non-negative number") }
        return value
    }

    private static func lowercaseHash(_ bytes: ArraySlice<UInt8>, _ key: String) throws(AuditEncodingError) -> LogHash {
        guard bytes.count == 64, bytes.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }),
            let hash = LogHash(hex: String(decoding: bytes, as: UTF8.self))
        else { throw AuditEncodingError("\(key) is not 64 lowercase hex digits") }
        return hash
    }
}

/// Splits leaf bytes into lines without copying, and remembers whether the last line ended in a newline.
private struct LeafReader {
    let bytes: [UInt8]
    var index = 0
    var endedWithNewline = false

    var atEnd: Bool { index >= bytes.count }

    /// The next line without its newline.
    mutating func line() -> ArraySlice<UInt8> {
        let start = index
        while index < bytes.count, bytes[index] != 0x0A { index += 1 }
        let line = bytes[start..<index]
        endedWithNewline = index < bytes.count
        if endedWithNewline { index += 1 }
        return line
    }
}

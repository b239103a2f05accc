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
            guard !value.isEmpty, value.count <= 128,
                value.unicodeScalars.allSatisfy(Self.identifierCharacters.contains)
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

    /// Decodes leaf bytes, accepting only the canonical encoding (decode then encode gives the same bytes).
    public init(leaf: [UInt8]) throws(AuditEncodingError) {
        guard let text = String(validating: leaf, as: UTF8.self), text.hasSuffix("\n") else {
            throw AuditEncodingError("a leaf is UTF-8 text ending in a newline")
        }
        var lines = text.dropLast().split(separator: "\n", omittingEmptySubsequences: false)[...]
        guard lines.popFirst() == Substring(Self.formatLine) else { throw AuditEncodingError("unknown leaf format") }
        var fields: [(String, String)] = []
        for line in lines {
            guard let space = line.firstIndex(of: " ") else { throw AuditEncodingError("a line is 'key value'") }
            fields.append((String(line[..<space]), String(line[line.index(after: space)...])))
        }
        self = try Self.assemble(fields)
        guard try encoded() == leaf else { throw AuditEncodingError("the leaf is not in canonical form") }
    }

    private static func assemble(_ fields: [(String, String)]) throws(AuditEncodingError) -> AuditEvent {
        var values: [String: String] = [:]
        var payloads: [PayloadCommitment] = []
        for (key, value) in fields {
            if key == "payload" {
                let parts = value.split(separator: " ", omittingEmptySubsequences: false)
                guard parts.count == 2, let hash = LogHash(hex: String(parts[1])) else {
                    throw AuditEncodingError("a payload line is 'payload <name> <hex>'")
                }
                payloads.append(PayloadCommitment(name: String(parts[0]), hash: hash))
            } else {
                guard values.updateValue(value, forKey: key) == nil else {
                    throw AuditEncodingError("field \(key) repeats")
                }
            }
        }
        func number(_ key: String) throws(AuditEncodingError) -> Int64? {
            guard let text = values[key] else { return nil }
            guard let value = Int64(text), String(value) == text else {
                throw AuditEncodingError("\(key) is not a canonical number")
            }
            return value
        }
        guard let time = try number("time"), let kindText = values["kind"],
            let kind = AuditEventKind(rawValue: kindText),
            let actor = values["actor"]
        else { throw AuditEncodingError("time, a known kind and actor are required") }
        var erases: LogHash?
        if let text = values["erases"] {
            guard let hash = LogHash(hex: text) else { throw AuditEncodingError("erases is not a hash") }
            erases = hash
        }
        let known: Set<String> = [
            "time", "kind", "actor", "subject", "agent", "agent_version", "run", "outcome", "model", "tool",
            "input_tokens",
            "output_tokens", "cost_microdollars", "erases",
        ]
        if let unknown = values.keys.first(where: { !known.contains($0) }) {
            throw AuditEncodingError("unknown field \(unknown)")
        }
        return AuditEvent(
            time: time, kind: kind, actor: actor, subject: values["subject"], agent: values["agent"],
            agentVersion: values["agent_version"], run: values["run"], outcome: values["outcome"],
            model: values["model"],
            tool: values["tool"], inputTokens: try number("input_tokens"), outputTokens: try number("output_tokens"),
            costMicrodollars: try number("cost_microdollars"), erases: erases, payloads: payloads)
    }
}

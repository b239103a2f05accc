import AgentryLedger
import AgentryPolicy
import Yams

/// Reads fields and notes every problem instead of stopping at the first: `agentry agent
/// validate` reports all of them, each with its path.
struct ManifestReader {
    private(set) var problems: [FieldProblem] = []

    mutating func note(_ path: String, _ reason: String) { problems.append(FieldProblem(path: path, reason: reason)) }

    /// `body`'s value, or nil with its problem noted.
    mutating func attempt<T>(_ body: () throws(FieldProblem) -> T) -> T? {
        do {
            return try body()
        } catch {
            problems.append(error)
            return nil
        }
    }

    /// The mapping at `path`, its unknown keys noted.
    mutating func fields(_ node: Node, at path: String, allowed: [String]) -> YAMLFields? {
        YAMLFields(node, at: path, allowed: allowed, problems: &problems)
    }

    /// The items of list field `key` (at most `max`); an absent optional list is empty.
    mutating func list(_ fields: YAMLFields, _ key: String, max: Int, required: Bool) -> [Node] {
        guard let node = fields.node(key) else {
            if required { note(fields.path(of: key), "is required: a list") }
            return []
        }
        guard let items = node.sequence else {
            note(fields.path(of: key), "must be a list")
            return []
        }
        guard items.count <= max else {
            note(fields.path(of: key), "has \(items.count) items; at most \(max)")
            return []
        }
        return Array(items)
    }

    /// Text field `key`: 1 to `max` characters, not only spaces; line breaks only when `lines`.
    mutating func text(_ fields: YAMLFields, _ key: String, max: Int, lines: Bool = false, required: Bool = true)
        -> String?
    {
        guard fields.has(key) || required else { return nil }
        guard let text = attempt({ () throws(FieldProblem) in try fields.text(key, "text") }) else { return nil }
        return checked(text, at: fields.path(of: key), max: max, lines: lines)
    }

    /// `text` if it is 1 to `max` characters, not blank, without control characters (but line
    /// breaks and tabs when `lines`); nil with the problem noted otherwise.
    mutating func checked(_ text: String, at path: String, max: Int, lines: Bool = false) -> String? {
        guard !text.allSatisfy(\.isWhitespace) else {
            note(path, "must not be empty")
            return nil
        }
        guard text.count <= max else {
            note(path, "is \(text.count) characters; at most \(max)")
            return nil
        }
        let control = text.unicodeScalars.contains {
            $0.properties.generalCategory == .control && !(lines && ($0 == "\n" || $0 == "\t" || $0 == "\r"))
        }
        guard !control else {
            note(path, lines ? "must not contain control characters" : "must be one line without control characters")
            return nil
        }
        return text
    }

    /// A lowercase slug (`a–z 0–9 -`, starting with a letter, not ending in `-`) of `range` characters.
    mutating func slug(_ text: String, at path: String, range: ClosedRange<Int>) -> String? {
        let bytes = Array(text.utf8)
        let valid =
            range.contains(bytes.count) && bytes.first.map { (0x61...0x7A).contains($0) } == true
            && bytes.last != UInt8(ascii: "-")
            && bytes.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == UInt8(ascii: "-") }
        guard valid else {
            note(
                path,
                "must be \(range.lowerBound)–\(range.upperBound) characters of a–z, 0–9 and -, starting with a letter, not '\(text)'"
            )
            return nil
        }
        return text
    }

    /// Dollar field `key` (a decimal string like `"0.50"`), within the ledger's limits.
    mutating func dollars(_ fields: YAMLFields, _ key: String, required: Bool) -> Microdollars? {
        guard fields.has(key) || required else { return nil }
        guard let amount = attempt({ () throws(FieldProblem) in try fields.dollars(key, per: "") }) else {
            return nil
        }
        guard amount <= LedgerRules.amountMax else {
            note(fields.path(of: key), "must be at most \(LedgerRules.amountMax)")
            return nil
        }
        return amount
    }

    /// Notes the index of every repeated value of `values` at `path`.
    mutating func unique(_ values: [String], at path: String) {
        var seen: Set<String> = []
        for (index, value) in values.enumerated() where !seen.insert(value).inserted {
            note("\(path)[\(index)]", "'\(value)' is listed twice")
        }
    }
}

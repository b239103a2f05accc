import AgentryLedger
import Yams

/// The keys of one YAML mapping, checked against the allowed ones, with typed readers that name
/// the path of what they refuse. Every policy, catalog and manifest file is read through it, so a
/// typo is an error with its path, never a silently ignored field.
public struct YAMLFields {
    /// Where this mapping is in the document (`(file)` for the top).
    public let path: String
    private let values: [String: Node]

    /// The root of `text`, or a problem saying it is not YAML or is empty (`needs` says what it needs).
    public static func root(of text: String, needs: String) throws(FieldProblem) -> Node {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw FieldProblem(path: "(file)", reason: "not valid YAML: \(error)")
        }
        guard let root else { throw FieldProblem(path: "(file)", reason: "is empty; it needs \(needs)") }
        return root
    }

    /// The fields of mapping `node` at `path`; a key not in `allowed` is a problem.
    public init(_ node: Node, at path: String, allowed: [String]) throws(FieldProblem) {
        guard let mapping = node.mapping else { throw FieldProblem(path: path, reason: "must be a mapping") }
        var values: [String: Node] = [:]
        for (key, value) in mapping {
            guard let name = key.string else { throw FieldProblem(path: path, reason: "keys must be strings") }
            guard allowed.contains(name) else {
                throw FieldProblem(
                    path: Self.path(path, name), reason: "unknown field; known: \(allowed.joined(separator: ", "))")
            }
            values[name] = value
        }
        self.path = path
        self.values = values
    }

    /// The fields of mapping `node` at `path`, noting a key not in `allowed` in `problems` and
    /// reading on: a manifest reports every problem at once. Nil when `node` is not a mapping.
    public init?(_ node: Node, at path: String, allowed: [String], problems: inout [FieldProblem]) {
        guard let mapping = node.mapping else {
            problems.append(FieldProblem(path: path, reason: "must be a mapping"))
            return nil
        }
        var values: [String: Node] = [:]
        for (key, value) in mapping {
            guard let name = key.string, allowed.contains(name) else {
                problems.append(
                    FieldProblem(
                        path: Self.path(path, key.string ?? "?"),
                        reason: "unknown field; known: \(allowed.joined(separator: ", "))"))
                continue
            }
            values[name] = value
        }
        self.path = path
        self.values = values
    }

    /// The path of field `key` of the mapping at `path` (the top's fields have no prefix).
    private static func path(_ path: String, _ key: String) -> String { path == "(file)" ? key : "\(path).\(key)" }

    /// The path of field `key` of this mapping.
    public func path(of key: String) -> String { Self.path(path, key) }

    /// The node of field `key`, if present.
    public func node(_ key: String) -> Node? { values[key] }

    /// Whether field `key` is present.
    public func has(_ key: String) -> Bool { values[key] != nil }

    private func scalar(_ key: String, _ what: String) throws(FieldProblem) -> String {
        guard let node = values[key] else { throw FieldProblem(path: path(of: key), reason: "is required: \(what)") }
        guard let text = node.scalar?.string else { throw FieldProblem(path: path(of: key), reason: "must be \(what)") }
        return text
    }

    /// Field `key` as text; `what` describes it in the problem when it is missing or not a scalar.
    public func text(_ key: String, _ what: String = "a name") throws(FieldProblem) -> String {
        try scalar(key, what)
    }

    /// Field `key` as a dollar amount (`"0.15"`, never a float); `what` says what it is per, if anything.
    public func dollars(_ key: String, per what: String = "per million tokens") throws(FieldProblem) -> Microdollars {
        let described = what.isEmpty ? "a dollar amount" : "a dollar amount \(what)"
        let text = try scalar(key, "\(described), like \"0.15\"")
        guard let amount = Microdollars(parsing: text) else {
            throw FieldProblem(path: path(of: key), reason: "must be \(described), like \"0.15\", not '\(text)'")
        }
        return amount
    }

    /// Field `key` as a whole number of `unit`.
    public func integer(_ key: String, of unit: String = "tokens") throws(FieldProblem) -> Int64 {
        let text = try scalar(key, "a whole number of \(unit)")
        guard let value = Int64(text) else {
            throw FieldProblem(path: path(of: key), reason: "must be a whole number of \(unit), not '\(text)'")
        }
        return value
    }

    /// Field `key` as one of `Word`'s cases.
    public func word<Word: RawRepresentable & CaseIterable>(_ key: String, as _: Word.Type) throws(FieldProblem) -> Word
    where Word.RawValue == String {
        let known = Word.allCases.map(\.rawValue).joined(separator: ", ")
        let text = try scalar(key, "one of \(known)")
        guard let word = Word(rawValue: text) else {
            throw FieldProblem(path: path(of: key), reason: "must be one of \(known), not '\(text)'")
        }
        return word
    }

    /// Field `key` as a list of `Word`'s cases.
    public func words<Word: RawRepresentable & CaseIterable>(_ key: String, as _: Word.Type) throws(FieldProblem)
        -> [Word]
    where Word.RawValue == String {
        let known = Word.allCases.map(\.rawValue).joined(separator: ", ")
        var words: [Word] = []
        for (index, text) in try texts(key, "a list of \(known)").enumerated() {
            guard let word = Word(rawValue: text) else {
                throw FieldProblem(path: "\(path(of: key))[\(index)]", reason: "must be one of \(known)")
            }
            words.append(word)
        }
        return words
    }

    /// Field `key` as a list of texts; `what` describes the list.
    public func texts(_ key: String, _ what: String) throws(FieldProblem) -> [String] {
        guard let node = values[key] else { throw FieldProblem(path: path(of: key), reason: "is required: \(what)") }
        guard let items = node.sequence else { throw FieldProblem(path: path(of: key), reason: "must be \(what)") }
        var texts: [String] = []
        for (index, item) in items.enumerated() {
            guard let text = item.scalar?.string else {
                throw FieldProblem(path: "\(path(of: key))[\(index)]", reason: "must be text")
            }
            texts.append(text)
        }
        return texts
    }
}

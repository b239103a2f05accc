/// What a cap is set on and what spend is attributed to.
public struct LedgerScope: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The kinds of scope, from the widest to the narrowest.
    public enum Kind: String, CaseIterable, Sendable {
        case org
        case team
        /// A user's personal Sandbox.
        case user
        case agent
        /// One version of an agent: id `agent@version`.
        case agentVersion = "version"
        case run
    }

    /// The kind.
    public let kind: Kind
    /// The id within the kind; empty for `org`.
    public let id: String
    /// `org` or `kind:id`: made once, since accounts are hashed, sorted and stored by it.
    public let description: String
    /// `description`'s hash, computed once: accounts are hashed many times per batch.
    private let textHash: Int

    /// The organisation: every call.
    public static let org = LedgerScope(uncheckedKind: .org, id: "")

    init(uncheckedKind kind: Kind, id: String) {
        self.kind = kind
        self.id = id
        self.description = kind == .org ? "org" : "\(kind.rawValue):\(id)"
        self.textHash = description.hashValue
    }

    /// The longest id: short enough that `<scope>/<window>` is a valid audit subject (128 characters).
    public static let idCharactersMax = 100

    /// A scope of `kind` with `id` (1–100 characters from `A–Z a–z 0–9 . _ - @ :`), or an error saying why not.
    public init(_ kind: Kind, id: String) throws(LedgerError) {
        guard kind != .org else {
            guard id.isEmpty else { throw .invalidScope("org", reason: "the org scope has no id") }
            self = .org
            return
        }
        guard (1...Self.idCharactersMax).contains(id.utf8.count), id.utf8.allSatisfy(Self.allowed) else {
            throw .invalidScope(
                "\(kind.rawValue):\(id)",
                reason: "the id must be 1–\(Self.idCharactersMax) characters of A–Z a–z 0–9 . _ - @ :")
        }
        self.init(uncheckedKind: kind, id: id)
    }

    /// Parses `org`, `team:<id>`, `user:<id>`, `agent:<id>`, `version:<agent>@<version>` or `run:<id>`.
    public init(parsing text: String) throws(LedgerError) {
        if text == "org" {
            self = .org
            return
        }
        guard let colon = text.firstIndex(of: ":"), let kind = Kind(rawValue: String(text[..<colon])), kind != .org
        else {
            throw .invalidScope(
                text, reason: "a scope is org, team:<id>, user:<id>, agent:<id>, version:<agent>@<version> or run:<id>")
        }
        try self.init(kind, id: String(text[text.index(after: colon)...]))
    }

    /// The windows spend is counted in for this scope: a run's whole life, or calendar days and months.
    public var windows: [CapWindow] { kind == .run ? [.run] : [.day, .month] }

    public static func < (lhs: LedgerScope, rhs: LedgerScope) -> Bool { lhs.description < rhs.description }

    /// Scopes are equal when their texts are (the text names kind and id).
    public static func == (lhs: LedgerScope, rhs: LedgerScope) -> Bool { lhs.description == rhs.description }

    /// Hashes the text's hash (hash values live in one process, so the stored one is as good).
    public func hash(into hasher: inout Hasher) { hasher.combine(textHash) }

    private static func allowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"),
            UInt8(ascii: "@"), UInt8(ascii: ":"):
            true
        default: false
        }
    }
}

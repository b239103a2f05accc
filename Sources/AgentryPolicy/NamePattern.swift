/// A model or tool name in a policy, or a prefix pattern ending in `*` (`sim/*`; `*` alone
/// matches every name). Exact names are the rule; a prefix lets IT approve a provider's family.
public struct NamePattern: Hashable, Sendable, CustomStringConvertible {
    /// The pattern as written.
    public let description: String

    /// The longest pattern: longer than any catalog name or tool name accepts.
    public static let charactersMax = 200

    /// A pattern of 1–200 visible ASCII characters with `*` at most once, at the end; nil otherwise.
    public init?(_ text: String) {
        guard (1...Self.charactersMax).contains(text.utf8.count),
            text.utf8.allSatisfy({ (0x21...0x7E).contains($0) }),
            !text.dropLast().contains("*")
        else { return nil }
        description = text
    }

    /// Whether `name` is this name, or starts with this prefix.
    public func matches(_ name: String) -> Bool {
        guard description.hasSuffix("*") else { return name == description }
        return name.hasPrefix(description.dropLast())
    }

    /// What a pattern must be, for problems that refuse one.
    public static let rule = "1–\(charactersMax) visible ASCII characters, with * only as the last one"
}

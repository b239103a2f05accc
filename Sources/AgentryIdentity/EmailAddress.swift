/// A syntactically valid, normalised (lowercase) email address that identifies a user.
public struct EmailAddress: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The normalised address, e.g. `ada@example.com`.
    public let value: String

    /// Validates and normalises `text`; a pragmatic subset of RFC 5321 that rejects anything ambiguous.
    public init(_ text: String) throws(IdentityError) {
        let lowered = text.lowercased()
        guard let reason = Self.problem(in: lowered) else {
            self.value = lowered
            return
        }
        throw .invalidEmail(reason: reason)
    }

    /// The address as text.
    public var description: String { value }

    /// Decodes and validates an address from a JSON string.
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        try self.init(text)
    }

    /// Encodes the address as a JSON string.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }

    /// Says what is wrong with `text`, or nil when it is a usable address.
    private static func problem(in text: String) -> String? {
        guard text.utf8.count <= IdentityLimits.emailBytesMax else {
            return "longer than \(IdentityLimits.emailBytesMax) bytes"
        }
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return "must contain exactly one '@'" }
        let local = parts[0]
        let domain = parts[1]
        guard !local.isEmpty, local.utf8.count <= 64 else { return "the part before '@' must be 1 to 64 characters" }
        guard local.allSatisfy(isLocalCharacter) else { return "the part before '@' contains a character not allowed" }
        guard !local.hasPrefix("."), !local.hasSuffix("."), !local.contains("..") else {
            return "the part before '@' has a misplaced '.'"
        }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2 else { return "the domain must contain a '.'" }
        for label in labels {
            guard !label.isEmpty, label.count <= 63 else { return "the domain has an empty or over-long label" }
            guard label.allSatisfy(isDomainCharacter), !label.hasPrefix("-"), !label.hasSuffix("-") else {
                return "the domain may contain only letters, digits and inner '-'"
            }
        }
        return nil
    }

    private static func isLocalCharacter(_ character: Character) -> Bool {
        guard character.isASCII else { return false }
        return character.isLetter || character.isNumber || "!#$%&'*+/=?^_`{|}~.-".contains(character)
    }

    private static func isDomainCharacter(_ character: Character) -> Bool {
        character.isASCII && (character.isLetter || character.isNumber || character == "-")
    }
}

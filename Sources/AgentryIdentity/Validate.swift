/// Field validation shared by every identity operation, so the API and the CLI reject the same things.
public enum Validate {
    /// A human label: 1…`max` characters, no control characters, no surrounding whitespace.
    public static func label(_ text: String, field: String, max: Int) throws(IdentityError) -> String {
        guard !text.isEmpty else { throw .invalidField(field: field, reason: "must not be empty") }
        guard text.count <= max else { throw .invalidField(field: field, reason: "must be at most \(max) characters") }
        guard text.unicodeScalars.allSatisfy({ !$0.properties.generalCategory.isControl }) else {
            throw .invalidField(field: field, reason: "must not contain control characters")
        }
        guard text.first?.isWhitespace == false, text.last?.isWhitespace == false else {
            throw .invalidField(field: field, reason: "must not start or end with whitespace")
        }
        return text
    }

    /// A slug usable in scopes: lowercase ASCII letters, digits, '-' and '_', starting with a letter or digit.
    public static func slug(_ text: String, field: String, max: Int) throws(IdentityError) -> String {
        guard !text.isEmpty, text.count <= max else {
            throw .invalidField(field: field, reason: "must be 1 to \(max) characters")
        }
        let allowed = text.unicodeScalars.allSatisfy { scalar in
            ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) || scalar == "-" || scalar == "_"
        }
        guard allowed, let first = text.unicodeScalars.first, first != "-", first != "_" else {
            throw .invalidField(
                field: field, reason: "use lowercase letters, digits, '-' and '_', starting with a letter or digit")
        }
        return text
    }
}

extension Unicode.GeneralCategory {
    /// Control, format and unassigned code points: invisible characters that make names deceptive.
    fileprivate var isControl: Bool {
        switch self {
        case .control, .format, .unassigned, .lineSeparator, .paragraphSeparator: true
        default: false
        }
    }
}

/// A role a user holds; roles grant permissions on the registry API and are never implied by each other.
public enum Role: String, CaseIterable, Codable, Sendable, Comparable {
    /// Builds agents in a personal Sandbox and runs catalog agents.
    case member
    /// Decides Submissions against IT's policy checklist.
    case reviewer
    /// Operates the platform: users, teams, providers, tools, caps.
    case admin
    /// Reads the audit log and every run, changes nothing.
    case auditor
    /// Reads spend across the organisation.
    case finance

    /// Orders roles by name so listings and stored rows are deterministic.
    public static func < (lhs: Role, rhs: Role) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Parses a role name strictly (lowercase, one of the five), or throws `invalidField`.
    public static func parse(_ text: String, field: String) throws(IdentityError) -> Role {
        guard let role = Role(rawValue: text) else {
            let known = Role.allCases.map(\.rawValue).joined(separator: ", ")
            throw .invalidField(field: field, reason: "unknown role '\(text)'; known roles: \(known)")
        }
        return role
    }
}

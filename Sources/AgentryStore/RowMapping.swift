import AgentryIdentity

/// Turns stored columns into domain values, one place for both backends.
public enum RowMapping {
    /// A user from its columns and the role names stored for it.
    public static func user(
        id: String, email: String, displayName: String, teamID: String?, createdAt: Int64, updatedAt: Int64,
        disabledAt: Int64?, roles: [String]
    ) throws -> User {
        User(
            id: id, email: try EmailAddress(email), displayName: displayName, teamID: teamID,
            roles: Set(try roles.map { try Role.parse($0, field: "role") }),
            createdAt: StoredTime.date(createdAt), updatedAt: StoredTime.date(updatedAt),
            disabledAt: disabledAt.map(StoredTime.date))
    }

    /// A team from its columns.
    public static func team(id: String, name: String, department: String, createdAt: Int64, updatedAt: Int64) -> Team {
        Team(
            id: id, name: name, department: department, createdAt: StoredTime.date(createdAt),
            updatedAt: StoredTime.date(updatedAt))
    }

    /// A token record from its columns.
    public static func token(
        id: String, kind: String, userID: String, name: String, secretHash: String, hint: String, createdAt: Int64,
        expiresAt: Int64?, revokedAt: Int64?
    ) -> TokenRecord {
        guard let kind = TokenKind(rawValue: kind) else {
            preconditionFailure("tokens.kind holds '\(kind)', which the tokens_kind_known constraint forbids")
        }
        return TokenRecord(
            id: id, kind: kind, userID: userID, name: name, secretHash: secretHash, hint: hint,
            createdAt: StoredTime.date(createdAt), expiresAt: expiresAt.map(StoredTime.date),
            revokedAt: revokedAt.map(StoredTime.date))
    }

    /// Groups `(user_id, role)` rows by user.
    public static func rolesByUser(_ rows: [(String, String)]) -> [String: [String]] {
        Dictionary(grouping: rows, by: \.0).mapValues { $0.map(\.1) }
    }
}

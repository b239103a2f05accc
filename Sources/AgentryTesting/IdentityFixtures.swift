import AgentryIdentity
import Foundation

/// Builders of valid identity values for tests, with fixed, millisecond-precise times.
public enum IdentityFixtures {
    /// A fixed moment with millisecond precision, as stores keep it.
    public static let time = Date(timeIntervalSince1970: 1_790_000_000.123)

    /// A team named `name`.
    public static func team(_ name: String, department: String = "Finance") -> Team {
        Team(
            id: RandomText.identifier(prefix: "team"), name: name, department: department, createdAt: time,
            updatedAt: time)
    }

    /// A user with `email` and `roles` (plus member).
    public static func user(
        _ email: String, name: String = "Test User", teamID: String? = nil, roles: Set<Role> = []
    ) throws -> User {
        User(
            id: RandomText.identifier(prefix: "usr"), email: try EmailAddress(email), displayName: name, teamID: teamID,
            roles: roles.union([.member]), createdAt: time, updatedAt: time)
    }

    /// A freshly issued token of `kind` for `userID`.
    public static func token(
        for userID: String, kind: TokenKind = .pat, expiresAt: Date? = nil, revokedAt: Date? = nil
    ) -> IssuedToken {
        let issued = IssuedToken.issue(kind: kind, userID: userID, name: "test", now: time, expiresAt: expiresAt)
        var record = issued.record
        record.revokedAt = revokedAt
        return IssuedToken(secret: issued.secret, record: record)
    }

    /// Strings that break naive SQL, shells and encodings; stores must keep them byte for byte.
    public static let hostileStrings = [
        "Robert'); DROP TABLE users;--", "\"; SELECT * FROM tokens; --", "100% _wild_ \\card\\", "' OR '1'='1",
        "ünïcødé ✓ 🤖 مرحبا", "$1 $$ ?;", "/* comment */ --", String(repeating: "x", count: 100),
    ]
}

import AgentryIdentity
import AgentryStore
import Logging
import PostgresNIO

extension PostgresIdentityStore {
    /// Runs a write, turning constraint violations into identity errors.
    @discardableResult
    func run<T>(
        onUnique conflict: IdentityError, onMissingReference missing: IdentityError, _ body: () async throws -> T
    ) async throws -> T {
        do {
            return try await PostgresErrors.unwrapping(body)
        } catch {
            switch PostgresErrors.sqlState(error) {
            case PostgresErrors.uniqueViolation: throw conflict
            case PostgresErrors.foreignKeyViolation: throw missing
            default: throw error
            }
        }
    }

    static func insert(_ user: User, on connection: PostgresConnection, logger: Logger) async throws {
        let (created, updated) = (StoredTime.milliseconds(user.createdAt), StoredTime.milliseconds(user.updatedAt))
        let disabled = user.disabledAt.map(StoredTime.milliseconds)
        try await connection.query(
            """
            INSERT INTO users (id, email, display_name, team_id, created_at, updated_at, disabled_at)
            VALUES (\(user.id), \(user.email.value), \(user.displayName), \(user.teamID), \(created), \(updated), \(disabled))
            """, logger: logger)
        try await insertRoles(of: user, on: connection, logger: logger)
    }

    static func insertRoles(of user: User, on connection: PostgresConnection, logger: Logger) async throws {
        for role in user.roles.sorted() {
            try await connection.query(
                "INSERT INTO user_roles (user_id, role) VALUES (\(user.id), \(role.rawValue))", logger: logger)
        }
    }

    static func insert(_ token: TokenRecord, on connection: PostgresConnection, logger: Logger) async throws {
        let created = StoredTime.milliseconds(token.createdAt)
        let (expires, revoked) = (
            token.expiresAt.map(StoredTime.milliseconds), token.revokedAt.map(StoredTime.milliseconds)
        )
        try await connection.query(
            """
            INSERT INTO tokens (id, kind, user_id, name, secret_hash, hint, created_at, expires_at, revoked_at)
            VALUES (\(token.id), \(token.kind.rawValue), \(token.userID), \(token.name), \(token.secretHash),
                \(token.hint), \(created), \(expires), \(revoked))
            """, logger: logger)
    }

    func teams(_ rows: PostgresRowSequence) async throws -> [Team] {
        var teams: [Team] = []
        for try await row in rows.decode(TeamColumns.self) {
            teams.append(RowMapping.team(id: row.0, name: row.1, department: row.2, createdAt: row.3, updatedAt: row.4))
        }
        return teams
    }

    func users(_ rows: PostgresRowSequence) async throws -> [User] {
        var columns: [UserColumns] = []
        for try await row in rows.decode(UserColumns.self) { columns.append(row) }
        let ids = columns.map(\.0)
        let roleRows = try await client.query(
            "SELECT user_id, role FROM user_roles WHERE user_id = ANY(\(ids))", logger: logger)
        var pairs: [(String, String)] = []
        for try await pair in roleRows.decode((String, String).self) { pairs.append(pair) }
        let roles = RowMapping.rolesByUser(pairs)
        return try columns.map { row in
            try RowMapping.user(
                id: row.0, email: row.1, displayName: row.2, teamID: row.3, createdAt: row.4, updatedAt: row.5,
                disabledAt: row.6, roles: roles[row.0] ?? [])
        }
    }

    func tokens(_ rows: PostgresRowSequence) async throws -> [TokenRecord] {
        var tokens: [TokenRecord] = []
        for try await row in rows.decode(TokenColumns.self) {
            tokens.append(
                RowMapping.token(
                    id: row.0, kind: row.1, userID: row.2, name: row.3, secretHash: row.4, hint: row.5,
                    createdAt: row.6,
                    expiresAt: row.7, revokedAt: row.8))
        }
        return tokens
    }
}

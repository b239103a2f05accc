import AgentryIdentity
import AgentryStore
import Foundation
import Logging
import PostgresNIO

/// `IdentityStore` over PostgreSQL; listings compare ids in the "C" collation so order matches SQLite's.
struct PostgresIdentityStore: IdentityStore {
    let client: PostgresClient
    let logger: Logger

    typealias TeamColumns = (String, String, String, Int64, Int64)
    typealias UserColumns = (String, String, String, String?, Int64, Int64, Int64?)
    typealias TokenColumns = (String, String, String, String, String, String, Int64, Int64?, Int64?)

    func insertTeam(_ team: Team, recording messages: [ChangeMessage]) async throws {
        let (created, updated) = (StoredTime.milliseconds(team.createdAt), StoredTime.milliseconds(team.updatedAt))
        try await run(onUnique: .teamNameTaken(team.name), onMissingReference: .teamNotFound(team.id)) {
            try await client.withTransaction(logger: logger) { connection in
                try await connection.query(
                    """
                    INSERT INTO teams (id, name, department, created_at, updated_at)
                    VALUES (\(team.id), \(team.name), \(team.department), \(created), \(updated))
                    """, logger: logger)
                try await Self.record(messages, on: connection, logger: logger)
            }
        }
    }

    func updateTeam(_ team: Team, recording messages: [ChangeMessage]) async throws {
        let updated = StoredTime.milliseconds(team.updatedAt)
        try await run(onUnique: .teamNameTaken(team.name), onMissingReference: .teamNotFound(team.id)) {
            try await client.withTransaction(logger: logger) { connection in
                let rows = try await connection.query(
                    """
                    UPDATE teams SET name = \(team.name), department = \(team.department), updated_at = \(updated)
                    WHERE id = \(team.id) RETURNING id
                    """, logger: logger)
                guard try await rows.collect().count == 1 else { throw IdentityError.teamNotFound(team.id) }
                try await Self.record(messages, on: connection, logger: logger)
            }
        }
    }

    func team(id: String) async throws -> Team? {
        try await teams(
            client.query(
                "SELECT id, name, department, created_at, updated_at FROM teams WHERE id = \(id)", logger: logger)
        ).first
    }

    func team(name: String) async throws -> Team? {
        try await teams(
            client.query(
                "SELECT id, name, department, created_at, updated_at FROM teams WHERE name = \(name)", logger: logger)
        ).first
    }

    func teams(after: String?, limit: Int) async throws -> [Team] {
        try await teams(
            client.query(
                """
                SELECT id, name, department, created_at, updated_at FROM teams
                WHERE id COLLATE "C" > \(after ?? "") ORDER BY id COLLATE "C" LIMIT \(limit)
                """, logger: logger))
    }

    func insertUser(_ user: User, recording messages: [ChangeMessage]) async throws {
        try await run(onUnique: .emailTaken(user.email.value), onMissingReference: .teamNotFound(user.teamID ?? "")) {
            try await client.withTransaction(logger: logger) { connection in
                try await Self.insert(user, on: connection, logger: logger)
                try await Self.record(messages, on: connection, logger: logger)
            }
        }
    }

    func updateUser(_ user: User, recording messages: [ChangeMessage]) async throws {
        let (updated, disabled) = (
            StoredTime.milliseconds(user.updatedAt), user.disabledAt.map(StoredTime.milliseconds)
        )
        try await run(onUnique: .emailTaken(user.email.value), onMissingReference: .teamNotFound(user.teamID ?? "")) {
            try await client.withTransaction(logger: logger) { connection in
                // Serialises role and state changes, so two admins demoting each other cannot both succeed.
                try await connection.query("LOCK TABLE user_roles IN SHARE ROW EXCLUSIVE MODE", logger: logger)
                let adminsBefore = try await Self.activeAdminCount(on: connection, logger: logger)
                let rows = try await connection.query(
                    """
                    UPDATE users SET email = \(user.email.value), display_name = \(user.displayName),
                        team_id = \(user.teamID), updated_at = \(updated), disabled_at = \(disabled)
                    WHERE id = \(user.id) RETURNING id
                    """, logger: logger)
                guard try await rows.collect().count == 1 else { throw IdentityError.userNotFound(user.id) }
                try await connection.query("DELETE FROM user_roles WHERE user_id = \(user.id)", logger: logger)
                try await Self.insertRoles(of: user, on: connection, logger: logger)
                let adminsAfter = try await Self.activeAdminCount(on: connection, logger: logger)
                guard adminsBefore == 0 || adminsAfter > 0 else { throw IdentityError.lastAdmin }
                try await Self.record(messages, on: connection, logger: logger)
            }
        }
    }

    func user(id: String) async throws -> User? {
        try await users(
            client.query(
                """
                SELECT id, email, display_name, team_id, created_at, updated_at, disabled_at FROM users
                WHERE id = \(id)
                """, logger: logger)
        ).first
    }

    func user(email: EmailAddress) async throws -> User? {
        try await users(
            client.query(
                """
                SELECT id, email, display_name, team_id, created_at, updated_at, disabled_at FROM users
                WHERE email = \(email.value)
                """, logger: logger)
        ).first
    }

    func users(after: String?, limit: Int) async throws -> [User] {
        try await users(
            client.query(
                """
                SELECT id, email, display_name, team_id, created_at, updated_at, disabled_at FROM users
                WHERE id COLLATE "C" > \(after ?? "") ORDER BY id COLLATE "C" LIMIT \(limit)
                """, logger: logger))
    }

    func activeAdminCount() async throws -> Int {
        try await client.withConnection { connection in try await Self.activeAdminCount(on: connection, logger: logger)
        }
    }

    static func activeAdminCount(on connection: PostgresConnection, logger: Logger) async throws -> Int {
        let rows = try await connection.query(
            """
            SELECT COUNT(*) FROM users JOIN user_roles ON user_roles.user_id = users.id
            WHERE user_roles.role = 'admin' AND users.disabled_at IS NULL
            """, logger: logger)
        for try await count in rows.decode(Int64.self) { return Int(count) }
        return 0
    }

    func insertToken(_ token: TokenRecord, recording messages: [ChangeMessage]) async throws {
        try await run(
            onUnique: .invalidField(field: "token", reason: "duplicate token"),
            onMissingReference: .userNotFound(token.userID)
        ) {
            try await client.withTransaction(logger: logger) { connection in
                try await Self.insert(token, on: connection, logger: logger)
                try await Self.record(messages, on: connection, logger: logger)
            }
        }
    }

    func token(secretHash: String) async throws -> TokenRecord? {
        try await tokens(
            client.query(
                """
                SELECT id, kind, user_id, name, secret_hash, hint, created_at, expires_at, revoked_at FROM tokens
                WHERE secret_hash = \(secretHash)
                """, logger: logger)
        ).first
    }

    func tokenWithUser(secretHash: String) async throws -> (TokenRecord, User)? {
        let rows = try await client.query(
            """
            SELECT t.id, t.kind, t.user_id, t.name, t.secret_hash, t.hint, t.created_at, t.expires_at, t.revoked_at,
                u.email, u.display_name, u.team_id, u.created_at, u.updated_at, u.disabled_at,
                COALESCE((SELECT string_agg(role, ',') FROM user_roles WHERE user_id = u.id), '')
            FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.secret_hash = \(secretHash)
            """, logger: logger)
        for try await row in rows {
            let cells = row.makeRandomAccess()
            let token = RowMapping.token(
                id: try cells[0].decode(String.self), kind: try cells[1].decode(String.self),
                userID: try cells[2].decode(String.self), name: try cells[3].decode(String.self),
                secretHash: try cells[4].decode(String.self), hint: try cells[5].decode(String.self),
                createdAt: try cells[6].decode(Int64.self), expiresAt: try cells[7].decode(Int64?.self),
                revokedAt: try cells[8].decode(Int64?.self))
            let user = try RowMapping.user(
                id: token.userID, email: try cells[9].decode(String.self),
                displayName: try cells[10].decode(String.self),
                teamID: try cells[11].decode(String?.self), createdAt: try cells[12].decode(Int64.self),
                updatedAt: try cells[13].decode(Int64.self), disabledAt: try cells[14].decode(Int64?.self),
                roles: try cells[15].decode(String.self).split(separator: ",").map(String.init))
            return (token, user)
        }
        return nil
    }

    func token(id: String) async throws -> TokenRecord? {
        try await tokens(
            client.query(
                """
                SELECT id, kind, user_id, name, secret_hash, hint, created_at, expires_at, revoked_at FROM tokens
                WHERE id = \(id)
                """, logger: logger)
        ).first
    }

    func tokens(userID: String) async throws -> [TokenRecord] {
        try await tokens(
            client.query(
                """
                SELECT id, kind, user_id, name, secret_hash, hint, created_at, expires_at, revoked_at FROM tokens
                WHERE user_id = \(userID) ORDER BY id COLLATE "C"
                """, logger: logger))
    }

    func revokeToken(id: String, at: Date, recording messages: [ChangeMessage]) async throws -> TokenRecord? {
        let revoked = StoredTime.milliseconds(at)
        let exists = try await PostgresErrors.unwrapping {
            try await client.withTransaction(logger: logger) { connection -> Bool in
                try await connection.query(
                    "UPDATE tokens SET revoked_at = \(revoked) WHERE id = \(id) AND revoked_at IS NULL", logger: logger)
                let found = try await connection.query("SELECT id FROM tokens WHERE id = \(id)", logger: logger)
                guard try await found.collect().count == 1 else { return false }
                try await Self.record(messages, on: connection, logger: logger)
                return true
            }
        }
        return exists ? try await token(id: id) : nil
    }

    func claimSignIn(
        credential: String, userID: String, at: Date, quietSince: Date, recording messages: [ChangeMessage]
    ) async throws -> Bool {
        let (now, quiet) = (StoredTime.milliseconds(at), StoredTime.milliseconds(quietSince))
        return try await PostgresErrors.unwrapping {
            try await client.withTransaction(logger: logger) { connection -> Bool in
                let rows = try await connection.query(
                    """
                    INSERT INTO sign_ins (credential, user_id, last_at) VALUES (\(credential), \(userID), \(now))
                    ON CONFLICT (credential) DO UPDATE SET last_at = excluded.last_at WHERE sign_ins.last_at < \(quiet)
                    RETURNING credential
                    """, logger: logger)
                guard try await rows.collect().count == 1 else { return false }
                try await Self.record(messages, on: connection, logger: logger)
                return true
            }
        }
    }

    func bootstrapAdmin(user: User, token: TokenRecord, recording messages: [ChangeMessage]) async throws -> Bool {
        try await PostgresErrors.unwrapping {
            try await client.withTransaction(logger: logger) { connection -> Bool in
                // The lock makes "no user yet" and the inserts one step for every instance starting at once.
                try await connection.query("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE", logger: logger)
                let rows = try await connection.query("SELECT COUNT(*) FROM users", logger: logger)
                var count: Int64 = 0
                for try await value in rows.decode(Int64.self) { count = value }
                guard count == 0 else { return false }
                try await Self.insert(user, on: connection, logger: logger)
                try await Self.insert(token, on: connection, logger: logger)
                try await Self.record(messages, on: connection, logger: logger)
                return true
            }
        }
    }

    /// Writes recorded changes into the audit outbox, inside the change's transaction.
    static func record(_ messages: [ChangeMessage], on connection: PostgresConnection, logger: Logger) async throws {
        for message in messages {
            let created = StoredTime.milliseconds(message.createdAt)
            try await connection.query(
                "INSERT INTO audit_outbox (id, created_at, body) VALUES (\(message.id), \(created), \(message.body))",
                logger: logger)
        }
    }
}

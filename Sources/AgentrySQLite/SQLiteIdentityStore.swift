import AgentryIdentity
import AgentryStore
import Foundation
import GRDB

/// `IdentityStore` over a SQLite pool; every multi-row change is one transaction.
struct SQLiteIdentityStore: IdentityStore {
    let pool: DatabasePool

    func insertTeam(_ team: Team, recording messages: [ChangeMessage]) async throws {
        try await write(
            onUnique: IdentityError.teamNameTaken(team.name),
            onMissingReference: .teamNotFound(team.id)
        ) { db in
            try db.execute(
                sql: "INSERT INTO teams (id, name, department, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [
                    team.id, team.name, team.department, StoredTime.milliseconds(team.createdAt),
                    StoredTime.milliseconds(team.updatedAt),
                ])
            try Self.record(messages, into: db)
        }
    }

    func updateTeam(_ team: Team, recording messages: [ChangeMessage]) async throws {
        try await write(
            onUnique: IdentityError.teamNameTaken(team.name),
            onMissingReference: .teamNotFound(team.id)
        ) { db in
            try db.execute(
                sql: "UPDATE teams SET name = ?, department = ?, updated_at = ? WHERE id = ?",
                arguments: [team.name, team.department, StoredTime.milliseconds(team.updatedAt), team.id])
            guard db.changesCount == 1 else { throw IdentityError.teamNotFound(team.id) }
            try Self.record(messages, into: db)
        }
    }

    func team(id: String) async throws -> Team? {
        try await pool.read { db in try Self.teams(db, where: "id = ?", [id]).first }
    }

    func team(name: String) async throws -> Team? {
        try await pool.read { db in try Self.teams(db, where: "name = ?", [name]).first }
    }

    func teams(after: String?, limit: Int) async throws -> [Team] {
        try await pool.read { db in
            try Self.teams(db, where: "id > ? ORDER BY id LIMIT ?", [after ?? "", limit])
        }
    }

    func insertUser(_ user: User, recording messages: [ChangeMessage]) async throws {
        try await write(
            onUnique: IdentityError.emailTaken(user.email.value), onMissingReference: .teamNotFound(user.teamID ?? "")
        ) { db in
            try Self.insert(user, into: db)
            try Self.record(messages, into: db)
        }
    }

    func updateUser(_ user: User, recording messages: [ChangeMessage]) async throws {
        try await write(
            onUnique: IdentityError.emailTaken(user.email.value), onMissingReference: .teamNotFound(user.teamID ?? "")
        ) { db in
            let adminsBefore = try Self.activeAdminCount(db)
            try db.execute(
                sql: """
                    UPDATE users SET email = ?, display_name = ?, team_id = ?, updated_at = ?, disabled_at = ?
                    WHERE id = ?
                    """,
                arguments: [
                    user.email.value, user.displayName, user.teamID, StoredTime.milliseconds(user.updatedAt),
                    user.disabledAt.map(StoredTime.milliseconds), user.id,
                ])
            guard db.changesCount == 1 else { throw IdentityError.userNotFound(user.id) }
            try db.execute(sql: "DELETE FROM user_roles WHERE user_id = ?", arguments: [user.id])
            try Self.insertRoles(of: user, into: db)
            // Inside the write transaction: throwing here rolls the update back.
            guard try adminsBefore == 0 || Self.activeAdminCount(db) > 0 else { throw IdentityError.lastAdmin }
            try Self.record(messages, into: db)
        }
    }

    func user(id: String) async throws -> User? {
        try await pool.read { db in try Self.users(db, where: "id = ?", [id]).first }
    }

    func user(email: EmailAddress) async throws -> User? {
        try await pool.read { db in try Self.users(db, where: "email = ?", [email.value]).first }
    }

    func users(after: String?, limit: Int) async throws -> [User] {
        try await pool.read { db in try Self.users(db, where: "id > ? ORDER BY id LIMIT ?", [after ?? "", limit]) }
    }

    func activeAdminCount() async throws -> Int {
        try await pool.read { db in try Self.activeAdminCount(db) }
    }

    private static func activeAdminCount(_ db: Database) throws -> Int {
        try Int.fetchOne(
            db,
            sql: """
                SELECT COUNT(*) FROM users JOIN user_roles ON user_roles.user_id = users.id
                WHERE user_roles.role = 'admin' AND users.disabled_at IS NULL
                """) ?? 0
    }

    func insertToken(_ token: TokenRecord, recording messages: [ChangeMessage]) async throws {
        try await write(
            onUnique: IdentityError.invalidField(field: "token", reason: "duplicate token"),
            onMissingReference: .userNotFound(token.userID)
        ) { db in
            try Self.insert(token, into: db)
            try Self.record(messages, into: db)
        }
    }

    func token(secretHash: String) async throws -> TokenRecord? {
        try await pool.read { db in try Self.tokens(db, where: "secret_hash = ?", [secretHash]).first }
    }

    func tokenWithUser(secretHash: String) async throws -> (TokenRecord, User)? {
        try await pool.read { db -> (TokenRecord, User)? in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT t.id, t.kind, t.user_id, t.name, t.secret_hash, t.hint, t.created_at, t.expires_at,
                            t.revoked_at, u.email, u.display_name, u.team_id, u.created_at AS user_created_at,
                            u.updated_at AS user_updated_at, u.disabled_at,
                            (SELECT group_concat(role) FROM user_roles WHERE user_id = u.id) AS roles
                        FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.secret_hash = ?
                        """, arguments: [secretHash])
            else { return nil }
            let token = RowMapping.token(
                id: row["id"], kind: row["kind"], userID: row["user_id"], name: row["name"],
                secretHash: row["secret_hash"], hint: row["hint"], createdAt: row["created_at"],
                expiresAt: row["expires_at"], revokedAt: row["revoked_at"])
            let roles = (row["roles"] as String?)?.split(separator: ",").map(String.init) ?? []
            let user = try RowMapping.user(
                id: token.userID, email: row["email"], displayName: row["display_name"], teamID: row["team_id"],
                createdAt: row["user_created_at"], updatedAt: row["user_updated_at"], disabledAt: row["disabled_at"],
                roles: roles)
            return (token, user)
        }
    }

    func token(id: String) async throws -> TokenRecord? {
        try await pool.read { db in try Self.tokens(db, where: "id = ?", [id]).first }
    }

    func tokens(userID: String) async throws -> [TokenRecord] {
        try await pool.read { db in try Self.tokens(db, where: "user_id = ? ORDER BY id", [userID]) }
    }

    func revokeToken(id: String, at: Date, recording messages: [ChangeMessage]) async throws -> TokenRecord? {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                arguments: [StoredTime.milliseconds(at), id])
            guard let token = try Self.tokens(db, where: "id = ?", [id]).first else { return nil }
            try Self.record(messages, into: db)
            return token
        }
    }

    func claimSignIn(
        credential: String, userID: String, at: Date, quietSince: Date, recording messages: [ChangeMessage]
    ) async throws -> Bool {
        try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO sign_ins (credential, user_id, last_at) VALUES (?, ?, ?)
                    ON CONFLICT (credential) DO UPDATE SET last_at = excluded.last_at WHERE sign_ins.last_at < ?
                    """,
                arguments: [credential, userID, StoredTime.milliseconds(at), StoredTime.milliseconds(quietSince)])
            guard db.changesCount == 1 else { return false }
            try Self.record(messages, into: db)
            return true
        }
    }

    func bootstrapAdmin(user: User, token: TokenRecord, recording messages: [ChangeMessage]) async throws -> Bool {
        // GRDB's write runs in an IMMEDIATE transaction, so the emptiness check and the inserts are one step.
        try await pool.write { db in
            guard try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM users") == 0 else { return false }
            try Self.insert(user, into: db)
            try Self.insert(token, into: db)
            try Self.record(messages, into: db)
            return true
        }
    }

    // MARK: - Rows

    private func write(
        onUnique conflict: IdentityError, onMissingReference missing: IdentityError,
        _ body: @escaping @Sendable (Database) throws -> Void
    )
        async throws
    {
        do {
            try await pool.write(body)
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE {
            throw conflict
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_FOREIGNKEY {
            throw missing
        }
    }

    /// Writes recorded changes into the audit outbox, inside the change's transaction.
    static func record(_ messages: [ChangeMessage], into db: Database) throws {
        for message in messages {
            try db.execute(
                sql: "INSERT INTO audit_outbox (id, created_at, body) VALUES (?, ?, ?)",
                arguments: [message.id, StoredTime.milliseconds(message.createdAt), message.body])
        }
    }

    private static func insert(_ user: User, into db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO users (id, email, display_name, team_id, created_at, updated_at, disabled_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                user.id, user.email.value, user.displayName, user.teamID, StoredTime.milliseconds(user.createdAt),
                StoredTime.milliseconds(user.updatedAt), user.disabledAt.map(StoredTime.milliseconds),
            ])
        try insertRoles(of: user, into: db)
    }

    private static func insertRoles(of user: User, into db: Database) throws {
        for role in user.roles.sorted() {
            try db.execute(
                sql: "INSERT INTO user_roles (user_id, role) VALUES (?, ?)", arguments: [user.id, role.rawValue])
        }
    }

    private static func insert(_ token: TokenRecord, into db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO tokens (id, kind, user_id, name, secret_hash, hint, created_at, expires_at, revoked_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                token.id, token.kind.rawValue, token.userID, token.name, token.secretHash, token.hint,
                StoredTime.milliseconds(token.createdAt), token.expiresAt.map(StoredTime.milliseconds),
                token.revokedAt.map(StoredTime.milliseconds),
            ])
    }

    private static func teams(_ db: Database, where clause: String, _ arguments: StatementArguments) throws -> [Team] {
        try Row.fetchAll(
            db, sql: "SELECT id, name, department, created_at, updated_at FROM teams WHERE \(clause)",
            arguments: arguments
        ).map { row in
            RowMapping.team(
                id: row["id"], name: row["name"], department: row["department"], createdAt: row["created_at"],
                updatedAt: row["updated_at"])
        }
    }

    private static func users(_ db: Database, where clause: String, _ arguments: StatementArguments) throws -> [User] {
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT id, email, display_name, team_id, created_at, updated_at, disabled_at FROM users WHERE \(clause)
                """,
            arguments: arguments)
        let ids = rows.map { $0["id"] as String }
        let roleRows = try Row.fetchAll(
            db,
            sql:
                "SELECT user_id, role FROM user_roles WHERE user_id IN (\(ids.map { _ in "?" }.joined(separator: ",")))",
            arguments: StatementArguments(ids))
        let roles = RowMapping.rolesByUser(roleRows.map { ($0["user_id"], $0["role"]) })
        return try rows.map { row in
            try RowMapping.user(
                id: row["id"], email: row["email"], displayName: row["display_name"], teamID: row["team_id"],
                createdAt: row["created_at"], updatedAt: row["updated_at"], disabledAt: row["disabled_at"],
                roles: roles[row["id"] as String] ?? [])
        }
    }

    private static func tokens(_ db: Database, where clause: String, _ arguments: StatementArguments) throws
        -> [TokenRecord]
    {
        try Row.fetchAll(
            db,
            sql: """
                SELECT id, kind, user_id, name, secret_hash, hint, created_at, expires_at, revoked_at
                FROM tokens WHERE \(clause)
                """,
            arguments: arguments
        ).map { row in
            RowMapping.token(
                id: row["id"], kind: row["kind"], userID: row["user_id"], name: row["name"],
                secretHash: row["secret_hash"], hint: row["hint"], createdAt: row["created_at"],
                expiresAt: row["expires_at"], revokedAt: row["revoked_at"])
        }
    }
}

import AgentryIdentity
import AgentryStore
import Foundation
import GRDB

/// `SandboxStore` over a SQLite pool.
struct SQLiteSandboxStore: SandboxStore {
    let pool: DatabasePool

    func sandbox(userID: String) async throws -> StoredSandbox? {
        try await pool.read { db in try Self.sandbox(userID: userID, db) }
    }

    func createSandbox(_ sandbox: StoredSandbox, recording messages: [ChangeMessage]) async throws
        -> (sandbox: StoredSandbox, created: Bool)
    {
        try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO sandboxes (user_id, created_at, caps_revision) VALUES (?, ?, ?)
                    ON CONFLICT (user_id) DO NOTHING
                    """,
                arguments: [sandbox.userID, StoredTime.milliseconds(sandbox.createdAt), sandbox.capsRevision])
            guard db.changesCount > 0 else {
                guard let existing = try Self.sandbox(userID: sandbox.userID, db) else {
                    throw StoreError.unavailable(
                        reason: "the Sandbox of \(sandbox.userID) vanished while it was created")
                }
                return (existing, false)
            }
            try SQLiteIdentityStore.record(messages, into: db)
            return (sandbox, true)
        }
    }

    func setCapsRevision(_ revision: Int64, userIDs: [String]) async throws {
        try await pool.write { db in
            let update = try db.cachedStatement(
                sql: """
                    UPDATE sandboxes SET caps_revision = ?
                    WHERE user_id = ? AND (caps_revision IS NULL OR caps_revision < ?)
                    """)
            for userID in userIDs { try update.execute(arguments: [revision, userID, revision]) }
        }
    }

    func sandboxes(capsRevisionBelow revision: Int64, limit: Int) async throws -> [StoredSandbox] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT user_id, created_at, caps_revision FROM sandboxes
                    WHERE caps_revision IS NULL OR caps_revision < ? ORDER BY user_id LIMIT ?
                    """,
                arguments: [revision, limit]
            ).map(Self.sandbox)
        }
    }

    private static func sandbox(userID: String, _ db: Database) throws -> StoredSandbox? {
        try Row.fetchOne(
            db, sql: "SELECT user_id, created_at, caps_revision FROM sandboxes WHERE user_id = ?", arguments: [userID]
        ).map(sandbox)
    }

    private static func sandbox(_ row: Row) -> StoredSandbox {
        StoredSandbox(userID: row[0], createdAt: StoredTime.date(row[1]), capsRevision: row[2])
    }
}

import AgentryIdentity
import AgentryStore
import Foundation
import GRDB

/// `SandboxStore` over a SQLite pool.
struct SQLiteSandboxStore: SandboxStore {
    let pool: DatabasePool

    private static let policyColumns = "revision, yaml, created_at, created_by"

    func currentPolicy() async throws -> StoredSandboxPolicy? {
        try await pool.read { db in
            try Row.fetchOne(
                db, sql: "SELECT \(Self.policyColumns) FROM sandbox_policies ORDER BY revision DESC LIMIT 1"
            ).map(Self.policy)
        }
    }

    func policy(revision: Int64) async throws -> StoredSandboxPolicy? {
        try await pool.read { db in
            try Row.fetchOne(
                db, sql: "SELECT \(Self.policyColumns) FROM sandbox_policies WHERE revision = ?", arguments: [revision]
            ).map(Self.policy)
        }
    }

    func policies(before: Int64?, limit: Int) async throws -> [StoredSandboxPolicy] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT \(Self.policyColumns) FROM sandbox_policies WHERE revision < ?
                    ORDER BY revision DESC LIMIT ?
                    """,
                arguments: [before ?? Int64.max, limit]
            ).map(Self.policy)
        }
    }

    func appendPolicy(_ policy: StoredSandboxPolicy, recording messages: [ChangeMessage]) async throws -> Bool {
        try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO sandbox_policies (revision, yaml, created_at, created_by) VALUES (?, ?, ?, ?)
                    ON CONFLICT (revision) DO NOTHING
                    """,
                arguments: [
                    policy.revision, policy.yaml, StoredTime.milliseconds(policy.createdAt), policy.createdBy,
                ])
            guard db.changesCount > 0 else { return false }
            try SQLiteIdentityStore.record(messages, into: db)
            return true
        }
    }

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

    private static func policy(_ row: Row) -> StoredSandboxPolicy {
        StoredSandboxPolicy(revision: row[0], yaml: row[1], createdAt: StoredTime.date(row[2]), createdBy: row[3])
    }
}

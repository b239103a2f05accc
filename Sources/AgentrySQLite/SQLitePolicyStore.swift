import AgentryIdentity
import AgentryStore
import Foundation
import GRDB

/// `PolicyStore` over a SQLite pool.
struct SQLitePolicyStore: PolicyStore {
    let pool: DatabasePool

    private static let columns = "policy, revision, yaml, created_at, created_by"

    func current(_ policy: PolicyName) async throws -> StoredPolicyRevision? {
        try await pool.read { db in
            try Row.fetchOne(
                db,
                sql: "SELECT \(Self.columns) FROM policy_revisions WHERE policy = ? ORDER BY revision DESC LIMIT 1",
                arguments: [policy.rawValue]
            ).map(Self.revision)
        }
    }

    func revision(_ policy: PolicyName, _ revision: Int64) async throws -> StoredPolicyRevision? {
        try await pool.read { db in
            try Row.fetchOne(
                db, sql: "SELECT \(Self.columns) FROM policy_revisions WHERE policy = ? AND revision = ?",
                arguments: [policy.rawValue, revision]
            ).map(Self.revision)
        }
    }

    func revisions(_ policy: PolicyName, before: Int64?, limit: Int) async throws -> [StoredPolicyRevision] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT \(Self.columns) FROM policy_revisions WHERE policy = ? AND revision < ?
                    ORDER BY revision DESC LIMIT ?
                    """,
                arguments: [policy.rawValue, before ?? Int64.max, limit]
            ).map(Self.revision)
        }
    }

    func append(_ revision: StoredPolicyRevision, recording messages: [ChangeMessage]) async throws -> Bool {
        try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO policy_revisions (policy, revision, yaml, created_at, created_by) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (policy, revision) DO NOTHING
                    """,
                arguments: [
                    revision.policy.rawValue, revision.revision, revision.yaml,
                    StoredTime.milliseconds(revision.createdAt), revision.createdBy,
                ])
            guard db.changesCount > 0 else { return false }
            try SQLiteIdentityStore.record(messages, into: db)
            return true
        }
    }

    private static func revision(_ row: Row) throws -> StoredPolicyRevision {
        guard let policy = PolicyName(rawValue: row[0]) else {
            throw StoreError.unavailable(reason: "policy_revisions.policy holds an unknown policy")
        }
        return StoredPolicyRevision(
            policy: policy, revision: row[1], yaml: row[2], createdAt: StoredTime.date(row[3]), createdBy: row[4])
    }
}

import AgentryIdentity
import AgentryStore
import Foundation
import Logging
import PostgresNIO

/// `PolicyStore` over PostgreSQL.
struct PostgresPolicyStore: PolicyStore {
    let client: PostgresClient
    let logger: Logger

    private typealias Row = (String, Int64, String, Int64, String)

    func current(_ policy: PolicyName) async throws -> StoredPolicyRevision? {
        let rows = try await client.query(
            """
            SELECT policy, revision, yaml, created_at, created_by FROM policy_revisions
            WHERE policy = \(policy.rawValue) ORDER BY revision DESC LIMIT 1
            """, logger: logger)
        for try await row in rows.decode(Row.self) { return try Self.revision(row) }
        return nil
    }

    func revision(_ policy: PolicyName, _ revision: Int64) async throws -> StoredPolicyRevision? {
        let rows = try await client.query(
            """
            SELECT policy, revision, yaml, created_at, created_by FROM policy_revisions
            WHERE policy = \(policy.rawValue) AND revision = \(revision)
            """, logger: logger)
        for try await row in rows.decode(Row.self) { return try Self.revision(row) }
        return nil
    }

    func revisions(_ policy: PolicyName, before: Int64?, limit: Int) async throws -> [StoredPolicyRevision] {
        let rows = try await client.query(
            """
            SELECT policy, revision, yaml, created_at, created_by FROM policy_revisions
            WHERE policy = \(policy.rawValue) AND revision < \(before ?? Int64.max)
            ORDER BY revision DESC LIMIT \(Int64(limit))
            """, logger: logger)
        var revisions: [StoredPolicyRevision] = []
        for try await row in rows.decode(Row.self) { revisions.append(try Self.revision(row)) }
        return revisions
    }

    func append(_ revision: StoredPolicyRevision, recording messages: [ChangeMessage]) async throws -> Bool {
        let created = StoredTime.milliseconds(revision.createdAt)
        return try await PostgresErrors.unwrapping {
            try await client.withTransaction(logger: logger) { connection in
                let rows = try await connection.query(
                    """
                    INSERT INTO policy_revisions (policy, revision, yaml, created_at, created_by)
                    VALUES (\(revision.policy.rawValue), \(revision.revision), \(revision.yaml), \(created),
                        \(revision.createdBy))
                    ON CONFLICT (policy, revision) DO NOTHING RETURNING revision
                    """, logger: logger)
                var stored = false
                for try await _ in rows.decode(Int64.self) { stored = true }
                if stored { try await PostgresIdentityStore.record(messages, on: connection, logger: logger) }
                return stored
            }
        }
    }

    private static func revision(_ row: Row) throws -> StoredPolicyRevision {
        guard let policy = PolicyName(rawValue: row.0) else {
            throw StoreError.unavailable(reason: "policy_revisions.policy holds an unknown policy")
        }
        return StoredPolicyRevision(
            policy: policy, revision: row.1, yaml: row.2, createdAt: StoredTime.date(row.3), createdBy: row.4)
    }
}

import AgentryIdentity
import AgentryStore
import Foundation
import Logging
import PostgresNIO

/// `SandboxStore` over PostgreSQL.
struct PostgresSandboxStore: SandboxStore {
    let client: PostgresClient
    let logger: Logger

    private typealias SandboxRow = (String, Int64, Int64?)

    func sandbox(userID: String) async throws -> StoredSandbox? {
        let rows = try await client.query(
            "SELECT user_id, created_at, caps_revision FROM sandboxes WHERE user_id = \(userID)", logger: logger)
        for try await row in rows.decode(SandboxRow.self) { return Self.sandbox(row) }
        return nil
    }

    func createSandbox(_ sandbox: StoredSandbox, recording messages: [ChangeMessage]) async throws
        -> (sandbox: StoredSandbox, created: Bool)
    {
        let created = StoredTime.milliseconds(sandbox.createdAt)
        return try await PostgresErrors.unwrapping {
            try await client.withTransaction(logger: logger) { connection in
                let rows = try await connection.query(
                    """
                    INSERT INTO sandboxes (user_id, created_at, caps_revision)
                    VALUES (\(sandbox.userID), \(created), \(sandbox.capsRevision))
                    ON CONFLICT (user_id) DO NOTHING RETURNING user_id
                    """, logger: logger)
                var inserted = false
                for try await _ in rows.decode(String.self) { inserted = true }
                if inserted {
                    try await PostgresIdentityStore.record(messages, on: connection, logger: logger)
                    return (sandbox, true)
                }
                let existing = try await connection.query(
                    "SELECT user_id, created_at, caps_revision FROM sandboxes WHERE user_id = \(sandbox.userID)",
                    logger: logger)
                for try await row in existing.decode(SandboxRow.self) { return (Self.sandbox(row), false) }
                throw StoreError.unavailable(reason: "the Sandbox of \(sandbox.userID) vanished while it was created")
            }
        }
    }

    func setCapsRevision(_ revision: Int64, userIDs: [String]) async throws {
        guard !userIDs.isEmpty else { return }
        try await client.query(
            """
            UPDATE sandboxes SET caps_revision = \(revision)
            WHERE user_id = ANY(\(userIDs)) AND (caps_revision IS NULL OR caps_revision < \(revision))
            """, logger: logger)
    }

    func sandboxes(capsRevisionBelow revision: Int64, limit: Int) async throws -> [StoredSandbox] {
        let rows = try await client.query(
            """
            SELECT user_id, created_at, caps_revision FROM sandboxes
            WHERE caps_revision IS NULL OR caps_revision < \(revision) ORDER BY user_id COLLATE "C" LIMIT \(Int64(limit))
            """, logger: logger)
        var sandboxes: [StoredSandbox] = []
        for try await row in rows.decode(SandboxRow.self) { sandboxes.append(Self.sandbox(row)) }
        return sandboxes
    }

    private static func sandbox(_ row: SandboxRow) -> StoredSandbox {
        StoredSandbox(userID: row.0, createdAt: StoredTime.date(row.1), capsRevision: row.2)
    }
}

import AgentryIdentity
import AgentryStore
import Foundation
import GRDB

/// `GatewayStore` over a SQLite pool.
struct SQLiteGatewayStore: GatewayStore {
    let pool: DatabasePool

    func credential(named name: String) async throws -> StoredCredential? {
        try await pool.read { db in
            try Row.fetchOne(
                db, sql: "SELECT name, sealed, key_id, updated_at, updated_by FROM gateway_credentials WHERE name = ?",
                arguments: [name]
            ).map(Self.credential)
        }
    }

    func credentials() async throws -> [StoredCredential] {
        try await pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT name, sealed, key_id, updated_at, updated_by FROM gateway_credentials ORDER BY name"
            ).map(Self.credential)
        }
    }

    func setCredential(_ credential: StoredCredential, recording messages: [ChangeMessage]) async throws {
        try await pool.write { db in
            try SQLiteIdentityStore.record(messages, into: db)
            try db.execute(
                sql: """
                    INSERT INTO gateway_credentials (name, sealed, key_id, updated_at, updated_by) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (name) DO UPDATE SET sealed = excluded.sealed, key_id = excluded.key_id,
                        updated_at = excluded.updated_at, updated_by = excluded.updated_by
                    """,
                arguments: [
                    credential.name, credential.sealed, credential.keyID, StoredTime.milliseconds(credential.updatedAt),
                    credential.updatedBy,
                ])
        }
    }

    func deleteCredential(named name: String, recording messages: [ChangeMessage]) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM gateway_credentials WHERE name = ?", arguments: [name])
            guard db.changesCount > 0 else { return false }
            try SQLiteIdentityStore.record(messages, into: db)
            return true
        }
    }

    func catalog() async throws -> StoredCatalog? {
        try await pool.read { db in
            try Row.fetchOne(
                db, sql: "SELECT value, updated_at, updated_by FROM gateway_settings WHERE name = 'catalog'"
            ).map { row in
                StoredCatalog(yaml: row[0], updatedAt: StoredTime.date(row[1]), updatedBy: row[2])
            }
        }
    }

    func setCatalog(_ catalog: StoredCatalog?, recording messages: [ChangeMessage]) async throws {
        try await pool.write { db in
            try SQLiteIdentityStore.record(messages, into: db)
            guard let catalog else {
                try db.execute(sql: "DELETE FROM gateway_settings WHERE name = 'catalog'")
                return
            }
            try db.execute(
                sql: """
                    INSERT INTO gateway_settings (name, value, updated_at, updated_by) VALUES ('catalog', ?, ?, ?)
                    ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at,
                        updated_by = excluded.updated_by
                    """,
                arguments: [catalog.yaml, StoredTime.milliseconds(catalog.updatedAt), catalog.updatedBy])
        }
    }

    private static func credential(_ row: Row) -> StoredCredential {
        StoredCredential(
            name: row[0], sealed: row[1], keyID: row[2], updatedAt: StoredTime.date(row[3]),
            updatedBy: row[4])
    }
}

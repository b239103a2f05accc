import AgentryIdentity
import AgentryStore
import Foundation
import Logging
import PostgresNIO

/// `GatewayStore` over PostgreSQL.
struct PostgresGatewayStore: GatewayStore {
    let client: PostgresClient
    let logger: Logger

    func credential(named name: String) async throws -> StoredCredential? {
        let rows = try await client.query(
            "SELECT name, sealed, key_id, updated_at, updated_by FROM gateway_credentials WHERE name = \(name)",
            logger: logger)
        for try await row in rows.decode((String, String, String, Int64, String).self) { return Self.credential(row) }
        return nil
    }

    func credentials() async throws -> [StoredCredential] {
        let rows = try await client.query(
            "SELECT name, sealed, key_id, updated_at, updated_by FROM gateway_credentials ORDER BY name COLLATE \"C\"",
            logger: logger)
        var credentials: [StoredCredential] = []
        for try await row in rows.decode((String, String, String, Int64, String).self) {
            credentials.append(Self.credential(row))
        }
        return credentials
    }

    func setCredential(_ credential: StoredCredential, recording messages: [ChangeMessage]) async throws {
        let updated = StoredTime.milliseconds(credential.updatedAt)
        try await PostgresErrors.unwrapping {
            try await client.withTransaction(logger: logger) { connection in
                try await connection.query(
                    """
                    INSERT INTO gateway_credentials (name, sealed, key_id, updated_at, updated_by)
                    VALUES (\(credential.name), \(credential.sealed), \(credential.keyID), \(updated), \(credential.updatedBy))
                    ON CONFLICT (name) DO UPDATE SET sealed = excluded.sealed, key_id = excluded.key_id,
                        updated_at = excluded.updated_at, updated_by = excluded.updated_by
                    """, logger: logger)
                try await PostgresIdentityStore.record(messages, on: connection, logger: logger)
            }
        }
    }

    func deleteCredential(named name: String, recording messages: [ChangeMessage]) async throws -> Bool {
        try await PostgresErrors.unwrapping {
            try await client.withTransaction(logger: logger) { connection in
                let rows = try await connection.query(
                    "DELETE FROM gateway_credentials WHERE name = \(name) RETURNING name", logger: logger)
                var deleted = false
                for try await _ in rows.decode(String.self) { deleted = true }
                if deleted { try await PostgresIdentityStore.record(messages, on: connection, logger: logger) }
                return deleted
            }
        }
    }

    func catalog() async throws -> StoredCatalog? {
        let rows = try await client.query(
            "SELECT value, updated_at, updated_by FROM gateway_settings WHERE name = 'catalog'", logger: logger)
        for try await (yaml, updated, by) in rows.decode((String, Int64, String).self) {
            return StoredCatalog(yaml: yaml, updatedAt: StoredTime.date(updated), updatedBy: by)
        }
        return nil
    }

    func setCatalog(_ catalog: StoredCatalog?, recording messages: [ChangeMessage]) async throws {
        try await PostgresErrors.unwrapping {
            try await client.withTransaction(logger: logger) { connection in
                if let catalog {
                    let updated = StoredTime.milliseconds(catalog.updatedAt)
                    try await connection.query(
                        """
                        INSERT INTO gateway_settings (name, value, updated_at, updated_by)
                        VALUES ('catalog', \(catalog.yaml), \(updated), \(catalog.updatedBy))
                        ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at,
                            updated_by = excluded.updated_by
                        """, logger: logger)
                } else {
                    try await connection.query("DELETE FROM gateway_settings WHERE name = 'catalog'", logger: logger)
                }
                try await PostgresIdentityStore.record(messages, on: connection, logger: logger)
            }
        }
    }

    private static func credential(_ row: (String, String, String, Int64, String)) -> StoredCredential {
        StoredCredential(
            name: row.0, sealed: row.1, keyID: row.2, updatedAt: StoredTime.date(row.3), updatedBy: row.4)
    }
}

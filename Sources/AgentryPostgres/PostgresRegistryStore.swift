import AgentryIdentity
import AgentryRegistry
import AgentryStore
import Foundation
import Logging
import NIOCore
import PostgresNIO

/// `RegistryStore` over PostgreSQL.
struct PostgresRegistryStore: RegistryStore {
    let client: PostgresClient
    let logger: Logger

    private typealias AgentRow = (String, String, String, String?, String, String?, Int64, Int64)
    private typealias VersionRow = (String, String, String, String, String, String, Int64, Int64)

    func agent(name: String) async throws -> StoredAgent? { try await agent(where: "name", is: name) }

    func agent(id: String) async throws -> StoredAgent? { try await agent(where: "id", is: id) }

    /// The agent whose `column` (`id` or `name`, both unique) is `value`.
    private func agent(where column: String, is value: String) async throws -> StoredAgent? {
        var binds = PostgresBindings()
        binds.append(value)
        let rows = try await client.query(
            PostgresQuery(
                unsafeSQL: """
                    SELECT id, name, owner_id, team_id, state, published_version, created_at, updated_at FROM agents
                    WHERE \(column) = $1
                    """, binds: binds),
            logger: logger)
        for try await row in rows.decode(AgentRow.self) { return try Self.agent(row) }
        return nil
    }

    func agents(ownerID: String?, after: String?, limit: Int) async throws -> [StoredAgent] {
        let rows = try await client.query(
            """
            SELECT id, name, owner_id, team_id, state, published_version, created_at, updated_at FROM agents
            WHERE name COLLATE "C" > \(after ?? "") AND (\(ownerID)::text IS NULL OR owner_id = \(ownerID))
            ORDER BY name COLLATE "C" LIMIT \(Int64(limit))
            """, logger: logger)
        var agents: [StoredAgent] = []
        for try await row in rows.decode(AgentRow.self) { agents.append(try Self.agent(row)) }
        return agents
    }

    func createAgent(
        _ agent: StoredAgent, version: StoredAgentVersion, package: [UInt8], recording messages: [ChangeMessage]
    ) async throws -> Bool {
        let (created, updated) = (StoredTime.milliseconds(agent.createdAt), StoredTime.milliseconds(agent.updatedAt))
        return try await PostgresErrors.unwrapping {
            try await client.withTransaction(logger: logger) { connection in
                let rows = try await connection.query(
                    """
                    INSERT INTO agents (id, name, owner_id, team_id, state, published_version, created_at, updated_at)
                    VALUES (\(agent.id), \(agent.name), \(agent.ownerID), \(agent.teamID), \(agent.state.rawValue),
                        \(agent.publishedVersion), \(created), \(updated))
                    ON CONFLICT (name) DO NOTHING RETURNING id
                    """, logger: logger)
                var inserted = false
                for try await _ in rows.decode(String.self) { inserted = true }
                guard inserted else { return false }
                try await Self.insert(version, package: package, on: connection, logger: logger)
                try await PostgresIdentityStore.record(messages, on: connection, logger: logger)
                return true
            }
        }
    }

    func versions(agentID: String) async throws -> [StoredAgentVersion] {
        let rows = try await client.query(
            """
            SELECT agent_id, version, state, manifest, package_sha256, files, created_at, updated_at
            FROM agent_versions WHERE agent_id = \(agentID) ORDER BY created_at, version COLLATE "C"
            """, logger: logger)
        var versions: [StoredAgentVersion] = []
        for try await row in rows.decode(VersionRow.self) { versions.append(try Self.version(row)) }
        return versions
    }

    func version(agentID: String, version: String) async throws -> StoredAgentVersion? {
        let rows = try await client.query(
            """
            SELECT agent_id, version, state, manifest, package_sha256, files, created_at, updated_at
            FROM agent_versions WHERE agent_id = \(agentID) AND version = \(version)
            """, logger: logger)
        for try await row in rows.decode(VersionRow.self) { return try Self.version(row) }
        return nil
    }

    func package(agentID: String, version: String) async throws -> [UInt8]? {
        let rows = try await client.query(
            "SELECT content FROM agent_packages WHERE agent_id = \(agentID) AND version = \(version)", logger: logger)
        for try await content in rows.decode(ByteBuffer.self) { return Array(buffer: content) }
        return nil
    }

    func putVersion(
        _ version: StoredAgentVersion, package: [UInt8], replacingDraft: Bool, recording messages: [ChangeMessage]
    ) async throws -> Bool {
        let files = try RegistryRows.text(of: version.files)
        let updated = StoredTime.milliseconds(version.updatedAt)
        return try await PostgresErrors.unwrapping {
            try await client.withTransaction(logger: logger) { connection in
                if replacingDraft {
                    let rows = try await connection.query(
                        """
                        UPDATE agent_versions SET manifest = \(version.manifest), package_sha256 = \(version.packageSHA256),
                            files = \(files), updated_at = \(updated)
                        WHERE agent_id = \(version.agentID) AND version = \(version.version) AND state = 'draft'
                        RETURNING version
                        """, logger: logger)
                    var changed = false
                    for try await _ in rows.decode(String.self) { changed = true }
                    guard changed else { return false }
                    try await connection.query(
                        """
                        UPDATE agent_packages SET content = \(ByteBuffer(bytes: package))
                        WHERE agent_id = \(version.agentID) AND version = \(version.version)
                        """, logger: logger)
                } else {
                    let rows = try await connection.query(
                        """
                        SELECT version FROM agent_versions WHERE agent_id = \(version.agentID)
                        AND version = \(version.version)
                        """, logger: logger)
                    for try await _ in rows.decode(String.self) { return false }
                    try await Self.insert(version, package: package, on: connection, logger: logger)
                }
                try await connection.query(
                    "UPDATE agents SET updated_at = \(updated) WHERE id = \(version.agentID)", logger: logger)
                try await PostgresIdentityStore.record(messages, on: connection, logger: logger)
                return true
            }
        }
    }

    func setState(
        agentID: String, version: String, from: AgentVersionState, to: AgentVersionState, at time: Date,
        recording messages: [ChangeMessage]
    ) async throws -> Bool {
        let updated = StoredTime.milliseconds(time)
        return try await PostgresErrors.unwrapping {
            try await client.withTransaction(logger: logger) { connection in
                let rows = try await connection.query(
                    """
                    UPDATE agent_versions SET state = \(to.rawValue), updated_at = \(updated)
                    WHERE agent_id = \(agentID) AND version = \(version) AND state = \(from.rawValue) RETURNING version
                    """, logger: logger)
                var changed = false
                for try await _ in rows.decode(String.self) { changed = true }
                guard changed else { return false }
                try await PostgresIdentityStore.record(messages, on: connection, logger: logger)
                return true
            }
        }
    }

    private static func insert(
        _ version: StoredAgentVersion, package: [UInt8], on connection: PostgresConnection, logger: Logger
    ) async throws {
        let files = try RegistryRows.text(of: version.files)
        let (created, updated) = (
            StoredTime.milliseconds(version.createdAt), StoredTime.milliseconds(version.updatedAt)
        )
        try await connection.query(
            """
            INSERT INTO agent_versions (agent_id, version, state, manifest, package_sha256, files, created_at, updated_at)
            VALUES (\(version.agentID), \(version.version), \(version.state.rawValue), \(version.manifest),
                \(version.packageSHA256), \(files), \(created), \(updated))
            """, logger: logger)
        try await connection.query(
            """
            INSERT INTO agent_packages (agent_id, version, content)
            VALUES (\(version.agentID), \(version.version), \(ByteBuffer(bytes: package)))
            """, logger: logger)
    }

    private static func agent(_ row: AgentRow) throws -> StoredAgent {
        StoredAgent(
            id: row.0, name: row.1, ownerID: row.2, teamID: row.3, state: try RegistryRows.agentState(row.4),
            publishedVersion: row.5, createdAt: StoredTime.date(row.6), updatedAt: StoredTime.date(row.7))
    }

    private static func version(_ row: VersionRow) throws -> StoredAgentVersion {
        StoredAgentVersion(
            agentID: row.0, version: row.1, state: try RegistryRows.state(row.2), manifest: row.3,
            packageSHA256: row.4, files: try RegistryRows.files(row.5), createdAt: StoredTime.date(row.6),
            updatedAt: StoredTime.date(row.7))
    }
}

import AgentryIdentity
import AgentryRegistry
import AgentryStore
import Foundation
import GRDB

/// `RegistryStore` over a SQLite pool.
struct SQLiteRegistryStore: RegistryStore {
    let pool: DatabasePool

    private static let agentColumns =
        "id, name, owner_id, team_id, state, published_version, created_at, updated_at"
    private static let versionColumns =
        "agent_id, version, state, manifest, package_sha256, files, created_at, updated_at"

    func agent(name: String) async throws -> StoredAgent? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT \(Self.agentColumns) FROM agents WHERE name = ?", arguments: [name])
                .map(Self.agent)
        }
    }

    func agent(id: String) async throws -> StoredAgent? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT \(Self.agentColumns) FROM agents WHERE id = ?", arguments: [id])
                .map(Self.agent)
        }
    }

    func agents(ownerID: String?, after: String?, limit: Int) async throws -> [StoredAgent] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT \(Self.agentColumns) FROM agents
                    WHERE name > ? AND (? IS NULL OR owner_id = ?) ORDER BY name LIMIT ?
                    """,
                arguments: [after ?? "", ownerID, ownerID, limit]
            ).map(Self.agent)
        }
    }

    func createAgent(
        _ agent: StoredAgent, version: StoredAgentVersion, package: [UInt8], recording messages: [ChangeMessage]
    ) async throws -> Bool {
        try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO agents (id, name, owner_id, team_id, state, published_version, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING
                    """,
                arguments: [
                    agent.id, agent.name, agent.ownerID, agent.teamID, agent.state.rawValue, agent.publishedVersion,
                    StoredTime.milliseconds(agent.createdAt), StoredTime.milliseconds(agent.updatedAt),
                ])
            guard db.changesCount > 0 else { return false }
            try Self.insert(version, package: package, db)
            try SQLiteIdentityStore.record(messages, into: db)
            return true
        }
    }

    func versions(agentID: String) async throws -> [StoredAgentVersion] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql:
                    "SELECT \(Self.versionColumns) FROM agent_versions WHERE agent_id = ? ORDER BY created_at, version",
                arguments: [agentID]
            ).map(Self.version)
        }
    }

    func version(agentID: String, version: String) async throws -> StoredAgentVersion? {
        try await pool.read { db in
            try Row.fetchOne(
                db, sql: "SELECT \(Self.versionColumns) FROM agent_versions WHERE agent_id = ? AND version = ?",
                arguments: [agentID, version]
            ).map(Self.version)
        }
    }

    func package(agentID: String, version: String) async throws -> [UInt8]? {
        try await pool.read { db in
            try Data.fetchOne(
                db, sql: "SELECT content FROM agent_packages WHERE agent_id = ? AND version = ?",
                arguments: [agentID, version]
            ).map { Array($0) }
        }
    }

    func putVersion(
        _ version: StoredAgentVersion, package: [UInt8], replacingDraft: Bool, recording messages: [ChangeMessage]
    ) async throws -> Bool {
        try await pool.write { db in
            if replacingDraft {
                try db.execute(
                    sql: """
                        UPDATE agent_versions SET manifest = ?, package_sha256 = ?, files = ?, updated_at = ?
                        WHERE agent_id = ? AND version = ? AND state = 'draft'
                        """,
                    arguments: [
                        version.manifest, version.packageSHA256, try RegistryRows.text(of: version.files),
                        StoredTime.milliseconds(version.updatedAt), version.agentID, version.version,
                    ])
                guard db.changesCount > 0 else { return false }
                try db.execute(
                    sql: "UPDATE agent_packages SET content = ? WHERE agent_id = ? AND version = ?",
                    arguments: [Data(package), version.agentID, version.version])
            } else {
                let exists =
                    try Bool.fetchOne(
                        db, sql: "SELECT 1 FROM agent_versions WHERE agent_id = ? AND version = ?",
                        arguments: [version.agentID, version.version]) ?? false
                guard !exists else { return false }
                try Self.insert(version, package: package, db)
            }
            try db.execute(
                sql: "UPDATE agents SET updated_at = ? WHERE id = ?",
                arguments: [StoredTime.milliseconds(version.updatedAt), version.agentID])
            try SQLiteIdentityStore.record(messages, into: db)
            return true
        }
    }

    func setState(
        agentID: String, version: String, from: AgentVersionState, to: AgentVersionState, at time: Date,
        recording messages: [ChangeMessage]
    ) async throws -> Bool {
        try await pool.write { db in
            try db.execute(
                sql:
                    "UPDATE agent_versions SET state = ?, updated_at = ? WHERE agent_id = ? AND version = ? AND state = ?",
                arguments: [to.rawValue, StoredTime.milliseconds(time), agentID, version, from.rawValue])
            guard db.changesCount > 0 else { return false }
            try SQLiteIdentityStore.record(messages, into: db)
            return true
        }
    }

    private static func insert(_ version: StoredAgentVersion, package: [UInt8], _ db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO agent_versions (agent_id, version, state, manifest, package_sha256, files, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                version.agentID, version.version, version.state.rawValue, version.manifest, version.packageSHA256,
                try RegistryRows.text(of: version.files), StoredTime.milliseconds(version.createdAt),
                StoredTime.milliseconds(version.updatedAt),
            ])
        try db.execute(
            sql: "INSERT INTO agent_packages (agent_id, version, content) VALUES (?, ?, ?)",
            arguments: [version.agentID, version.version, Data(package)])
    }

    private static func agent(_ row: Row) throws -> StoredAgent {
        StoredAgent(
            id: row[0], name: row[1], ownerID: row[2], teamID: row[3], state: try RegistryRows.agentState(row[4]),
            publishedVersion: row[5], createdAt: StoredTime.date(row[6]), updatedAt: StoredTime.date(row[7]))
    }

    private static func version(_ row: Row) throws -> StoredAgentVersion {
        StoredAgentVersion(
            agentID: row[0], version: row[1], state: try RegistryRows.state(row[2]), manifest: row[3],
            packageSHA256: row[4], files: try RegistryRows.files(row[5]), createdAt: StoredTime.date(row[6]),
            updatedAt: StoredTime.date(row[7]))
    }
}

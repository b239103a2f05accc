import AgentryIdentity
import AgentryRegistry
import AgentryStore
import Foundation
import GRDB

/// `CatalogStore` over a SQLite pool; a read transaction is one snapshot, so changes and their revision agree.
struct SQLiteCatalogStore: CatalogStore {
    let pool: DatabasePool

    static let columns = """
        e.agent_id, e.name, e.title, e.description, e.department, e.tags, e.skills, e.tools, e.models, e.owner_id,
        e.team_id, e.version, e.kind, e.data_classification, e.state, e.published_at
        """

    func revision() async throws -> Int64 {
        try await pool.read { db in try Int64.fetchOne(db, sql: "SELECT revision FROM catalog_revision") ?? 0 }
    }

    func changes(after revision: Int64) async throws -> CatalogChanges {
        try await pool.read { db in
            let reached = try Int64.fetchOne(db, sql: "SELECT revision FROM catalog_revision") ?? 0
            let entries = try Row.fetchAll(
                db, sql: "SELECT \(Self.columns) FROM catalog_entries e WHERE e.revision > ? ORDER BY e.revision",
                arguments: [revision]
            ).map(Self.entry)
            return CatalogChanges(entries: entries, revision: reached)
        }
    }

    func entry(name: String) async throws -> CatalogEntry? {
        try await pool.read { db in
            try Row.fetchOne(
                db, sql: "SELECT \(Self.columns) FROM catalog_entries e WHERE e.name = ?", arguments: [name]
            )
            .map(Self.entry)
        }
    }

    /// Writes `entry` in place of the agent's previous one (in the publishing transaction).
    static func upsert(_ entry: CatalogEntry, _ db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO catalog_entries (agent_id, name, title, description, department, tags, skills, tools, models,
                    owner_id, team_id, version, kind, data_classification, state, published_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (agent_id) DO UPDATE SET title = excluded.title, description = excluded.description,
                    department = excluded.department, tags = excluded.tags, skills = excluded.skills,
                    tools = excluded.tools, models = excluded.models, version = excluded.version, kind = excluded.kind,
                    data_classification = excluded.data_classification, published_at = excluded.published_at
                """,
            arguments: [
                entry.agentID, entry.name, entry.title, entry.description, entry.department,
                try RegistryRows.json(entry.tags), try RegistryRows.json(entry.skills),
                try RegistryRows.json(entry.tools),
                try RegistryRows.json(entry.models), entry.ownerID, entry.teamID, entry.version, entry.kind,
                entry.dataClassification, entry.state.rawValue, StoredTime.milliseconds(entry.publishedAt),
            ])
    }

    private static func entry(_ row: Row) throws -> CatalogEntry {
        CatalogEntry(
            agentID: row[0], name: row[1], title: row[2], description: row[3], department: row[4],
            tags: try RegistryRows.decode([String].self, row[5]),
            skills: try RegistryRows.decode([String].self, row[6]),
            tools: try RegistryRows.decode([String].self, row[7]),
            models: try RegistryRows.decode([String].self, row[8]),
            ownerID: row[9], teamID: row[10], version: row[11], kind: row[12], dataClassification: row[13],
            state: try RegistryRows.agentState(row[14]), publishedAt: StoredTime.date(row[15]))
    }
}

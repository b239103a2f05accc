import AgentryIdentity
import AgentryRegistry
import AgentryStore
import Foundation
import Logging
import PostgresNIO

/// `CatalogStore` over PostgreSQL; changes are read in one repeatable-read snapshot with their revision.
struct PostgresCatalogStore: CatalogStore {
    let client: PostgresClient
    let logger: Logger

    private typealias Row = (
        String, String, String, String, String, String, String, String, String, String, String?, String, String, String,
        String, Int64
    )
    private static let columns = """
        e.agent_id, e.name, e.title, e.description, e.department, e.tags, e.skills, e.tools, e.models, e.owner_id,
        e.team_id, e.version, e.kind, e.data_classification, e.state, e.published_at
        """

    func revision() async throws -> Int64 {
        let rows = try await client.query("SELECT revision FROM catalog_revision", logger: logger)
        for try await revision in rows.decode(Int64.self) { return revision }
        return 0
    }

    func changes(after revision: Int64) async throws -> CatalogChanges {
        try await PostgresErrors.unwrapping {
            try await client.withTransaction(logger: logger) { connection in
                // One snapshot for both reads: the entries are exactly those up to the revision read.
                try await connection.query(
                    "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", logger: logger)
                var reached: Int64 = 0
                for try await value in try await connection.query(
                    "SELECT revision FROM catalog_revision", logger: logger
                ).decode(Int64.self) { reached = value }
                var entries: [CatalogEntry] = []
                let rows = try await connection.query(
                    PostgresQuery(
                        unsafeSQL:
                            "SELECT \(Self.columns) FROM catalog_entries e WHERE e.revision > $1 ORDER BY e.revision",
                        binds: {
                            var binds = PostgresBindings()
                            binds.append(revision)
                            return binds
                        }()),
                    logger: logger)
                for try await row in rows.decode(Row.self) { entries.append(try Self.entry(row)) }
                return CatalogChanges(entries: entries, revision: reached)
            }
        }
    }

    func entry(name: String) async throws -> CatalogEntry? {
        var binds = PostgresBindings()
        binds.append(name)
        let rows = try await client.query(
            PostgresQuery(unsafeSQL: "SELECT \(Self.columns) FROM catalog_entries e WHERE e.name = $1", binds: binds),
            logger: logger)
        for try await row in rows.decode(Row.self) { return try Self.entry(row) }
        return nil
    }

    /// Writes `entry` in place of the agent's previous one (in the publishing transaction).
    static func upsert(_ entry: CatalogEntry, on connection: PostgresConnection, logger: Logger) async throws {
        let (tags, skills, tools, models) = (
            try RegistryRows.json(entry.tags), try RegistryRows.json(entry.skills), try RegistryRows.json(entry.tools),
            try RegistryRows.json(entry.models)
        )
        let published = StoredTime.milliseconds(entry.publishedAt)
        try await connection.query(
            """
            INSERT INTO catalog_entries (agent_id, name, title, description, department, tags, skills, tools, models,
                owner_id, team_id, version, kind, data_classification, state, published_at)
            VALUES (\(entry.agentID), \(entry.name), \(entry.title), \(entry.description), \(entry.department), \(tags),
                \(skills), \(tools), \(models), \(entry.ownerID), \(entry.teamID), \(entry.version), \(entry.kind),
                \(entry.dataClassification), \(entry.state.rawValue), \(published))
            ON CONFLICT (agent_id) DO UPDATE SET title = excluded.title, description = excluded.description,
                department = excluded.department, tags = excluded.tags, skills = excluded.skills, tools = excluded.tools,
                models = excluded.models, version = excluded.version, kind = excluded.kind,
                data_classification = excluded.data_classification, published_at = excluded.published_at
            """, logger: logger)
    }

    private static func entry(_ row: Row) throws -> CatalogEntry {
        CatalogEntry(
            agentID: row.0, name: row.1, title: row.2, description: row.3, department: row.4,
            tags: try RegistryRows.decode([String].self, row.5), skills: try RegistryRows.decode([String].self, row.6),
            tools: try RegistryRows.decode([String].self, row.7), models: try RegistryRows.decode([String].self, row.8),
            ownerID: row.9, teamID: row.10, version: row.11, kind: row.12, dataClassification: row.13,
            state: try RegistryRows.agentState(row.14), publishedAt: StoredTime.date(row.15))
    }
}

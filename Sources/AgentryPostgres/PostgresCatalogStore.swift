import AgentryIdentity
import AgentryRegistry
import AgentryStore
import Foundation
import Logging
import PostgresNIO

/// `CatalogStore` over PostgreSQL, searching the `search` tsvector (GIN index, prefix terms,
/// ts_rank ranking).
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

    func search(_ query: CatalogQuery) async throws -> CatalogPage {
        let (filter, binds) = Self.matching(query)
        let order =
            query.words.isEmpty
            ? "e.name COLLATE \"C\"" : "ts_rank(e.search, to_tsquery('simple', $1)) DESC, e.name COLLATE \"C\""
        let (limit, offset) = (binds.count + 1, binds.count + 2)
        var page = binds
        page.append(Int64(query.limit))
        page.append(Int64(query.offset))
        var entries: [CatalogEntry] = []
        let rows = try await client.query(
            PostgresQuery(
                unsafeSQL:
                    "SELECT \(Self.columns) FROM catalog_entries e WHERE \(filter) ORDER BY \(order) LIMIT $\(limit) OFFSET $\(offset)",
                binds: page),
            logger: logger)
        for try await row in rows.decode(Row.self) { entries.append(try Self.entry(row)) }
        var total = 0
        let counted = try await client.query(
            PostgresQuery(unsafeSQL: "SELECT count(*) FROM catalog_entries e WHERE \(filter)", binds: binds),
            logger: logger)
        for try await count in counted.decode(Int64.self) { total = Int(count) }
        let departments = try await facets(
            "SELECT e.department, count(*) AS n FROM catalog_entries e WHERE \(filter) GROUP BY e.department "
                + "ORDER BY n DESC, e.department COLLATE \"C\" LIMIT 20", binds)
        let tools = try await facets(
            "SELECT j.value, count(*) AS n FROM catalog_entries e, jsonb_array_elements_text(e.tools::jsonb) j(value) "
                + "WHERE \(filter) GROUP BY j.value ORDER BY n DESC, j.value COLLATE \"C\" LIMIT 20", binds)
        return CatalogPage(entries: entries, total: total, departments: departments, tools: tools)
    }

    private func facets(_ sql: String, _ binds: PostgresBindings) async throws -> [FacetCount] {
        var counts: [FacetCount] = []
        let rows = try await client.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger)
        for try await (value, count) in rows.decode((String, Int64).self) {
            counts.append(FacetCount(value: value, count: Int(count)))
        }
        return counts
    }

    /// The WHERE of `query` and its bindings; with words, `$1` is the tsquery text.
    private static func matching(_ query: CatalogQuery) -> (String, PostgresBindings) {
        var conditions: [String] = []
        var binds = PostgresBindings()
        if !query.words.isEmpty {
            // Words are letters and digits only, so the tsquery syntax cannot be injected.
            binds.append(query.words.map { "\($0):*" }.joined(separator: " & "))
            conditions.append("e.search @@ to_tsquery('simple', $\(binds.count))")
        }
        if !query.includeSuspended { conditions.append("e.state <> 'suspended'") }
        if let department = query.department {
            binds.append(department)
            conditions.append("lower(e.department) = lower($\(binds.count))")
        }
        if let tool = query.tool {
            binds.append(tool)
            conditions.append("e.tools::jsonb ? $\(binds.count)")
        }
        if let tag = query.tag {
            binds.append(tag)
            conditions.append("e.tags::jsonb ? $\(binds.count)")
        }
        return (conditions.isEmpty ? "TRUE" : conditions.joined(separator: " AND "), binds)
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

    func setAgentState(agentID: String, state: StoredAgent.State, at time: Date, recording messages: [ChangeMessage])
        async throws -> Bool
    {
        let updated = StoredTime.milliseconds(time)
        return try await PostgresErrors.unwrapping {
            try await client.withTransaction(logger: logger) { connection in
                let rows = try await connection.query(
                    "UPDATE agents SET state = \(state.rawValue), updated_at = \(updated) WHERE id = \(agentID) RETURNING id",
                    logger: logger)
                var changed = false
                for try await _ in rows.decode(String.self) { changed = true }
                guard changed else { return false }
                try await connection.query(
                    "UPDATE catalog_entries SET state = \(state.rawValue) WHERE agent_id = \(agentID)", logger: logger)
                try await PostgresIdentityStore.record(messages, on: connection, logger: logger)
                return true
            }
        }
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

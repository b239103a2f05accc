import AgentryIdentity
import AgentryRegistry
import AgentryStore
import Foundation
import GRDB

/// `CatalogStore` over a SQLite pool, searching with FTS5 (bm25 ranking, prefix terms).
struct SQLiteCatalogStore: CatalogStore {
    let pool: DatabasePool

    static let columns = """
        e.agent_id, e.name, e.title, e.description, e.department, e.tags, e.skills, e.tools, e.models, e.owner_id,
        e.team_id, e.version, e.kind, e.data_classification, e.state, e.published_at
        """

    func search(_ query: CatalogQuery) async throws -> CatalogPage {
        try await pool.read { db in
            let (from, filter, arguments) = Self.matching(query)
            let order = query.words.isEmpty ? "e.name" : "bm25(catalog_search), e.name"
            let entries = try Row.fetchAll(
                db, sql: "SELECT \(Self.columns) FROM \(from) WHERE \(filter) ORDER BY \(order) LIMIT ? OFFSET ?",
                arguments: arguments + [query.limit, query.offset]
            ).map(Self.entry)
            let total =
                try Int.fetchOne(db, sql: "SELECT count(*) FROM \(from) WHERE \(filter)", arguments: arguments) ?? 0
            let departments = try Row.fetchAll(
                db,
                sql: """
                    SELECT e.department, count(*) AS n FROM \(from) WHERE \(filter)
                    GROUP BY e.department ORDER BY n DESC, e.department LIMIT 20
                    """,
                arguments: arguments
            ).map { FacetCount(value: $0[0], count: $0[1]) }
            let tools = try Row.fetchAll(
                db,
                sql: """
                    SELECT j.value, count(*) AS n FROM \(from), json_each(e.tools) j WHERE \(filter)
                    GROUP BY j.value ORDER BY n DESC, j.value LIMIT 20
                    """,
                arguments: arguments
            ).map { FacetCount(value: $0[0], count: $0[1]) }
            return CatalogPage(entries: entries, total: total, departments: departments, tools: tools)
        }
    }

    /// The FROM and WHERE of `query` and their arguments.
    private static func matching(_ query: CatalogQuery) -> (String, String, StatementArguments) {
        var from = "catalog_entries e"
        var conditions: [String] = []
        var arguments: StatementArguments = []
        if !query.words.isEmpty {
            from = "catalog_search JOIN catalog_entries e ON e.rowid = catalog_search.rowid"
            conditions.append("catalog_search MATCH ?")
            // Each word quoted (no FTS5 syntax gets through) and matched as a prefix.
            _ = arguments.append(contentsOf: [query.words.map { "\"\($0)\"*" }.joined(separator: " ")])
        }
        if !query.includeSuspended { conditions.append("e.state <> 'suspended'") }
        if let department = query.department {
            conditions.append("lower(e.department) = lower(?)")
            _ = arguments.append(contentsOf: [department])
        }
        if let tool = query.tool {
            conditions.append("EXISTS (SELECT 1 FROM json_each(e.tools) WHERE value = ?)")
            _ = arguments.append(contentsOf: [tool])
        }
        if let tag = query.tag {
            conditions.append("EXISTS (SELECT 1 FROM json_each(e.tags) WHERE value = ?)")
            _ = arguments.append(contentsOf: [tag])
        }
        return (from, conditions.isEmpty ? "1" : conditions.joined(separator: " AND "), arguments)
    }

    func entry(name: String) async throws -> CatalogEntry? {
        try await pool.read { db in
            try Row.fetchOne(
                db, sql: "SELECT \(Self.columns) FROM catalog_entries e WHERE e.name = ?", arguments: [name]
            )
            .map(Self.entry)
        }
    }

    func setAgentState(agentID: String, state: StoredAgent.State, at time: Date, recording messages: [ChangeMessage])
        async throws -> Bool
    {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE agents SET state = ?, updated_at = ? WHERE id = ?",
                arguments: [state.rawValue, StoredTime.milliseconds(time), agentID])
            guard db.changesCount > 0 else { return false }
            try db.execute(
                sql: "UPDATE catalog_entries SET state = ? WHERE agent_id = ?", arguments: [state.rawValue, agentID])
            try SQLiteIdentityStore.record(messages, into: db)
            return true
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

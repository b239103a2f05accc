import AgentryStore
import Foundation
import GRDB

/// Reads a `LogicalSchema` out of SQLite's catalog (sqlite_master and the table pragmas).
enum SQLiteSchemaReader {
    /// The logical schema of every user table in `db`.
    static func read(_ db: Database) throws -> LogicalSchema {
        let tables = try Row.fetchAll(
            db,
            // Full-text indexes are each engine's own (FTS5 virtual and shadow tables here, a
            // tsvector column in PostgreSQL): the logical schema leaves them out.
            sql: """
                SELECT m.name, m.sql FROM sqlite_master m JOIN pragma_table_list t ON t.name = m.name
                WHERE m.type = 'table' AND t.type = 'table' AND m.name NOT LIKE 'sqlite_%'
                """)
        return LogicalSchema(tables: try tables.map { try table(db, name: $0["name"], sql: $0["sql"]) })
    }

    private static func table(_ db: Database, name: String, sql: String) throws -> LogicalSchema.Table {
        let info = try Row.fetchAll(db, sql: "SELECT * FROM pragma_table_info(?)", arguments: [name])
        let columns = info.map { row in
            LogicalSchema.Column(
                name: row["name"], type: LogicalSchema.normalisedType(row["type"]),
                nullable: (row["notnull"] as Int) == 0 && (row["pk"] as Int) == 0)
        }
        let primaryKey = info.filter { ($0["pk"] as Int) > 0 }.sorted { ($0["pk"] as Int) < ($1["pk"] as Int) }
            .map { $0["name"] as String }
        let indexes = try Row.fetchAll(db, sql: "SELECT * FROM pragma_index_list(?)", arguments: [name])
        let uniques = try indexes.filter { ($0["unique"] as Int) == 1 && ($0["origin"] as String) == "u" }.map {
            index in
            try String.fetchAll(db, sql: "SELECT name FROM pragma_index_info(?)", arguments: [index["name"] as String])
        }
        let keys = try Row.fetchAll(db, sql: "SELECT * FROM pragma_foreign_key_list(?)", arguments: [name])
        let foreignKeys = Dictionary(grouping: keys, by: { $0["id"] as Int }).values.map { rows in
            let from = rows.map { $0["from"] as String }.joined(separator: ",")
            let to = rows.map { $0["to"] as String }.joined(separator: ",")
            let onDelete = (rows[0]["on_delete"] as String).uppercased()
            return "\(from) -> \(rows[0]["table"] as String)(\(to)) on delete \(onDelete)"
        }
        return LogicalSchema.Table(
            name: name, columns: columns, primaryKey: primaryKey, uniques: uniques, foreignKeys: foreignKeys,
            checks: checkNames(in: sql))
    }

    /// SQLite keeps CHECK constraints only in the table's SQL text; their names are read from there.
    private static func checkNames(in sql: String) -> [String] {
        let pattern = /CONSTRAINT\s+(\w+)\s+CHECK/.ignoresCase()
        return sql.matches(of: pattern).map { String($0.output.1) }
    }
}

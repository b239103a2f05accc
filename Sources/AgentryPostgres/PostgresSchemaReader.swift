import AgentryStore
import Logging
import PostgresNIO

/// Reads a `LogicalSchema` out of PostgreSQL's catalogs for the current schema.
struct PostgresSchemaReader {
    let client: PostgresClient
    let logger: Logger

    /// The logical schema of every table in the current schema; full-text index columns
    /// (tsvector) are each engine's own and left out, as SQLite's FTS5 tables are.
    func read() async throws -> LogicalSchema {
        var columns: [String: [LogicalSchema.Column]] = [:]
        let columnRows = try await client.query(
            """
            SELECT table_name::text, column_name::text, data_type::text, is_nullable::text
            FROM information_schema.columns
            WHERE table_schema = current_schema() AND data_type <> 'tsvector'
            """, logger: logger)
        for try await (table, name, type, nullable) in columnRows.decode((String, String, String, String).self) {
            columns[table, default: []].append(
                .init(name: name, type: LogicalSchema.normalisedType(type), nullable: nullable == "YES"))
        }
        let keys = try await constraintColumns(kind: "p")
        let uniques = try await constraintColumns(kind: "u")
        let foreignKeys = try await foreignKeys()
        let checks = try await checkNames()
        return LogicalSchema(
            tables: columns.map { table, columns in
                LogicalSchema.Table(
                    name: table, columns: columns, primaryKey: keys[table]?.first ?? [],
                    uniques: uniques[table] ?? [], foreignKeys: foreignKeys[table] ?? [], checks: checks[table] ?? [])
            })
    }

    /// Column lists of primary-key (`p`) or unique (`u`) constraints, by table, in key order.
    private func constraintColumns(kind: String) async throws -> [String: [[String]]] {
        let rows = try await client.query(
            """
            SELECT c.conrelid::regclass::text,
                (SELECT string_agg(a.attname, ',' ORDER BY k.ord) FROM unnest(c.conkey) WITH ORDINALITY k(n, ord)
                 JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n)
            FROM pg_constraint c JOIN pg_namespace ns ON ns.oid = c.connamespace
            WHERE c.contype = \(kind)::"char" AND ns.nspname = current_schema()
            """, logger: logger)
        var result: [String: [[String]]] = [:]
        for try await (table, list) in rows.decode((String, String).self) {
            result[table, default: []].append(list.split(separator: ",").map(String.init))
        }
        return result
    }

    /// Foreign keys by table, in the `LogicalSchema` text form.
    private func foreignKeys() async throws -> [String: [String]] {
        let rows = try await client.query(
            """
            SELECT c.conrelid::regclass::text, c.confrelid::regclass::text, c.confdeltype::text,
                (SELECT string_agg(a.attname, ',' ORDER BY k.ord) FROM unnest(c.conkey) WITH ORDINALITY k(n, ord)
                 JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n),
                (SELECT string_agg(a.attname, ',' ORDER BY k.ord) FROM unnest(c.confkey) WITH ORDINALITY k(n, ord)
                 JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n)
            FROM pg_constraint c JOIN pg_namespace ns ON ns.oid = c.connamespace
            WHERE c.contype = 'f' AND ns.nspname = current_schema()
            """, logger: logger)
        var result: [String: [String]] = [:]
        for try await (table, target, action, from, to) in rows.decode((String, String, String, String, String).self) {
            result[table, default: []].append("\(from) -> \(target)(\(to)) on delete \(Self.deleteAction(action))")
        }
        return result
    }

    /// Names of CHECK constraints by table.
    private func checkNames() async throws -> [String: [String]] {
        let rows = try await client.query(
            """
            SELECT c.conrelid::regclass::text, c.conname::text
            FROM pg_constraint c JOIN pg_namespace ns ON ns.oid = c.connamespace
            WHERE c.contype = 'c' AND ns.nspname = current_schema()
            """, logger: logger)
        var result: [String: [String]] = [:]
        for try await (table, name) in rows.decode((String, String).self) { result[table, default: []].append(name) }
        return result
    }

    /// PostgreSQL's one-letter `confdeltype` spelled the way SQLite's pragma spells it.
    private static func deleteAction(_ code: String) -> String {
        switch code {
        case "c": "CASCADE"
        case "n": "SET NULL"
        case "d": "SET DEFAULT"
        case "r": "RESTRICT"
        default: "NO ACTION"
        }
    }
}

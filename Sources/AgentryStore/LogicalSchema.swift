/// A backend-neutral description of a schema, so a test can check SQLite and PostgreSQL agree.
public struct LogicalSchema: Equatable, Sendable, CustomStringConvertible {
    /// One column: its normalised type (`integer` or `text`) and whether it admits NULL.
    public struct Column: Equatable, Sendable, Comparable {
        /// Column name.
        public var name: String
        /// `integer` or `text`.
        public var type: String
        /// Whether NULL is allowed.
        public var nullable: Bool

        /// Creates a column description.
        public init(name: String, type: String, nullable: Bool) {
            self.name = name
            self.type = type
            self.nullable = nullable
        }

        /// Orders columns by name.
        public static func < (lhs: Column, rhs: Column) -> Bool { lhs.name < rhs.name }
    }

    /// One table with its columns and constraints, every list sorted.
    public struct Table: Equatable, Sendable {
        /// Table name.
        public var name: String
        /// Columns, sorted by name.
        public var columns: [Column]
        /// Primary key columns, in key order.
        public var primaryKey: [String]
        /// Each unique constraint as its sorted column list, sorted.
        public var uniques: [[String]]
        /// Each foreign key as `col,… -> table(col,…) on delete ACTION`, sorted.
        public var foreignKeys: [String]
        /// Names of CHECK constraints, sorted.
        public var checks: [String]

        /// Creates a table description; lists are sorted here so backends need not care.
        public init(
            name: String, columns: [Column], primaryKey: [String], uniques: [[String]], foreignKeys: [String],
            checks: [String]
        ) {
            self.name = name
            self.columns = columns.sorted()
            self.primaryKey = primaryKey
            self.uniques = uniques.map { $0.sorted() }.sorted { $0.joined(separator: ",") < $1.joined(separator: ",") }
            self.foreignKeys = foreignKeys.sorted()
            self.checks = checks.sorted()
        }
    }

    /// Tables sorted by name.
    public var tables: [Table]

    /// Creates a schema description.
    public init(tables: [Table]) { self.tables = tables.sorted { $0.name < $1.name } }

    /// Normalises a declared column type to `integer`, `text` or `bytes` (or the lowercased original).
    public static func normalisedType(_ declared: String) -> String {
        switch declared.lowercased() {
        case "bigint", "integer", "int", "int8", "int4": "integer"
        case "text", "character varying", "varchar": "text"
        case "blob", "bytea": "bytes"
        case let other: other
        }
    }

    /// A readable dump, one line per fact, for test failure messages.
    public var description: String {
        tables.map { table in
            let columns = table.columns.map { "  \($0.name) \($0.type)\($0.nullable ? "" : " not null")" }
            let facts =
                ["  pk(\(table.primaryKey.joined(separator: ",")))"]
                + table.uniques.map { "  unique(\($0.joined(separator: ",")))" }
                + table.foreignKeys.map { "  fk \($0)" } + table.checks.map { "  check \($0)" }
            return ([table.name] + columns + facts).joined(separator: "\n")
        }.joined(separator: "\n")
    }
}

/// One numbered, append-only schema change, applied in its own transaction.
///
/// The statements are written in the SQL that SQLite and PostgreSQL both accept, so one text
/// serves both backends; a migration that needs dialect-specific SQL (triggers, say) puts it in
/// `sqliteOnly` / `postgresOnly`. Never edit a migration after it has landed: add a new one.
public struct Migration: Sendable, Equatable {
    /// Position in the sequence, starting at 1, without gaps.
    public let version: Int
    /// A short snake_case name recorded next to the version.
    public let name: String
    /// SQL both backends run, in order.
    public let statements: [String]
    /// SQL only SQLite runs, after `statements`.
    public let sqliteOnly: [String]
    /// SQL only PostgreSQL runs, after `statements`.
    public let postgresOnly: [String]

    /// Creates a migration.
    public init(
        version: Int, name: String, statements: [String], sqliteOnly: [String] = [], postgresOnly: [String] = []
    ) {
        self.version = version
        self.name = name
        self.statements = statements
        self.sqliteOnly = sqliteOnly
        self.postgresOnly = postgresOnly
    }
}

/// The bookkeeping table both backends create before the first migration.
public enum MigrationTable {
    /// SQL that creates `schema_migrations` if it is missing.
    public static let create = """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version BIGINT NOT NULL PRIMARY KEY,
            name TEXT NOT NULL,
            applied_at BIGINT NOT NULL
        )
        """

    /// Checks the versions recorded in a database against the migrations this binary knows.
    ///
    /// Throws when the database was migrated by a newer Agentry, or when a recorded name differs
    /// from ours (someone edited a landed migration); returns the migrations still to apply.
    public static func pending(applied: [(version: Int, name: String)], known: [Migration]) throws(StoreError)
        -> [Migration]
    {
        let newest = known.last?.version ?? 0
        for row in applied {
            guard row.version <= newest else {
                throw .schemaTooNew(database: applied.map(\.version).max() ?? row.version, binary: newest)
            }
            guard let mine = known.first(where: { $0.version == row.version }), mine.name == row.name else {
                throw .schemaMismatch(version: row.version, name: row.name)
            }
        }
        let done = Set(applied.map(\.version))
        return known.filter { !done.contains($0.version) }
    }
}

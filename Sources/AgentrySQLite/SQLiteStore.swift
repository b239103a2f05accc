import AgentryAudit
import AgentryIdentity
import AgentryLedger
import AgentryStore
import Foundation
import GRDB

/// The embedded store: one SQLite file in WAL mode, opened through a GRDB `DatabasePool`, and
/// beside it the audit log's filter index in a file of its own.
public final class SQLiteStore: StoreBackend {
    /// The pool every query goes through: one writer, concurrent readers.
    let pool: DatabasePool
    /// The audit filter index's pool, with a writer of its own.
    let indexPool: DatabasePool
    /// Checkpoints the store's write-ahead log off the writer's connection.
    private let checkpointer: SQLiteCheckpointer
    /// The database file's path.
    public let path: String
    /// The audit filter index's file, derived from the log and rebuilt when missing.
    public let indexPath: String

    /// `sqlite`.
    public var kind: String { "sqlite" }
    /// Users, teams and tokens in this file.
    public var identity: any IdentityStore { SQLiteIdentityStore(pool: pool) }
    /// The audit log in this file.
    public var audit: any AuditStore { SQLiteAuditStore(pool: pool, index: indexPool) }
    /// The spend ledger in this file.
    public var ledger: any LedgerStore { SQLiteLedgerStore(pool: pool, cache: ledgerCache) }
    /// Sealed provider credentials and the admins' catalog in this file.
    public var gateway: any GatewayStore { SQLiteGatewayStore(pool: pool) }
    public var policies: any PolicyStore { SQLitePolicyStore(pool: pool) }
    public var sandboxes: any SandboxStore { SQLiteSandboxStore(pool: pool) }
    public var registry: any RegistryStore { SQLiteRegistryStore(pool: pool) }
    public var reviews: any ReviewStore { SQLiteReviewStore(pool: pool) }
    public var catalog: any CatalogStore { SQLiteCatalogStore(pool: pool) }
    public var stewardship: any StewardshipStore { SQLiteStewardshipStore(pool: pool) }
    public var runs: any RunStore { SQLiteRunStore(pool: pool) }
    /// Ledger rows the writer has committed, shared by every `ledger` handed out.
    private let ledgerCache = SQLiteLedgerCache()

    /// Opens (creating if needed) the database file at `path` and the audit index file beside it;
    /// throws `StoreError.unavailable` with the reason.
    public init(path: String) throws {
        let indexPath = SQLiteAuditIndex.path(for: path)
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.foreignKeysEnabled = true
        configuration.label = "agentry"
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            // WAL with synchronous FULL: a commit is on disk before it is acknowledged (audit appends and
            // ledger reservations rely on it). The pool sets NORMAL on its writer when it enables WAL,
            // after any `prepareDatabase`, so FULL is set here, on the one connection that commits.
            let level = try pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = FULL")
                try db.execute(sql: "PRAGMA temp_store = MEMORY")
                // Checkpoints are the checkpointer's; the writer's own is a backstop, and a log
                // that grew past 64 MiB is cut back to that when it starts over.
                try db.execute(sql: "PRAGMA wal_autocheckpoint = \(SQLiteCheckpointer.writerBackstopPages)")
                try db.execute(sql: "PRAGMA journal_size_limit = \(SQLiteCheckpointer.journalSizeLimitBytes)")
                return try Int.fetchOne(db, sql: "PRAGMA synchronous")
            }
            guard level == 2 else {
                throw StoreError.unavailable(reason: "SQLite refused synchronous = FULL on \(path)")
            }
            do {
                indexPool = try SQLiteAuditIndex.open(path: indexPath)
                try SQLiteAuditIndex.reconcile(index: indexPool, log: pool)
            } catch {
                throw StoreError.unavailable(
                    reason: "cannot open the audit index \(indexPath): \(SQLiteStore.describe(error)); it is "
                        + "derived from the audit log, so with the server stopped it can be deleted (with its "
                        + "-wal and -shm files) and is rebuilt")
            }
            checkpointer = try SQLiteCheckpointer(path: path)
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError.unavailable(reason: "cannot open SQLite database \(path): \(SQLiteStore.describe(error))")
        }
        self.path = path
        self.indexPath = indexPath
    }

    /// The writer's `PRAGMA synchronous`: 2 (FULL) means every commit is fsynced before it returns.
    public func writerSynchronousLevel() async throws -> Int {
        try await pool.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 }
    }

    /// Applies pending migrations, each in its own IMMEDIATE transaction so concurrent processes serialise.
    public func migrate(through last: Int) async throws -> [Int] {
        try await pool.write { db in try db.execute(sql: MigrationTable.create) }
        var appliedNow: [Int] = []
        for migration in Migrations.all where migration.version <= last {
            let applied = try await pool.write { db -> Bool in
                let rows = try Row.fetchAll(db, sql: "SELECT version, name FROM schema_migrations ORDER BY version")
                let recorded = rows.map { (version: Int($0["version"] as Int64), name: $0["name"] as String) }
                let pending = try MigrationTable.pending(applied: recorded, known: Migrations.all)
                guard pending.contains(migration) else { return false }
                for statement in migration.statements + migration.sqliteOnly { try db.execute(sql: statement) }
                try db.execute(
                    sql: "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    arguments: [migration.version, migration.name, StoredTime.milliseconds(Date())])
                return true
            }
            if applied { appliedNow.append(migration.version) }
        }
        return appliedNow
    }

    /// The newest version in `schema_migrations`, 0 before the first migration.
    public func schemaVersion() async throws -> Int {
        try await pool.read { db in
            guard try db.tableExists("schema_migrations") else { return 0 }
            return try Int.fetchOne(db, sql: "SELECT COALESCE(MAX(version), 0) FROM schema_migrations") ?? 0
        }
    }

    /// Reads tables, columns, keys and named CHECK constraints from the catalogs of both files.
    public func logicalSchema() async throws -> LogicalSchema {
        let log = try await pool.read { db in try SQLiteSchemaReader.read(db) }
        let index = try await indexPool.read { db in try SQLiteSchemaReader.read(db) }
        return LogicalSchema(tables: log.tables + index.tables)
    }

    /// The audit filter index's file for a store at `path`.
    public static func auditIndexPath(for path: String) -> String { SQLiteAuditIndex.path(for: path) }

    /// How many background checkpoints have copied write-ahead log frames into the file.
    public var checkpointsCopyingFrames: Int { checkpointer.checkpointsCopyingFrames }

    /// Stops the checkpointer and closes both pools.
    public func close() async throws {
        await checkpointer.stop()
        try indexPool.close()
        try pool.close()
    }

    /// Busy, locked, read-only, full, unopenable, I/O-failing or closed databases are unavailable.
    public func unavailability(of error: any Error) -> StoreError? {
        guard let error = error as? DatabaseError else { return nil }
        let unavailable: [ResultCode] = [
            .SQLITE_BUSY, .SQLITE_LOCKED, .SQLITE_READONLY, .SQLITE_IOERR, .SQLITE_FULL, .SQLITE_CANTOPEN,
            .SQLITE_MISUSE,
        ]
        guard unavailable.contains(error.resultCode) else { return nil }
        return .unavailable(reason: "the SQLite database cannot be used: \(Self.describe(error))")
    }

    /// A one-line reason for a GRDB or file error, without SQL arguments.
    static func describe(_ error: any Error) -> String {
        if let error = error as? DatabaseError { return error.message ?? "SQLite error \(error.resultCode.rawValue)" }
        return String(describing: error)
    }
}

import AgentryAudit
import AgentryIdentity
import AgentryLedger
import AgentryStore
import Foundation
import Logging
import PostgresNIO

/// The shared store for several Agentry instances: one PostgreSQL database through a `PostgresClient` pool.
public final class PostgresStore: StoreBackend {
    /// The connection pool every query goes through.
    let client: PostgresClient
    /// Runs the pool's background work until `close()`.
    private let runner: Task<Void, Never>
    /// Where the database is (safe to print).
    public let location: PostgresLocation
    let logger: Logger

    /// `postgres`.
    public var kind: String { "postgres" }
    /// Users, teams and tokens in this database.
    public var identity: any IdentityStore { PostgresIdentityStore(client: client, logger: logger) }
    /// The audit log in this database.
    public var audit: any AuditStore { PostgresAuditStore(client: client, logger: logger) }
    /// The spend ledger in this database.
    public var ledger: any LedgerStore {
        PostgresLedgerStore(client: client, logger: logger, knownAccounts: knownAccounts)
    }
    /// Sealed provider credentials and the admins' catalog in this database.
    public var gateway: any GatewayStore { PostgresGatewayStore(client: client, logger: logger) }
    public var policies: any PolicyStore { PostgresPolicyStore(client: client, logger: logger) }
    public var sandboxes: any SandboxStore { PostgresSandboxStore(client: client, logger: logger) }
    public var registry: any RegistryStore { PostgresRegistryStore(client: client, logger: logger) }
    public var reviews: any ReviewStore { PostgresReviewStore(client: client, logger: logger) }
    public var catalog: any CatalogStore { PostgresCatalogStore(client: client, logger: logger) }
    public var stewardship: any StewardshipStore { PostgresStewardshipStore(client: client, logger: logger) }
    public var runs: any RunStore { PostgresRunStore(client: client, logger: logger) }
    /// Accounts known to have rows (rows are never deleted), shared by every `ledger` handed out.
    private let knownAccounts = PostgresLedgerStore.KnownAccounts()

    /// Connects to `url` and checks the server answers within `timeout`; throws `StoreError.unavailable` otherwise.
    public init(url: String, logger: Logger, timeout: Duration = .seconds(10)) async throws {
        let location = try PostgresLocation(url: url)
        let client = PostgresClient(configuration: try location.clientConfiguration(), backgroundLogger: logger)
        self.client = client
        self.location = location
        self.logger = logger
        self.runner = Task { await client.run() }
        do {
            try await Self.probe(client, timeout: timeout, logger: logger)
        } catch {
            runner.cancel()
            throw StoreError.unavailable(
                reason: "PostgreSQL at \(location.displayName) did not answer: \(PostgresErrors.describe(error))")
        }
    }

    /// Applies pending migrations; an advisory lock serialises instances that start together.
    public func migrate(through last: Int) async throws -> [Int] {
        var appliedNow: [Int] = []
        for migration in Migrations.all where migration.version <= last {
            let applied = try await PostgresErrors.unwrapping {
                try await client.withTransaction(logger: logger) { connection -> Bool in
                    try await connection.query("SELECT pg_advisory_xact_lock(\(Self.migrationLockKey))", logger: logger)
                    try await connection.query(PostgresQuery(unsafeSQL: MigrationTable.create), logger: logger)
                    let rows = try await connection.query(
                        "SELECT version, name FROM schema_migrations ORDER BY version", logger: logger)
                    var recorded: [(version: Int, name: String)] = []
                    for try await (version, name) in rows.decode((Int64, String).self) {
                        recorded.append((Int(version), name))
                    }
                    guard try MigrationTable.pending(applied: recorded, known: Migrations.all).contains(migration)
                    else {
                        return false
                    }
                    for statement in migration.statements + migration.postgresOnly {
                        try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                    }
                    let now = StoredTime.milliseconds(Date())
                    try await connection.query(
                        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (\(migration.version), \(migration.name), \(now))",
                        logger: logger)
                    return true
                }
            }
            if applied { appliedNow.append(migration.version) }
        }
        return appliedNow
    }

    /// The newest version in `schema_migrations`, 0 before the first migration.
    public func schemaVersion() async throws -> Int {
        let exists = try await client.query("SELECT to_regclass('schema_migrations') IS NOT NULL", logger: logger)
        for try await present in exists.decode(Bool.self) where !present { return 0 }
        let rows = try await client.query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", logger: logger)
        for try await version in rows.decode(Int64.self) { return Int(version) }
        return 0
    }

    /// Reads tables, columns, keys and CHECK constraints from the PostgreSQL catalog.
    public func logicalSchema() async throws -> LogicalSchema {
        try await PostgresSchemaReader(client: client, logger: logger).read()
    }

    /// Stops the pool.
    public func close() async throws {
        runner.cancel()
        await runner.value
    }

    /// Lost or refused connections and a closed pool are unavailable; query errors are not.
    public func unavailability(of error: any Error) -> StoreError? {
        guard let error = error as? PSQLError else { return nil }
        let unavailable: [PSQLError.Code] = [
            .connectionError, .serverClosedConnection, .clientClosedConnection, .poolClosed, .uncleanShutdown,
        ]
        guard unavailable.contains(error.code) || PostgresErrors.sqlState(error)?.hasPrefix("08") == true else {
            return nil
        }
        return .unavailable(reason: "PostgreSQL at \(location.displayName) cannot be reached")
    }

    /// Any 64-bit number unique to "Agentry migrations".
    static let migrationLockKey: Int64 = 0x4147_454E_5452_5931

    private static func probe(_ client: PostgresClient, timeout: Duration, logger: Logger) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await client.query("SELECT 1", logger: logger) }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw PostgresErrors.Timeout(after: timeout)
            }
            try await group.next()
            group.cancelAll()
        }
    }
}

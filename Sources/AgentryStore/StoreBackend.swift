import AgentryAudit
import AgentryIdentity
import AgentryLedger

import struct Foundation.Date

/// An opened database with everything Agentry keeps in it; SQLite and PostgreSQL implement it.
public protocol StoreBackend: Sendable {
    /// A short name for logs and `/readyz`: `sqlite` or `postgres`.
    var kind: String { get }
    /// Users, teams and tokens.
    var identity: any IdentityStore { get }
    /// The audit log's records, tree hashes, checkpoints and payloads.
    var audit: any AuditStore { get }
    /// Spend caps, accounts and reservations.
    var ledger: any LedgerStore { get }
    /// Sealed provider credentials and the admins' model catalog.
    var gateway: any GatewayStore { get }
    /// Revisions of IT's policies.
    var policies: any PolicyStore { get }
    /// The users' personal Sandboxes.
    var sandboxes: any SandboxStore { get }
    /// Agents, their versions and packages.
    var registry: any RegistryStore { get }
    /// Submissions, their checklists, threads and decisions.
    var reviews: any ReviewStore { get }
    /// The Catalog's entries and search.
    var catalog: any CatalogStore { get }
    /// Agents' state changes and ownership transfers.
    var stewardship: any StewardshipStore { get }
    /// Runs of agents and their events.
    var runs: any RunStore { get }
    /// Applies every pending migration up to version `last`, each in its own transaction; returns
    /// the versions applied now. Stopping short of the newest exists for upgrade tests.
    func migrate(through last: Int) async throws -> [Int]
    /// The newest migration version recorded in the database (0 when none).
    func schemaVersion() async throws -> Int
    /// The schema as it is in the database, for the cross-backend equivalence test.
    func logicalSchema() async throws -> LogicalSchema
    /// Releases connections and files; the backend is unusable afterwards.
    func close() async throws
    /// `StoreError.unavailable` when `error` means the database cannot be used right now (connection
    /// lost, file locked or read-only, disk full), so the API answers 503 rather than 500.
    func unavailability(of error: any Error) -> StoreError?
}

/// Timestamps are stored as integer milliseconds since 1970 in both backends.
public enum StoredTime {
    /// Milliseconds since 1970 for `date`.
    public static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }
    /// The date `milliseconds` after 1970.
    public static func date(_ milliseconds: Int64) -> Date { Date(timeIntervalSince1970: Double(milliseconds) / 1000) }
}

extension StoreBackend {
    /// Runs `body` with this store and closes the store afterwards, whether `body` succeeds or throws.
    public func closing<T: Sendable>(_ body: (Self) async throws -> T) async throws -> T {
        do {
            let result = try await body(self)
            try await close()
            return result
        } catch {
            try? await close()
            throw error
        }
    }
}

extension StoreBackend {
    /// Applies every pending migration; returns the versions applied now.
    public func migrate() async throws -> [Int] { try await migrate(through: Migrations.latestVersion) }
}

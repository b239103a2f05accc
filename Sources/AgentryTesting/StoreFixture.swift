import AgentryPostgres
import AgentrySQLite
import AgentryStore
import Foundation
import Logging

/// Which store a test runs against; conformance tests take every case.
public enum TestBackend: String, CaseIterable, Sendable, CustomStringConvertible {
    /// A fresh SQLite file in a temporary directory.
    case sqlite
    /// A fresh database on the throwaway PostgreSQL cluster that scripts/test starts.
    case postgres

    /// The backend's name.
    public var description: String { rawValue }
}

/// Opens fresh, migrated stores for tests and removes them afterwards.
public enum StoreFixture {
    /// The environment variable naming the test cluster, set by scripts/test.
    public static let postgresVariable = "AGENTRY_TEST_POSTGRES_URL"

    /// Runs `body` with a fresh store of `backend` (migrated unless `migrated` is false), then deletes it.
    public static func withStore<T: Sendable>(
        _ backend: TestBackend, migrated: Bool = true, _ body: (any StoreBackend) async throws -> T
    ) async throws -> T {
        try await withLocation(backend) { location in
            try await open(location).closing { store in
                if migrated { _ = try await store.migrate() }
                return try await body(store)
            }
        }
    }

    /// Where a fresh store lives: a SQLite path or a PostgreSQL URL.
    public enum Location: Sendable {
        /// A SQLite file path.
        case sqlite(path: String)
        /// A PostgreSQL URL.
        case postgres(url: String)

        /// The `agentry serve` flags that select this store.
        public var serveArguments: [String] {
            switch self {
            case .sqlite(let path): ["--data-dir", (path as NSString).deletingLastPathComponent]
            case .postgres(let url): ["--database-url", url]
            }
        }

        /// `serveArguments`, with key and checkpoint files in `directory` on PostgreSQL (SQLite keeps
        /// them next to its database file).
        public func serveArguments(filesIn directory: String) -> [String] {
            switch self {
            case .sqlite: serveArguments
            case .postgres: ["--data-dir", directory] + serveArguments
            }
        }
    }

    /// Opens another handle on the same location, as a second Agentry instance would.
    public static func open(_ location: Location) async throws -> any StoreBackend {
        switch location {
        case .sqlite(let path): try SQLiteStore(path: path)
        case .postgres(let url): try await PostgresStore(url: url, logger: quietLogger)
        }
    }

    /// Runs `body` with a location for a fresh, empty store, then deletes it.
    public static func withLocation<T: Sendable>(
        _ backend: TestBackend, _ body: (Location) async throws -> T
    ) async throws -> T {
        switch backend {
        case .sqlite:
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            return try await body(.sqlite(path: directory.file("agentry.sqlite")))
        case .postgres:
            let cluster = try PostgresCluster.fromEnvironment()
            let database = try await cluster.createDatabase()
            do {
                let result = try await body(.postgres(url: cluster.url(database: database)))
                try await cluster.dropDatabase(database)
                return result
            } catch {
                try? await cluster.dropDatabase(database)
                throw error
            }
        }
    }

    /// A logger that drops everything, for fixtures.
    public static let quietLogger = Logger(label: "agentry.test") { _ in SwiftLogNoOpLogHandler() }
}

import AgentryStore
import Foundation

/// The migration contract: idempotent, safe when instances start together, refusing a newer schema.
public enum MigrationConformance {
    /// All cases.
    public static let cases: [ConformanceCase] = [idempotent, concurrentInstances, newerSchemaRefused]

    static let idempotent = ConformanceCase("migrating twice applies nothing the second time") { backend in
        try await StoreFixture.withStore(backend, migrated: false) { store in
            try await ensure(try await store.schemaVersion() == 0, "a fresh database reports a schema version")
            try await ensure(
                try await store.migrate() == Migrations.all.map(\.version), "first run did not apply everything")
            try await ensure(try await store.migrate().isEmpty, "second run applied something")
            try await ensure(try await store.schemaVersion() == Migrations.latestVersion, "version is not the latest")
        }
    }

    static let concurrentInstances = ConformanceCase("3 instances migrating at once apply each migration once") {
        backend in
        try await StoreFixture.withLocation(backend) { location in
            var handles: [any StoreBackend] = []
            for _ in 0..<3 { handles.append(try await StoreFixture.open(location)) }
            let stores = handles
            let applied = try await withThrowingTaskGroup(of: [Int].self) { group in
                for store in stores { group.addTask { try await store.migrate() } }
                return try await group.reduce(into: [Int]()) { $0 += $1 }
            }
            for store in stores { try await store.close() }
            try await ensure(
                applied.sorted() == Migrations.all.map(\.version), "applied \(applied), expected each version once")
            let rows = try await RawSQL.strings("SELECT CAST(version AS TEXT) FROM schema_migrations", on: location)
            try await ensure(rows.count == Migrations.all.count, "schema_migrations holds \(rows.count) rows")
        }
    }

    static let newerSchemaRefused = ConformanceCase("a database migrated by a newer Agentry is refused") { backend in
        try await StoreFixture.withLocation(backend) { location in
            let store = try await StoreFixture.open(location)
            _ = try await store.migrate()
            let future = Migrations.latestVersion + 1
            try await RawSQL.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (\(future), 'future', 0)",
                on: location)
            let error = try await expectThrows { _ = try await store.migrate() }
            try await store.close()
            try await ensure(
                error as? StoreError == .schemaTooNew(database: future, binary: Migrations.latestVersion),
                "expected schemaTooNew, got \(error)")
        }
    }
}

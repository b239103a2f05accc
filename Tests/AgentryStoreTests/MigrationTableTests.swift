import AgentryStore
import Testing

@Suite("MigrationTable")
struct MigrationTableTests {
    @Test func migrationsAreNumberedWithoutGaps() {
        #expect(Migrations.all.map(\.version) == Array(1...Migrations.all.count))
        #expect(Set(Migrations.all.map(\.name)).count == Migrations.all.count)
    }

    @Test func pendingSkipsWhatIsApplied() throws {
        #expect(try MigrationTable.pending(applied: [], known: Migrations.all) == Migrations.all)
        let all = Migrations.all.map { (version: $0.version, name: $0.name) }
        #expect(try MigrationTable.pending(applied: all, known: Migrations.all).isEmpty)
    }

    @Test func aNewerDatabaseIsRefused() {
        let newer = Migrations.latestVersion + 3
        #expect(throws: StoreError.schemaTooNew(database: newer, binary: Migrations.latestVersion)) {
            try MigrationTable.pending(applied: [(newer, "future")], known: Migrations.all)
        }
    }

    @Test func aRenamedMigrationIsRefused() {
        #expect(throws: StoreError.schemaMismatch(version: 1, name: "edited")) {
            try MigrationTable.pending(applied: [(1, "edited")], known: Migrations.all)
        }
    }
}

import AgentryAudit
import AgentrySQLite
import AgentryStore
import AgentryTesting
import Foundation
import GRDB
import Testing

/// The audit log's storage layout: on SQLite the filter index in a file of its own, derived from
/// the log and rebuilt from it, and the write-ahead log checkpointed off the writer; on both
/// backends partial indexes for the optional filter columns.
@Suite("Audit storage layout")
struct SQLiteAuditFilesTests {
    /// The records of a 60-record fixture log that `filter` selects.
    private static func wanted(_ filter: AuditFilter) -> [Int64] {
        (0..<60).map { AuditFixtures.append($0) }.enumerated().filter { _, entry in
            filter.matches(entry.event)
        }.map { Int64($0.offset) }
    }

    private static let filters = [
        AuditFilter(kind: .modelCall), AuditFilter(actor: "usr_2"), AuditFilter(agent: "agent-1"),
        AuditFilter(run: "run_9"), AuditFilter(subject: "usr_s17"),
    ]

    /// Lists every filter and checks it against the fixture events.
    private static func expectFiltersAgree(_ audit: any AuditStore, _ comment: Comment) async throws {
        for filter in filters {
            let listed = try await audit.records(matching: filter, from: 0, count: 100).map(\.index)
            #expect(listed == wanted(filter), "\(filter), \(comment)")
        }
    }

    @Test func theIndexFileIsRebuiltWhenLostAndEmptiedWhenAheadOfTheLog() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("agentry.sqlite")
        let indexPath = SQLiteStore.auditIndexPath(for: path)
        #expect(indexPath == directory.file("agentry.audit-index.sqlite"))

        var store = try SQLiteStore(path: path)
        _ = try await store.migrate()
        try await AuditFixtures.populate(store.audit, count: 60)
        #expect(try await AuditIndexer(store: store.audit).catchUp() == 60)
        try await Self.expectFiltersAgree(store.audit, "indexed")
        // The log's file holds no index: the index's tables are in the other file only.
        let logTables = try await RawSQL.strings(
            "SELECT name FROM main.sqlite_master WHERE name LIKE 'audit_index%'", on: .sqlite(path: path))
        #expect(logTables.isEmpty)
        try await store.close()

        // Lost: a new, empty index; filters read the leaves until the indexer has rebuilt it.
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: indexPath + suffix) }
        store = try SQLiteStore(path: path)
        #expect(try await store.audit.indexedSize() == 0)
        try await Self.expectFiltersAgree(store.audit, "index lost")
        #expect(try await AuditIndexer(store: store.audit).catchUp() == 60)
        try await Self.expectFiltersAgree(store.audit, "rebuilt")
        try await store.close()

        // Ahead of the log (the log was restored from an older copy): emptied at open, then rebuilt.
        let index = try DatabaseQueue(path: indexPath)
        try await index.write { db in
            try db.execute(sql: "INSERT INTO audit_index (idx, time, kind, actor) VALUES (60, 0, 'user.created', 'x')")
            try db.execute(sql: "UPDATE audit_index_state SET indexed_size = 61 WHERE id = 1")
        }
        try index.close()
        store = try SQLiteStore(path: path)
        #expect(try await store.audit.indexedSize() == 0)
        #expect(try await store.audit.records(matching: AuditFilter(actor: "x"), from: 0, count: 10).isEmpty)
        #expect(try await AuditIndexer(store: store.audit).catchUp() == 60)
        try await Self.expectFiltersAgree(store.audit, "rebuilt after the log went back")
        try await store.close()
    }

    @Test func anIndexFileThatCannotBeOpenedIsNamedAndCanBeDeletedToRebuildIt() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("agentry.sqlite")
        let indexPath = SQLiteStore.auditIndexPath(for: path)
        var store = try SQLiteStore(path: path)
        _ = try await store.migrate()
        try await AuditFixtures.populate(store.audit, count: 20)
        try await store.close()
        for damage in ["a directory", "garbage"] {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: indexPath + suffix) }
            if damage == "a directory" {
                try FileManager.default.createDirectory(atPath: indexPath, withIntermediateDirectories: false)
            } else {
                try Data(repeating: 0x5a, count: 8192).write(to: URL(fileURLWithPath: indexPath))
            }
            let error = #expect(throws: StoreError.self) { try SQLiteStore(path: path) }
            let message = error?.message ?? ""
            #expect(message.contains("cannot open the audit index \(indexPath)"), "\(damage): \(message)")
            #expect(message.contains("can be deleted"), "\(damage): \(message)")
        }
        // The log's file was never touched: deleting the index lets the store open and rebuild it.
        try FileManager.default.removeItem(atPath: indexPath)
        store = try SQLiteStore(path: path)
        #expect(try await AuditIndexer(store: store.audit).catchUp() == 20)
        #expect(try await store.audit.size() == 20)
        try await store.close()
    }

    @Test func theWriteAheadLogIsCheckpointedOffTheWriterAndAuditTablesAreKeyedByRowid() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("agentry.sqlite")
        let store = try SQLiteStore(path: path)
        _ = try await store.migrate()
        let log = AuditLog(store: store.audit, clock: { 1_790_000_000_000 })
        try await withThrowingTaskGroup(of: Void.self) { group in
            for appender in 0..<8 {
                group.addTask {
                    for step in 0..<50 { _ = try await log.append(AuditFixtures.append(appender * 50 + step)) }
                }
            }
            try await group.waitForAll()
        }
        // The checkpointer runs every 50 ms; it must have copied frames well within a minute.
        let deadline = ContinuousClock.now + .seconds(60)
        while store.checkpointsCopyingFrames == 0, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(store.checkpointsCopyingFrames > 0)
        // Migration 21: `idx` is the rowid, so no second B-tree (an index) is kept beside these tables.
        for table in ["audit_records", "audit_hashes"] {
            let indexes = try await RawSQL.strings(
                "SELECT name FROM pragma_index_list('\(table)')", on: .sqlite(path: path))
            #expect(indexes.isEmpty, "\(table): \(indexes)")
        }
        #expect(try await store.audit.size() == 400)
        try await store.close()
    }

    @Test(arguments: TestBackend.allCases)
    func subjectAgentAndRunIndexesLeaveOutRecordsWithoutOne(_ backend: TestBackend) async throws {
        try await StoreFixture.withLocation(backend) { location in
            try await StoreFixture.open(location).closing { store in _ = try await store.migrate() }
            for column in ["subject", "agent", "run"] {
                let sql =
                    backend == .sqlite
                    ? "SELECT sql FROM audit_index_file.sqlite_master WHERE name = 'audit_index_\(column)'"
                    : "SELECT indexdef FROM pg_indexes WHERE indexname = 'audit_index_\(column)'"
                let definition = try await RawSQL.strings(sql, on: location).joined()
                #expect(
                    definition.replacingOccurrences(of: "(", with: "").replacingOccurrences(of: ")", with: "")
                        .hasSuffix("WHERE \(column) IS NOT NULL"), "\(backend): \(definition)")
            }
        }
    }
}

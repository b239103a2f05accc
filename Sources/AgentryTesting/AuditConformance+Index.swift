import AgentryAudit
import AgentryStore
import Foundation

/// The filter index's part of the `AuditStore` contract: listings agree with the leaves however
/// far the index has got, and every record is indexed exactly once.
extension AuditConformance {
    /// Filters whose listings every test compares: single conditions, combinations, time ranges, none.
    static let sampleFilters: [AuditFilter] = [
        AuditFilter(), AuditFilter(kind: .modelCall), AuditFilter(actor: "usr_2"), AuditFilter(subject: "usr_s41"),
        AuditFilter(agent: "agent-1"), AuditFilter(run: "run_33"), AuditFilter(kind: .userCreated, actor: "usr_3"),
        AuditFilter(since: 1_790_000_000_020, until: 1_790_000_000_060), AuditFilter(kind: .toolCall),
        AuditFilter(actor: "usr_1", agent: "agent-1", since: 1_790_000_000_030),
    ]

    static let filtersAgreeAcrossTheIndex = ConformanceCase(
        "filtered listings are the same unindexed, half indexed and indexed, and match the leaves"
    ) { backend in
        try await StoreFixture.withLocation(backend) { location in
            let store = try await StoreFixture.open(location)
            _ = try await store.migrate()
            let audit = store.audit
            try await AuditFixtures.populate(audit, count: 90)
            func check(_ stage: String) async throws { try await checkFilters(audit, stage: stage) }
            // PostgreSQL's appends index their own records; SQLite's index waits for its indexer.
            let appended: Int64 = backend == .postgres ? 90 : 0
            try await ensure(try await audit.indexedSize() == appended, "the appends did not leave \(appended) indexed")
            try await check("as appended")
            try await emptyIndex(location)
            try await ensure(try await audit.indexedSize() == 0, "nothing should be indexed yet")
            try await check("unindexed")
            try await ensure(try await audit.extendIndex(limit: 37) == 37, "the index did not take 37 records")
            try await ensure(try await audit.indexedSize() == 37, "indexed size is not 37")
            try await check("37 of 90 indexed")
            try await ensure(try await AuditIndexer(store: audit).catchUp() == 53, "the indexer did not catch up")
            try await ensure(try await audit.extendIndex(limit: 100) == 0, "an indexed log was indexed again")
            try await check("indexed")
            try await AuditFixtures.populate(audit, count: 4)
            try await ensure(
                try await audit.records(matching: AuditFilter(), from: 88, count: 10).map(\.index) == [
                    88, 89, 90, 91, 92, 93,
                ],
                "records appended after indexing are missing from listings")
            try await ensure(
                try await audit.records(matching: AuditFilter(kind: .modelCall), from: 0, count: 0).isEmpty,
                "a listing of zero records returned some")
            try await store.close()
        }
    }

    static let indexersOfTwoInstances = ConformanceCase(
        "indexers of two instances running while others append index every record exactly once"
    ) { backend in
        try await StoreFixture.withLocation(backend) { location in
            let first = try await StoreFixture.open(location)
            let second = try await StoreFixture.open(location)
            _ = try await first.migrate()
            let log = AuditLog(store: first.audit, clock: { 1_790_000_000_000 })
            try await withThrowingTaskGroup(of: Void.self) { group in
                for caller in 0..<20 {
                    group.addTask {
                        for step in 0..<10 { _ = try await log.append(AuditFixtures.append(caller * 10 + step)) }
                    }
                }
                for store in [first, second] {
                    group.addTask { for _ in 0..<30 { _ = try await store.audit.extendIndex(limit: 9) } }
                }
                try await group.waitForAll()
            }
            try await AuditIndexer(store: second.audit).catchUp()
            try await ensure(try await first.audit.indexedSize() == 200, "not every record was indexed")
            let indexed = try await RawSQL.strings(
                "SELECT CAST(COUNT(*) AS TEXT) || ' ' || CAST(COUNT(DISTINCT idx) AS TEXT) FROM audit_index",
                on: location)
            try await ensure(indexed == ["200 200"], "the index has \(indexed), not 200 distinct rows")
            let all = try await first.audit.records(from: 0, count: 1000)
            let byKind = try await second.audit.records(matching: AuditFilter(kind: .modelCall), from: 0, count: 1000)
            try await ensure(
                byKind.map(\.index) == (try all.filter { try $0.event().kind == .modelCall }.map(\.index)),
                "the index disagrees with the leaves")
            try await first.close()
            try await second.close()
        }
    }

    /// Checks every sample filter's listings, from several starts and counts, against the leaves.
    static func checkFilters(_ audit: any AuditStore, stage: String) async throws {
        let all = try await audit.records(from: 0, count: 10_000)
        let size = Int64(all.count)
        for filter in sampleFilters {
            for (start, count) in [(Int64(0), 1000), (0, 3), (17, 5), (44, 1000), (size - 1, 2), (size, 5)] {
                let listed = try await audit.records(matching: filter, from: start, count: count).map(\.index)
                let wanted = try all.filter { record in
                    guard record.index >= start else { return false }
                    return filter.matches(try record.event())
                }.prefix(count).map(\.index)
                try await ensure(listed == wanted, "\(stage): \(filter) from \(start) gave \(listed), not \(wanted)")
            }
        }
    }

    /// Empties the filter index, as if the log came from before it: listings must then read the leaves.
    static func emptyIndex(_ location: StoreFixture.Location) async throws {
        try await RawSQL.execute("DELETE FROM audit_index", on: location)
        try await RawSQL.execute("UPDATE audit_index_state SET indexed_size = 0 WHERE id = 1", on: location)
    }

    static let appendsWhileTheIndexLags = ConformanceCase(
        "records appended while the index lags are indexed exactly once when the indexer fills the gap"
    ) { backend in
        try await StoreFixture.withLocation(backend) { location in
            let store = try await StoreFixture.open(location)
            _ = try await store.migrate()
            let audit = store.audit
            try await AuditFixtures.populate(audit, count: 30)
            try await emptyIndex(location)
            try await ensure(try await audit.extendIndex(limit: 10) == 10, "the index did not take 10 records")
            let log = AuditLog(store: audit, clock: { 1_790_000_000_000 })
            try await withThrowingTaskGroup(of: Void.self) { group in
                for caller in 0..<4 {
                    group.addTask {
                        for step in 0..<5 { _ = try await log.append(AuditFixtures.append(30 + caller * 5 + step)) }
                    }
                }
                try await group.waitForAll()
            }
            try await ensure(try await audit.indexedSize() == 10, "a lagging index claimed records it skipped")
            try await checkFilters(audit, stage: "lagging")
            try await ensure(try await AuditIndexer(store: audit).catchUp() == 40, "the indexer did not fill the gap")
            try await ensure(try await audit.indexedSize() == 50, "the index does not cover the log")
            let rows = try await RawSQL.strings(
                "SELECT CAST(COUNT(*) AS TEXT) || ' ' || CAST(COUNT(DISTINCT idx) AS TEXT) FROM audit_index",
                on: location)
            try await ensure(rows == ["50 50"], "the index has \(rows), not 50 distinct rows")
            try await AuditFixtures.populate(audit, count: 5)
            let covered: Int64 = backend == .postgres ? 55 : 50
            try await ensure(
                try await audit.indexedSize() == covered, "a caught-up index does not cover \(covered) after appends")
            try await checkFilters(audit, stage: "caught up")
            try await store.close()
        }
    }

    static let staleIndexRowsGiveWay = ConformanceCase(
        "an index row left at an index not yet appended gives way to the record appended there"
    ) { backend in
        try await StoreFixture.withLocation(backend) { location in
            let store = try await StoreFixture.open(location)
            _ = try await store.migrate()
            let audit = store.audit
            try await AuditFixtures.populate(audit, count: 12)
            try await AuditIndexer(store: audit).catchUp()
            for index in 12..<15 {
                try await RawSQL.execute(
                    """
                    INSERT INTO audit_index (idx, time, kind, actor, subject, agent, run)
                    VALUES (\(index), 1, 'key.rotated', 'usr_stale', 'usr_stale', 'agent-stale', 'run_stale')
                    """, on: location)
            }
            _ = try await audit.append((12..<20).map { AuditFixtures.append($0) })
            try await AuditIndexer(store: audit).catchUp()
            try await ensure(try await audit.indexedSize() == 20, "the index does not cover the log")
            for filter in [
                AuditFilter(actor: "usr_stale"), AuditFilter(agent: "agent-stale"), AuditFilter(kind: .keyRotated),
            ] {
                let listed = try await audit.records(matching: filter, from: 0, count: 100)
                try await ensure(listed.isEmpty, "\(filter) still lists the stale rows: \(listed.map(\.index))")
            }
            try await checkFilters(audit, stage: "after stale rows")
            try await store.close()
        }
    }
}

import AgentryAudit
import AgentryIdentity
import AgentryStore
import Foundation
import Synchronization

/// The `AuditStore` contract as executable cases, run against every backend.
public enum AuditConformance {
    /// All cases.
    public static let cases: [ConformanceCase] = [
        roundTrip, timeNeverGoesBack, appendOnlyIsEnforced, concurrentAppenders, twoInstances, erasure,
        filtersAgreeAcrossTheIndex, indexersOfTwoInstances, upgradeFromVersion2, outboxDeliversOnce,
        verifyWhileAppending,
    ]

    static let roundTrip = ConformanceCase("appended records, hashes and payloads read back and verify") { backend in
        try await StoreFixture.withStore(backend) { store in
            let audit = store.audit
            try await AuditFixtures.populate(audit, count: 100)
            try await ensure(try await audit.size() == 100, "size is not 100")
            var memory = HashBuffer()
            for record in try await audit.records(from: 0, count: 200) {
                memory.append(recordHash: MerkleTree.recordHash(record.leaf))
            }
            let root = try await MerkleTree.treeHash(size: 100, reader: audit)
            try await ensure(
                root == (try await MerkleTree.treeHash(size: 100, reader: memory)), "stored tree differs from rebuilt")
            let proof = try await MerkleTree.proveInclusion(size: 100, index: 42, reader: audit)
            let leaf = try await audit.records(from: 42, count: 1)[0].leaf
            try MerkleTree.checkInclusion(
                proof: proof, size: 100, root: root, index: 42, recordHash: MerkleTree.recordHash(leaf))
            let event = try await audit.records(from: 0, count: 1)[0].event()
            let stored = try await audit.payload(record: 0, name: event.payloads[0].name)
            try await ensure(stored?.payload.bytes == Array("prompt 0".utf8), "payload did not round-trip")
            try await ensure(stored?.commitment == event.payloads[0].hash, "payload commitment did not round-trip")
            try await ensure(try await audit.payload(record: 1, name: "input") == nil, "record 1 has no payload")
            let filtered = try await audit.records(
                matching: AuditFilter(kind: .modelCall, agent: "agent-1"), from: 0, count: 100)
            try await ensure(
                !filtered.isEmpty && filtered.allSatisfy { (try? $0.event().agent) == "agent-1" }, "filter is wrong")
            let signer = try AuditFixtures.signer()
            try await AuditFixtures.checkpoint(audit, signer: signer)
            let report = try await AuditVerifier.verify(store: audit, verifier: signer.verifier)
            try await ensure(report.size == 100 && report.checkpoints == 1 && report.payloads == 68, "report \(report)")
        }
    }

    static let timeNeverGoesBack = ConformanceCase("an earlier event time is raised to the log's last time") {
        backend in
        try await StoreFixture.withStore(backend) { store in
            _ = try await store.audit.append([AuditFixtures.append(0, time: 5_000)])
            let records = try await store.audit.append([AuditFixtures.append(1, time: 1_000)])
            try await ensure(try records[0]?.event().time == 5_000, "time went backwards")
        }
    }

    static let appendOnlyIsEnforced = ConformanceCase("the database refuses UPDATE and DELETE of audit records") {
        backend in
        try await StoreFixture.withLocation(backend) { location in
            try await StoreFixture.open(location).closing { store in
                _ = try await store.migrate()
                try await AuditFixtures.populate(store.audit, count: 3)
                try await AuditFixtures.checkpoint(store.audit, signer: AuditFixtures.signer())
            }
            for statement in [
                "UPDATE audit_records SET leaf = 'mallory' WHERE idx = 1", "DELETE FROM audit_records WHERE idx = 2",
                "UPDATE audit_hashes SET hash = hash WHERE idx = 0", "DELETE FROM audit_hashes",
                "DELETE FROM audit_checkpoints",
            ] {
                _ = try await expectThrows { try await RawSQL.execute(statement, on: location) }
            }
            let count = try await RawSQL.strings("SELECT CAST(COUNT(*) AS TEXT) FROM audit_records", on: location)
            try await ensure(count == ["3"], "a refused statement changed the records")
        }
    }

    static let concurrentAppenders = ConformanceCase("300 appends from 60 concurrent callers form one verified tree") {
        backend in
        try await StoreFixture.withStore(backend) { store in
            let log = AuditLog(store: store.audit, clock: { 1_790_000_000_000 })
            let indexes = try await withThrowingTaskGroup(of: Int64.self) { group in
                for caller in 0..<60 {
                    group.addTask {
                        var last: Int64 = -1
                        for step in 0..<5 { last = try await log.append(AuditFixtures.append(caller * 5 + step)).index }
                        return last
                    }
                }
                return try await group.reduce(into: [Int64]()) { $0.append($1) }
            }
            try await ensure(Set(indexes).count == 60, "two callers got the same index")
            try await ensure(try await store.audit.size() == 300, "appends were lost")
            let signer = try AuditFixtures.signer()
            try await AuditFixtures.checkpoint(store.audit, signer: signer)
            _ = try await AuditVerifier.verify(store: store.audit, verifier: signer.verifier)
        }
    }

    static let twoInstances = ConformanceCase("two instances appending at once share one tree without gaps") {
        backend in
        try await StoreFixture.withLocation(backend) { location in
            let first = try await StoreFixture.open(location)
            let second = try await StoreFixture.open(location)
            _ = try await first.migrate()
            let logs = [AuditLog(store: first.audit, clock: { 1 }), AuditLog(store: second.audit, clock: { 1 })]
            try await withThrowingTaskGroup(of: Void.self) { group in
                for caller in 0..<40 {
                    let log = logs[caller % 2]
                    group.addTask {
                        for step in 0..<5 { _ = try await log.append(AuditFixtures.append(caller * 5 + step)) }
                    }
                }
                try await group.waitForAll()
            }
            let signer = try AuditFixtures.signer()
            try await AuditFixtures.checkpoint(second.audit, signer: signer)
            let report = try await AuditVerifier.verify(store: first.audit, verifier: signer.verifier)
            try await first.close()
            try await second.close()
            try await ensure(report.size == 200, "expected 200 records, found \(report.size)")
        }
    }

    static let erasure = ConformanceCase("an erased payload is reported as erased by its event") { backend in
        try await StoreFixture.withStore(backend) { store in
            try await AuditFixtures.populate(store.audit, count: 6)
            let commitment = try await store.audit.records(from: 3, count: 1)[0].event().payloads[0]
            let wrong = AuditAppend(
                event: AuditEvent(
                    time: 1, kind: .payloadErased, actor: "usr_admin", erases: LogHash([UInt8](repeating: 7, count: 32))
                ))
            try await ensure(
                try await store.audit.erasePayload(record: 3, name: commitment.name, erasure: wrong) == nil,
                "a payload was erased by an event naming another commitment")
            let erasure = AuditAppend(
                event: AuditEvent(time: 1, kind: .payloadErased, actor: "usr_admin", erases: commitment.hash))
            let record = try await store.audit.erasePayload(record: 3, name: commitment.name, erasure: erasure)
            try await ensure(record?.index == 6, "the erasure event is not record 6")
            try await ensure(
                try await store.audit.payload(record: 3, name: commitment.name) == nil, "the payload is still stored")
            try await ensure(
                try await store.audit.payload(record: 3, name: "output") != nil, "the other payload went too")
            try await ensure(
                try await store.audit.erasePayload(record: 3, name: commitment.name, erasure: erasure) == nil,
                "erased twice")
            let signer = try AuditFixtures.signer()
            let report = try await AuditVerifier.verify(store: store.audit, verifier: signer.verifier)
            try await ensure(report.erased.map(\.erasedBy) == [6], "erasure not reported: \(report.erased)")
        }
    }

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
        try await StoreFixture.withStore(backend) { store in
            let audit = store.audit
            try await AuditFixtures.populate(audit, count: 90)
            let all = try await audit.records(from: 0, count: 1000)
            /// What a listing must return, computed from the leaves alone.
            func expected(_ filter: AuditFilter, from start: Int64, count: Int) throws -> [Int64] {
                try all.filter { record in
                    guard record.index >= start else { return false }
                    return filter.matches(try record.event())
                }.prefix(count).map(\.index)
            }
            func check(_ stage: String) async throws {
                for filter in sampleFilters {
                    for (start, count) in [(Int64(0), 1000), (0, 3), (17, 5), (44, 1000), (89, 2), (90, 5)] {
                        let listed = try await audit.records(matching: filter, from: start, count: count).map(\.index)
                        let wanted = try expected(filter, from: start, count: count)
                        try await ensure(
                            listed == wanted, "\(stage): \(filter) from \(start) gave \(listed), not \(wanted)")
                    }
                }
            }
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

    static let upgradeFromVersion2 = ConformanceCase(
        "a log written in the version-2 layout keeps every record, payload and filter through every migration"
    ) { backend in
        try await StoreFixture.withLocation(backend) { location in
            let rows = try AuditBatch.rows((0..<40).map { AuditFixtures.append($0) }, size: 0, lastTime: 0)
            let hashes = AuditBatch.storedHashes(for: rows, existing: [:])
            try await StoreFixture.open(location).closing { store in
                try await ensure(try await store.migrate(through: 2) == [1, 2], "did not stop at version 2")
            }
            /// A SQL literal: NULL, or the text quoted with quotes doubled.
            func literal(_ text: String?) -> String {
                text.map { "'" + $0.replacingOccurrences(of: "'", with: "''") + "'" } ?? "NULL"
            }
            let records = rows.map { row in
                let event = row.event
                let values = [
                    "\(row.index)", literal(String(decoding: row.leaf, as: UTF8.self)), "\(event.time)",
                    literal(event.kind.rawValue), literal(event.actor), literal(event.subject), literal(event.agent),
                    literal(event.run),
                ]
                return "(" + values.joined(separator: ", ") + ")"
            }
            let payloads = rows.flatMap { row in
                row.payloads.map { payload in
                    "('\(payload.commitment.hash.hex)', \(row.index), \(literal(payload.name)), "
                        + "'\(HexText.encode(payload.salt))', '\(Base64Text.encode(payload.bytes))')"
                }
            }
            for statement in [
                "INSERT INTO audit_hashes (idx, hash) VALUES "
                    + hashes.map { "(\($0.0), '\($0.1.hex)')" }.joined(separator: ", "),
                "INSERT INTO audit_records (idx, leaf, time, kind, actor, subject, agent, run) VALUES "
                    + records.joined(separator: ", "),
                "INSERT INTO audit_payloads (commitment, record_index, name, salt, content) VALUES "
                    + payloads.joined(separator: ", "),
                "UPDATE audit_state SET size = 40, last_time = \(rows[39].event.time) WHERE id = 1",
            ] {
                try await RawSQL.execute(statement, on: location)
            }
            try await StoreFixture.open(location).closing { store in
                try await ensure(
                    try await store.migrate() == Array(3...Migrations.latestVersion), "the migrations were not applied")
                let audit = store.audit
                // Migration 3 carries the filter columns into the index; on SQLite migration 20
                // moves the index to a file of its own, which starts empty and is rebuilt.
                let carried: Int64 = backend == .sqlite ? 0 : 40
                try await ensure(
                    try await audit.indexedSize() == carried, "the upgraded index does not cover \(carried)")
                for pass in ["before indexing", "after indexing"] {
                    for filter in sampleFilters {
                        let listed = try await audit.records(matching: filter, from: 0, count: 100).map(\.index)
                        let wanted = rows.filter { filter.matches($0.event) }.map(\.index)
                        try await ensure(listed == wanted, "\(pass), \(filter) gave \(listed), not \(wanted)")
                    }
                    try await AuditIndexer(store: audit).catchUp()
                    try await ensure(try await audit.indexedSize() == 40, "the upgraded records are not indexed")
                }
                let stored = try await audit.payload(record: 3, name: "output")
                try await ensure(stored?.payload.bytes == Array("answer 3".utf8), "a payload was lost")
                _ = try await audit.append([AuditFixtures.append(40)])
                let signer = try AuditFixtures.signer()
                try await AuditFixtures.checkpoint(audit, signer: signer)
                let report = try await AuditVerifier.verify(store: audit, verifier: signer.verifier)
                try await ensure(report.size == 41 && report.payloads == 28, "report after the upgrade: \(report)")
            }
        }
    }

    static let outboxDeliversOnce = ConformanceCase(
        "outbox entries written with their change are appended once, however deliveries and drains race"
    ) { backend in
        try await StoreFixture.withStore(backend) { store in
            let log = AuditLog(store: store.audit, clock: { 1_790_000_000_000 })
            let time = Date(timeIntervalSince1970: 1_790_000_000)
            var messages: [ChangeMessage] = []
            for number in 0..<30 {
                let team = Team(
                    id: "team_outbox\(number)", name: "outbox-\(number)", department: "D", createdAt: time,
                    updatedAt: time)
                let entry = AuditAppend(
                    event: AuditEvent(time: 1_790_000_000_000, kind: .teamCreated, actor: "usr_a", subject: team.id),
                    payloads: number % 5 == 0 ? [AuditPayload(name: "note", bytes: Array("n\(number)".utf8))] : [])
                let message = ChangeMessage(id: "obx_\(number)", createdAt: time, body: try entry.outboxBody())
                try await store.identity.insertTeam(team, recording: [message])
                messages.append(message)
            }
            let taken = Team(id: "team_taken", name: "outbox-0", department: "D", createdAt: time, updatedAt: time)
            _ = try await expectThrows {
                try await store.identity.insertTeam(
                    taken, recording: [ChangeMessage(id: "obx_taken", createdAt: time, body: messages[0].body)])
            }
            let waiting = try await store.audit.outbox(olderThan: .max, limit: 100)
            try await ensure(
                waiting.map(\.id).sorted() == messages.map(\.id).sorted(), "the outbox is \(waiting.map(\.id))")
            let young = AuditOutboxDrainer(store: store.audit, log: log, clock: { 1_790_000_000_000 })
            try await ensure(try await young.drain() == 0, "entries younger than the grace period were drained")
            let drainer = AuditOutboxDrainer(store: store.audit, log: log, grace: 0, clock: { 1_790_000_001_000 })
            let appended = try await withThrowingTaskGroup(of: Int.self) { group in
                for message in messages {
                    group.addTask {
                        let entry = try AuditAppend(outboxBody: message.body, outboxID: message.id)
                        return try await log.deliver(entry) == nil ? 0 : 1
                    }
                }
                for _ in 0..<3 { group.addTask { try await drainer.drain() } }
                return try await group.reduce(0, +)
            }
            try await ensure(appended == 30, "\(appended) appends for 30 outbox entries")
            try await ensure(
                try await store.audit.outbox(olderThan: .max, limit: 100).isEmpty, "the outbox kept entries")
            let again = try AuditAppend(outboxBody: messages[3].body, outboxID: messages[3].id)
            try await ensure(try await log.deliver(again) == nil, "a delivered entry was appended again")
            // The same entry twice in one batch (a delivery and a drain queued together) is appended once.
            let last = Team(id: "team_twice", name: "twice", department: "D", createdAt: time, updatedAt: time)
            let twice = ChangeMessage(
                id: "obx_twice", createdAt: time,
                body: try AuditAppend(
                    event: AuditEvent(time: 1_790_000_000_000, kind: .teamCreated, actor: "usr_a", subject: last.id)
                ).outboxBody())
            try await store.identity.insertTeam(last, recording: [twice])
            let entry = try AuditAppend(outboxBody: twice.body, outboxID: twice.id)
            let results = try await store.audit.append([entry, entry])
            try await ensure(results.map { $0 != nil } == [true, false], "one batch appended an entry twice")
            let subjects = try await store.audit.records(from: 0, count: 100).map { try $0.event().subject ?? "" }
            try await ensure(Set(subjects).count == 31 && subjects.count == 31, "subjects: \(subjects)")
            let report = try await AuditVerifier.verify(
                store: store.audit, verifier: try AuditFixtures.signer().verifier)
            try await ensure(report.payloads == 6, "the outbox payloads were not stored: \(report)")
        }
    }

    static let verifyWhileAppending = ConformanceCase(
        "full and incremental verification of a log being appended to and checkpointed report no failure"
    ) { backend in
        try await StoreFixture.withStore(backend) { store in
            let audit = store.audit
            let signer = try AuditFixtures.signer()
            try await AuditFixtures.populate(audit, count: 50)
            let trusted = try await AuditFixtures.checkpoint(audit, signer: signer)
            let log = AuditLog(store: audit, clock: { 1_790_000_000_000 })
            let stop = StopFlag()
            let reports = try await withThrowingTaskGroup(of: [VerificationReport].self) { group in
                for writer in 0..<4 {
                    group.addTask {
                        var step = 0
                        while !stop.isSet {
                            _ = try await log.append(AuditFixtures.append(1000 + writer * 100_000 + step))
                            step += 1
                            if step % 25 == 0 { try await AuditFixtures.checkpoint(audit, signer: signer) }
                        }
                        return []
                    }
                }
                group.addTask {
                    defer { stop.set() }
                    var reports: [VerificationReport] = []
                    for _ in 0..<4 {
                        reports.append(try await AuditVerifier.verify(store: audit, verifier: signer.verifier))
                        reports.append(
                            try await AuditVerifier.verify(store: audit, verifier: signer.verifier, since: trusted))
                    }
                    return reports
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            try await ensure(reports.count == 8, "verification did not run")
            try await ensure(try await audit.size() > 50, "nothing was appended while verifying")
        }
    }
}

/// A flag one task raises to stop others.
final class StopFlag: Sendable {
    private let raised = Mutex(false)
    /// Whether the flag is raised.
    var isSet: Bool { raised.withLock { $0 } }
    /// Raises the flag.
    func set() { raised.withLock { $0 = true } }
}

import AgentryAudit
import AgentryStore
import Foundation

/// The `AuditStore` contract as executable cases, run against every backend.
public enum AuditConformance {
    /// All cases.
    public static let cases: [ConformanceCase] = [
        roundTrip, timeNeverGoesBack, appendOnlyIsEnforced, concurrentAppenders, twoInstances, erasure,
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
            let stored = try await audit.payload(commitment: event.payloads[0].hash)
            try await ensure(stored?.payload.bytes == Array("prompt 0".utf8), "payload did not round-trip")
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
            try await ensure(try records[0].event().time == 5_000, "time went backwards")
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
                "UPDATE audit_records SET actor = 'mallory' WHERE idx = 1", "DELETE FROM audit_records WHERE idx = 2",
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
            let commitment = try await store.audit.records(from: 3, count: 1)[0].event().payloads[0].hash
            let erasure = AuditAppend(
                event: AuditEvent(time: 1, kind: .payloadErased, actor: "usr_admin", erases: commitment))
            let record = try await store.audit.erasePayload(commitment: commitment, erasure: erasure)
            try await ensure(record?.index == 6, "the erasure event is not record 6")
            try await ensure(
                try await store.audit.payload(commitment: commitment) == nil, "the payload is still stored")
            try await ensure(
                try await store.audit.erasePayload(commitment: commitment, erasure: erasure) == nil, "erased twice")
            let signer = try AuditFixtures.signer()
            let report = try await AuditVerifier.verify(store: store.audit, verifier: signer.verifier)
            try await ensure(report.erased.map(\.erasedBy) == [6], "erasure not reported: \(report.erased)")
        }
    }
}

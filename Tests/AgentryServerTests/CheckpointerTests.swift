import AgentryAudit
import AgentryServer
import AgentryStore
import AgentryTesting
import Foundation
import Testing

/// Two instances signing checkpoints of one log: one at a time, never conflicting, always verifiable.
@Suite("Checkpoint signing")
struct CheckpointerTests {
    @Test(arguments: TestBackend.allCases)
    func twoInstancesSignOneConsistentSequence(_ backend: TestBackend) async throws {
        let signer = try AuditFixtures.signer()
        let files = try TemporaryDirectory(prefix: "agentry-checkpoints")
        defer { files.remove() }
        try await StoreFixture.withLocation(backend) { location in
            let first = try await StoreFixture.open(location)
            let second = try await StoreFixture.open(location)
            _ = try await first.migrate()
            let checkpointers = [first, second].enumerated().map { number, store in
                AuditCheckpointer(
                    store: store.audit, signer: signer,
                    file: CheckpointFile(path: files.file("instance-\(number).jsonl")),
                    logger: StoreFixture.quietLogger, clock: { 0 })
            }
            for round in 0..<5 {
                _ = try await first.audit.append((0..<3).map { AuditFixtures.append(round * 3 + $0) })
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for checkpointer in checkpointers { group.addTask { try await checkpointer.checkpoint() } }
                    try await group.waitForAll()
                }
            }
            let stored = try await first.audit.checkpoints()
            let report = try await AuditVerifier.verify(store: first.audit, verifier: signer.verifier)
            try await first.close()
            try await second.close()
            #expect(stored.map(\.size) == [3, 6, 9, 12, 15], "checkpoint sizes \(stored.map(\.size))")
            #expect(report.checkpoints == 5)
            let filed = try (0..<2).compactMap {
                try CheckpointFile(path: files.file("instance-\($0).jsonl")).latestNote()
            }
            #expect(!filed.isEmpty)
            for note in filed { #expect(try Checkpoint.open(note, verifier: signer.verifier).size <= 15) }
        }
    }
}

import AgentryAudit
import AgentryTesting
import Testing

/// Verification from a trusted checkpoint re-hashes only what came after it, and still catches tampering.
@Suite("Incremental audit verification")
struct IncrementalVerifyTests {
    @Test(arguments: TestBackend.allCases)
    func onlyTheTailIsRehashedYetTamperingIsCaught(_ backend: TestBackend) async throws {
        let signer = try AuditFixtures.signer()
        try await StoreFixture.withLocation(backend) { location in
            let trusted = try await StoreFixture.open(location).closing { store in
                _ = try await store.migrate()
                try await AuditFixtures.populate(store.audit, count: 20)
                let trusted = try await AuditFixtures.checkpoint(store.audit, signer: signer)
                try await AuditFixtures.populate(store.audit, count: 12)
                try await AuditFixtures.checkpoint(store.audit, signer: signer)
                let report = try await AuditVerifier.verify(
                    store: store.audit, verifier: signer.verifier, since: trusted)
                #expect(report.size == 32)
                #expect(report.checkpoints == 1)
                let full = try await AuditVerifier.verify(store: store.audit, verifier: signer.verifier)
                #expect(report.root == full.root)
                return trusted
            }
            try await AuditFixtures.dropAppendOnlyGuards(location)
            try await RawSQL.execute(
                "UPDATE audit_records SET leaf = replace(leaf, 'actor usr_', 'actor usx_') WHERE idx = 25", on: location
            )
            try await StoreFixture.open(location).closing { store in
                await #expect(throws: VerificationFailure.self) {
                    try await AuditVerifier.verify(store: store.audit, verifier: signer.verifier, since: trusted)
                }
                do {
                    _ = try await AuditVerifier.verify(store: store.audit, verifier: signer.verifier, since: trusted)
                } catch let failure as VerificationFailure {
                    #expect(AuditTampering.matches(failure, .leafMismatch(index: 25, reason: "")), "\(failure)")
                }
                let newer = Checkpoint(origin: trusted.origin, size: 40, root: trusted.root)
                await #expect(throws: VerificationFailure.truncation(checkpointSize: 40, logSize: 32)) {
                    try await AuditVerifier.verify(store: store.audit, verifier: signer.verifier, since: newer)
                }
                let forged = Checkpoint(origin: trusted.origin, size: 20, root: MerkleTree.recordHash([1]))
                await #expect(throws: VerificationFailure.consistency(checkpointSize: 20)) {
                    try await AuditVerifier.verify(store: store.audit, verifier: signer.verifier, since: forged)
                }
            }
        }
    }
}

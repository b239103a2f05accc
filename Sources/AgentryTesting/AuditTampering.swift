import AgentryAudit
import AgentryStore
import Foundation

/// Attacks on a stored audit log by someone with full database access; `AuditVerifier` must name each.
public enum AuditTampering {
    /// One attack: the SQL it runs on a 30-record log (checkpoint at 30) and the failure verify must report.
    public struct Attack: Sendable, CustomStringConvertible {
        public let name: String
        let statements: @Sendable (TestBackend) -> [String]
        public let expected: VerificationFailure
        /// Whether verify gets the checkpoint kept outside the database as trusted.
        let useTrusted: Bool
        public var description: String { name }
    }

    /// The attacks of the issue: modify, delete, swap, insert, truncate, change payload, drop payload, forge checkpoint.
    public static let attacks: [Attack] = [
        Attack(
            name: "modify a leaf",
            statements: { _ in
                ["UPDATE audit_records SET leaf = replace(leaf, 'actor usr_2', 'actor usr_9') WHERE idx = 12"]
            },
            expected: .leafMismatch(index: 12, reason: ""), useTrusted: false),
        Attack(
            name: "delete a leaf", statements: { _ in ["DELETE FROM audit_records WHERE idx = 7"] },
            expected: .leafMismatch(index: 7, reason: ""), useTrusted: false),
        Attack(
            name: "swap two leaves",
            statements: { _ in
                [
                    "UPDATE audit_records SET idx = idx + 1000000 WHERE idx IN (4, 10)",
                    "UPDATE audit_records SET idx = CASE idx WHEN 1000004 THEN 10 ELSE 4 END WHERE idx >= 1000000",
                ]
            }, expected: .leafMismatch(index: 4, reason: ""), useTrusted: false),
        Attack(
            name: "insert a leaf",
            statements: { _ in
                [
                    "INSERT INTO audit_records (idx, leaf) SELECT 30, leaf FROM audit_records WHERE idx = 29"
                ]
            }, expected: .leafMismatch(index: 30, reason: ""), useTrusted: false),
        Attack(
            name: "truncate the tail",
            statements: { _ in
                [
                    "DELETE FROM audit_records WHERE idx >= 27",
                    "DELETE FROM audit_hashes WHERE idx >= \(MerkleTree.storedHashCount(size: 27))",
                    "DELETE FROM audit_checkpoints", "DELETE FROM audit_payloads WHERE record_index >= 27",
                    "UPDATE audit_state SET size = 27",
                ]
            }, expected: .truncation(checkpointSize: 30, logSize: 27), useTrusted: true),
        Attack(
            name: "change a payload",
            statements: { backend in
                // SQLite stores payload bytes as a BLOB, PostgreSQL as base64 text.
                let content = backend == .sqlite ? "X'6d616c6c6f7279'" : "'bWFsbG9yeQ=='"
                return ["UPDATE audit_payloads SET content = \(content) WHERE record_index = 9 AND name = 'output'"]
            },
            expected: .payloadMismatch(index: 9, reason: ""), useTrusted: false),
        Attack(
            name: "change a payload to base64 text",
            statements: { _ in
                ["UPDATE audit_payloads SET content = 'bWFsbG9yeQ==' WHERE record_index = 12 AND name = 'input'"]
            },
            expected: .payloadMismatch(index: 12, reason: ""), useTrusted: false),
        Attack(
            name: "delete a payload without an erasure event",
            statements: { _ in ["DELETE FROM audit_payloads WHERE record_index = 15 AND name = 'input'"] },
            expected: .payloadMismatch(index: 15, reason: ""), useTrusted: false),
        Attack(
            name: "forge a checkpoint",
            statements: { _ in ["UPDATE audit_checkpoints SET note = replace(note, '\n30\n', '\n29\n')"] },
            expected: .signature(checkpointSize: 30), useTrusted: false),
    ]

    /// Builds a 30-record log with a checkpoint, runs `attack` as raw SQL, and returns what verify reports.
    public static func run(_ attack: Attack, on backend: TestBackend) async throws -> VerificationFailure? {
        let signer = try AuditFixtures.signer()
        return try await StoreFixture.withLocation(backend) { location in
            let trusted = try await StoreFixture.open(location).closing { store in
                _ = try await store.migrate()
                try await AuditFixtures.populate(store.audit, count: 30)
                return try await AuditFixtures.checkpoint(store.audit, signer: signer)
            }
            try await AuditFixtures.dropAppendOnlyGuards(location)
            for statement in attack.statements(backend) { try await RawSQL.execute(statement, on: location) }
            return try await StoreFixture.open(location).closing { store in
                do {
                    _ = try await AuditVerifier.verify(
                        store: store.audit, verifier: signer.verifier, trusted: attack.useTrusted ? trusted : nil)
                    return nil
                } catch let failure as VerificationFailure {
                    return failure
                }
            }
        }
    }

    /// Whether `found` is the expected failure class at the expected index (reasons may differ).
    public static func matches(_ found: VerificationFailure?, _ expected: VerificationFailure) -> Bool {
        switch (found, expected) {
        case (.leafMismatch(let a, _), .leafMismatch(let b, _)),
            (.payloadMismatch(let a, _), .payloadMismatch(let b, _)):
            a == b
        default: found == expected
        }
    }
}

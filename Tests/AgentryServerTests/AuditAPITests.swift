import AgentryAudit
import AgentryServer
import AgentryTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("Audit API")
struct AuditAPITests {
    @Test(arguments: TestBackend.allCases)
    func identityChangesAreRecordedAndReceiptsVerifyOffline(_ backend: TestBackend) async throws {
        try await ServerFixture.with(backend) { fixture in
            try await fixture.application().test(.router) { client in
                let token = fixture.adminToken
                let team = try await client.call(
                    .post, "/api/v1/teams", token: token, body: #"{"name":"ops","department":"IT"}"#)
                let teamID = try #require(team.json["id"] as? String)
                let created = try await client.call(.post, "/api/v1/tokens", token: token, body: #"{"name":"ci"}"#)
                let tokenID = try #require((created.json["record"] as? [String: Any])?["id"] as? String)
                _ = try await client.call(.delete, "/api/v1/tokens/\(tokenID)", token: token)
                let teams = try await client.call(.get, "/api/v1/audit/records?kind=team.created", token: token)
                #expect(teams.items.count == 1)
                let event = try #require(teams.items.first?["event"] as? [String: Any])
                #expect(event["subject"] as? String == teamID)
                #expect(event["actor"] as? String == fixture.admin.id)
                let all = try await client.call(.get, "/api/v1/audit/records", token: token)
                #expect(
                    all.items.compactMap { ($0["event"] as? [String: Any])?["kind"] as? String } == [
                        "user.signed_in", "team.created", "token.created", "token.revoked",
                    ])
                #expect(!all.text.contains("agt_pat_"), "no secret in the audit log")
                let receipt = try await client.call(.get, "/api/v1/audit/records/1", token: token)
                #expect(receipt.status == .ok, "\(receipt.text)")
                try Self.checkReceipt(receipt.json, index: 1, verifier: fixture.verifier)
            }
        }
    }

    /// Checks a receipt the way an auditor would, with nothing but the verifier key.
    static func checkReceipt(_ receipt: [String: Any], index: Int64, verifier: NoteVerifier) throws {
        let record = try #require(receipt["record"] as? [String: Any])
        let leaf = try #require(record["leaf"] as? String)
        let note = try #require((receipt["checkpoint"] as? [String: Any])?["note"] as? String)
        let checkpoint = try Checkpoint.open(note, verifier: verifier)
        let proof = try #require(receipt["inclusion_proof"] as? [String]).compactMap(LogHash.init(base64:))
        try MerkleTree.checkInclusion(
            proof: proof, size: checkpoint.size, root: checkpoint.root, index: index,
            recordHash: MerkleTree.recordHash(Array(leaf.utf8)))
    }

    @Test func consistencyProofsLinkTwoCheckpoints() async throws {
        try await ServerFixture.with(.sqlite) { fixture in
            try await AuditFixtures.populate(fixture.store.audit, count: 5)
            try await fixture.application().test(.router) { client in
                let token = fixture.adminToken
                let first = try await client.call(.post, "/api/v1/audit/checkpoint", token: token)
                try await AuditFixtures.populate(fixture.store.audit, count: 9)
                let second = try await client.call(.post, "/api/v1/audit/checkpoint", token: token)
                let old = try Checkpoint.open(try #require(first.json["note"] as? String), verifier: fixture.verifier)
                let new = try Checkpoint.open(try #require(second.json["note"] as? String), verifier: fixture.verifier)
                // The first request's sign-in is the sixth record.
                #expect((old.size, new.size) == (6, 15))
                let proof = try await client.call(.get, "/api/v1/audit/consistency?from=6&to=15", token: token)
                let hashes = try #require(proof.json["proof"] as? [String]).compactMap(LogHash.init(base64:))
                try MerkleTree.checkConsistency(proof: hashes, size: 15, root: new.root, oldSize: 6, oldRoot: old.root)
                for query in ["from=0", "from=16", "from=6&to=5", "from=x", "to=99&from=1"] {
                    expectError(
                        try await client.call(.get, "/api/v1/audit/consistency?\(query)", token: token), .badRequest,
                        "invalid_query")
                }
            }
        }
    }

    @Test(arguments: TestBackend.allCases)
    func erasureRemovesThePayloadAndIsItselfRecorded(_ backend: TestBackend) async throws {
        try await ServerFixture.with(backend) { fixture in
            try await AuditFixtures.populate(fixture.store.audit, count: 3)
            let commitment = try await fixture.store.audit.records(from: 0, count: 1)[0].event().payloads[0].hash.hex
            let path = "/api/v1/audit/records/0/payloads/input"
            let (_, auditor) = try await fixture.member("auditor@example.com", roles: [.auditor])
            try await fixture.application().test(.router) { client in
                let payload = try await client.call(.get, path, token: auditor)
                #expect(Base64Text.decode(payload.json["content"] as? String ?? "") == Array("prompt 0".utf8))
                expectError(
                    try await client.call(
                        .post, "\(path)/erase", token: auditor, body: #"{"reason":"x"}"#),
                    .forbidden, "forbidden")
                expectError(
                    try await client.call(
                        .post, "\(path)/erase", token: fixture.adminToken, body: "{}"),
                    .badRequest, "invalid_field")
                let erased = try await client.call(
                    .post, "\(path)/erase", token: fixture.adminToken,
                    body: #"{"reason":"GDPR request 2026-118 from the data subject"}"#)
                #expect(erased.status == .created, "\(erased.text)")
                #expect((erased.json["event"] as? [String: Any])?["erases"] as? String == commitment)
                expectError(
                    try await client.call(.get, path, token: auditor), .notFound,
                    "payload_not_found")
                expectError(
                    try await client.call(
                        .post, "\(path)/erase", token: fixture.adminToken,
                        body: #"{"reason":"again"}"#),
                    .notFound, "payload_not_found")
                #expect(payload.json["commitment"] as? String == commitment)
                for bad in ["/api/v1/audit/records/x/payloads/input", "/api/v1/audit/records/-1/payloads/input"] {
                    expectError(try await client.call(.get, bad, token: auditor), .badRequest, "invalid_query")
                }
                for absent in ["/api/v1/audit/records/1/payloads/input", "/api/v1/audit/records/0/payloads/nope"] {
                    expectError(try await client.call(.get, absent, token: auditor), .notFound, "payload_not_found")
                }
            }
            let report = try await AuditVerifier.verify(store: fixture.store.audit, verifier: fixture.verifier)
            #expect(report.erased.count == 1)
        }
    }

    @Test func badQueriesAndRolesAreRefused() async throws {
        try await ServerFixture.with(.sqlite) { fixture in
            let (_, member) = try await fixture.member("m@example.com")
            try await fixture.application().test(.router) { client in
                for path in ["/api/v1/audit/checkpoint", "/api/v1/audit/records", "/api/v1/audit/records/0"] {
                    expectError(try await client.call(.get, path, token: member), .forbidden, "forbidden")
                }
                let token = fixture.adminToken
                for query in ["kind=user.exploded", "limit=0", "limit=1001", "from=-1", "since=yesterday"] {
                    expectError(
                        try await client.call(.get, "/api/v1/audit/records?\(query)", token: token), .badRequest,
                        "invalid_query")
                }
                expectError(
                    try await client.call(.get, "/api/v1/audit/records/999", token: token), .notFound,
                    "record_not_found")
                expectError(
                    try await client.call(.get, "/api/v1/audit/records/-3", token: token), .badRequest, "invalid_query")
            }
        }
    }

    @Test func aTruncatedLogIsRefusedAtStartAndReadinessFails() async throws {
        try await ServerFixture.with(.sqlite) { fixture in
            try await AuditFixtures.populate(fixture.store.audit, count: 10)
            try await fixture.checkpointer.checkpoint()
            try await AuditFixtures.dropAppendOnlyGuards(fixture.location)
            for statement in [
                "DELETE FROM audit_records WHERE idx >= 8",
                "DELETE FROM audit_hashes WHERE idx >= \(MerkleTree.storedHashCount(size: 8))",
                "DELETE FROM audit_checkpoints", "UPDATE audit_state SET size = 8",
            ] { try await RawSQL.execute(statement, on: fixture.location) }
            try await fixture.checkpointer.checkAgainstFile()
            #expect(await fixture.checkpointer.problem?.contains("truncated") == true)
            try await fixture.application().test(.router) { client in
                expectError(try await client.call(.get, "/readyz"), .serviceUnavailable, "audit_inconsistent")
                expectError(
                    try await client.call(.post, "/api/v1/audit/checkpoint", token: fixture.adminToken),
                    .serviceUnavailable, "audit_inconsistent")
            }
        }
    }
}

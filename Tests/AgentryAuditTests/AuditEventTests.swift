import AgentryAudit
import Testing

@Suite("Audit events")
struct AuditEventTests {
    static let commitment = PayloadCommitment.commit(
        payload: Array("hello".utf8), salt: [UInt8](repeating: 7, count: 32))

    static let full = AuditEvent(
        time: 1_790_000_000_123, kind: .modelCall, actor: "usr_abc", agent: "invoice-reconciler", agentVersion: "1.2.0",
        run: "run_xyz", outcome: "ok", model: "gpt-4o-mini", inputTokens: 1200, outputTokens: 80, costMicrodollars: 420,
        payloads: [
            PayloadCommitment(name: "output", hash: commitment), PayloadCommitment(name: "input", hash: commitment),
        ])

    @Test func encodingIsCanonicalAndRoundTrips() throws {
        let bytes = try Self.full.encoded()
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.hasPrefix("agentry-audit/v1\ntime 1790000000123\nkind model.call\nactor usr_abc\n"))
        #expect(text.contains("payload input \(Self.commitment.hex)\npayload output"))
        #expect(try AuditEvent(leaf: bytes) == Self.full)
        #expect(try AuditEvent(leaf: bytes).encoded() == bytes)
        let minimal = AuditEvent(time: 0, kind: .teamCreated, actor: "system", subject: "team_1")
        #expect(try AuditEvent(leaf: minimal.encoded()) == minimal)
    }

    @Test(arguments: [
        "agentry-audit/v1\ntime 1\nkind user.created\nactor a\n\n",
        "agentry-audit/v2\ntime 1\nkind user.created\nactor a\n",
        "agentry-audit/v1\ntime 01\nkind user.created\nactor a\n",
        "agentry-audit/v1\ntime 1\nkind user.exploded\nactor a\n",
        "agentry-audit/v1\nkind user.created\ntime 1\nactor a\n",
        "agentry-audit/v1\ntime 1\nkind user.created\nactor a\nactor b\n",
        "agentry-audit/v1\ntime 1\nkind user.created\nactor a\nnote hello\n",
        "agentry-audit/v1\ntime 1\nkind user.created\nactor a",
        "agentry-audit/v1\ntime 1\nkind user.created\nactor a b\n",
        "agentry-audit/v1\ntime -1\nkind user.created\nactor a\n",
    ])
    func nonCanonicalLeavesAreRejected(_ text: String) {
        #expect(throws: AuditEncodingError.self) { try AuditEvent(leaf: Array(text.utf8)) }
    }

    /// Whatever the parser accepts must be exactly what the encoder produces for the parsed event.
    @Test func mutatedLeavesAreEitherRejectedOrCanonical() throws {
        let original = try Self.full.encoded()
        var generator = SplitMix(seed: 9162)
        var accepted = 0
        for _ in 0..<5000 {
            var bytes = original
            let position = Int(generator.next() % UInt64(bytes.count))
            switch generator.next() % 3 {
            case 0: bytes[position] = UInt8(truncatingIfNeeded: generator.next())
            case 1: bytes.remove(at: position)
            default: bytes.insert(Array(" \n0a9_-.:".utf8)[Int(generator.next() % 9)], at: position)
            }
            guard let event = try? AuditEvent(leaf: bytes) else { continue }
            accepted += 1
            #expect(
                try event.encoded() == bytes, "accepted a non-canonical leaf: \(String(decoding: bytes, as: UTF8.self))"
            )
        }
        #expect(accepted > 0, "some mutations (e.g. inside identifiers) stay canonical")
    }

    @Test func freeTextAndSecretsCannotEnterAHeader() {
        for actor in ["", "Ada Lovelace", "line\nbreak", "agt_pat_" + String(repeating: "x", count: 130), "semi;colon"]
        {
            #expect(throws: AuditEncodingError.self) {
                try AuditEvent(time: 1, kind: .userCreated, actor: actor).encoded()
            }
        }
        #expect(throws: AuditEncodingError.self) {
            try AuditEvent(time: 1, kind: .modelCall, actor: "a", inputTokens: -1).encoded()
        }
        let duplicate = PayloadCommitment(name: "input", hash: Self.commitment)
        #expect(throws: AuditEncodingError.self) {
            try AuditEvent(time: 1, kind: .modelCall, actor: "a", payloads: [duplicate, duplicate]).encoded()
        }
    }

    @Test func commitmentsDependOnSaltAndPayload() {
        let salt = PayloadCommitment.newSalt()
        let other = PayloadCommitment.newSalt()
        #expect(salt != other)
        let payload = Array("the same payload".utf8)
        #expect(
            PayloadCommitment.commit(payload: payload, salt: salt)
                == PayloadCommitment.commit(payload: payload, salt: salt))
        #expect(
            PayloadCommitment.commit(payload: payload, salt: salt)
                != PayloadCommitment.commit(payload: payload, salt: other))
        #expect(
            PayloadCommitment.commit(payload: payload, salt: salt)
                != PayloadCommitment.commit(payload: payload + [0], salt: salt))
        #expect(PayloadCommitment.commit(payload: payload, salt: salt) != MerkleTree.recordHash(salt + payload))
    }
}

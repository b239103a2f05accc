import AgentryAudit
import AgentryTesting
import Testing

/// The audit store contract and every kind of tampering, on SQLite and PostgreSQL.
@Suite("Audit store")
struct AuditStoreTests {
    @Test(arguments: AuditConformance.cases, TestBackend.allCases)
    func conformance(_ check: ConformanceCase, _ backend: TestBackend) async throws {
        try await check.run(backend)
    }

    @Test(arguments: AuditTampering.attacks, TestBackend.allCases)
    func tamperingIsDetected(_ attack: AuditTampering.Attack, _ backend: TestBackend) async throws {
        let found = try await AuditTampering.run(attack, on: backend)
        #expect(
            AuditTampering.matches(found, attack.expected),
            "expected \(attack.expected), verify reported \(String(describing: found))")
        if let found { #expect(found.exitCode == attack.expected.exitCode) }
    }
}

import AgentryTesting
import Testing

/// The ledger contract on SQLite and PostgreSQL: caps hold under races, resolutions happen once.
@Suite("Ledger store")
struct LedgerStoreTests {
    @Test(arguments: LedgerConformance.cases, TestBackend.allCases)
    func conformance(_ check: ConformanceCase, _ backend: TestBackend) async throws {
        try await check.run(backend)
    }
}

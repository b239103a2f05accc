import AgentryStore
import AgentryTesting
import Testing

/// The shared store contract, run against SQLite and PostgreSQL alike.
@Suite("Store conformance")
struct ConformanceTests {
    @Test(arguments: IdentityConformance.cases, TestBackend.allCases)
    func identity(_ check: ConformanceCase, _ backend: TestBackend) async throws {
        try await check.run(backend)
    }

    @Test(arguments: MigrationConformance.cases, TestBackend.allCases)
    func migrations(_ check: ConformanceCase, _ backend: TestBackend) async throws {
        try await check.run(backend)
    }

    @Test(arguments: SandboxConformance.cases, TestBackend.allCases)
    func sandboxes(_ check: ConformanceCase, _ backend: TestBackend) async throws {
        try await check.run(backend)
    }

    @Test(arguments: RegistryConformance.cases, TestBackend.allCases)
    func registry(_ check: ConformanceCase, _ backend: TestBackend) async throws {
        try await check.run(backend)
    }

    @Test func bothBackendsReachTheSameLogicalSchema() async throws {
        let sqlite = try await StoreFixture.withStore(.sqlite) { try await $0.logicalSchema() }
        let postgres = try await StoreFixture.withStore(.postgres) { try await $0.logicalSchema() }
        #expect(sqlite == postgres, "SQLite:\n\(sqlite)\n\nPostgreSQL:\n\(postgres)")
        #expect(
            sqlite.tables.map(\.name) == [
                "agent_packages", "agent_state_changes", "agent_versions", "agents", "audit_checkpoints",
                "audit_hashes",
                "audit_index",
                "audit_index_state", "audit_outbox",
                "audit_payloads",
                "audit_records", "audit_state", "catalog_entries", "catalog_revision", "gateway_credentials",
                "gateway_settings",
                "ledger_accounts",
                "ledger_caps", "ledger_reservations",
                "ledger_settings", "ownership_transfers", "policy_revisions", "review_events", "run_events", "runs",
                "sandboxes",
                "schema_migrations", "sign_ins", "submissions",
                "teams", "tokens", "user_roles", "users",
            ])
        let users = try #require(sqlite.tables.first { $0.name == "users" })
        #expect(users.uniques == [["email"]])
        #expect(users.checks == ["users_email_lowercase"])
        #expect(users.foreignKeys == ["team_id -> teams(id) on delete NO ACTION"])
    }
}

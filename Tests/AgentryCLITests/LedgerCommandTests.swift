import AgentryAudit
import AgentryLedger
import AgentryServer
import AgentryTesting
import Foundation
import Testing

/// `agentry caps` against a real server, and `agentry ledger verify` against the store it leaves.
@Suite("agentry caps and ledger", .serialized)
struct LedgerCommandTests {
    @Test func capsAreSetAndListedAndTheLedgerVerifies() async throws {
        try await StoreFixture.withLocation(.sqlite) { location in
            let server = try RunningProcess(["serve", "--port", "0"] + location.serveArguments)
            defer { server.stop() }
            let (url, token) = try await ServeProcessTests.started(server)
            let secret = try #require(token)
            let auth = ["--server", url, "--token", secret]
            let set = try await AgentryProcess.run(
                ["caps", "set", "team:finance", "--daily", "50", "--monthly", "500.25"] + auth)
            #expect(set.status == 0, "stderr: \(set.stderr)")
            let list = try await AgentryProcess.run(["caps", "list"] + auth)
            #expect(list.stdout.contains("team:finance  day     $50.00"), "\(list.stdout)")
            #expect(list.stdout.contains("$500.25"))
            for (arguments, message) in [
                (["caps", "set", "team:finance"], "at least one of"),
                (["caps", "set", "team:finance", "--daily", "abc"], "dollar amount"),
                (["caps", "set", "galaxy:far", "--daily", "5"], "invalid scope"),
                (["caps", "set", "run:r1", "--daily", "5"], "day"),
            ] {
                let refused = try await AgentryProcess.run(arguments + auth)
                #expect(refused.status != 0, "\(arguments) succeeded")
                #expect(refused.stderr.contains(message), "\(arguments): \(refused.stderr)")
            }
            let removed = try await AgentryProcess.run(["caps", "remove", "team:finance", "day"] + auth)
            #expect(removed.status == 0, "stderr: \(removed.stderr)")
            server.signal(SIGTERM)
            _ = try await server.wait(timeout: .seconds(30))

            let store = try await StoreFixture.open(location)
            let ledger = Ledger(store: store.ledger, clock: { Date() })
            let team = try LedgerScope(parsing: "team:finance")
            _ = try await ledger.reserve(
                ReservationRequest(id: "r1", amount: Microdollars(2_000_000), scopes: [team], expiresAt: Date() + 600))
            _ = try await ledger.settle(id: "r1", actual: Microdollars(1_250_000))
            try await store.close()
            let clean = try await AgentryProcess.run(["ledger", "verify"] + location.serveArguments)
            #expect(clean.status == 0, "stderr: \(clean.stderr)")
            #expect(clean.stdout.contains("Verified 2 accounts"), "\(clean.stdout)")
            try await RawSQL.execute(
                "UPDATE ledger_accounts SET settled = settled + 1 WHERE period = 'day'", on: location)
            let drifted = try await AgentryProcess.run(["ledger", "verify"] + location.serveArguments)
            #expect(drifted.status == 20, "stderr: \(drifted.stderr)")
            #expect(drifted.stderr.contains("drift at team:finance/day"), "\(drifted.stderr)")
        }
    }

    @Test func instancesShareTheTimeZoneTheFirstOneStored() async throws {
        try await StoreFixture.withLocation(.sqlite) { location in
            let serve = ["serve", "--port", "0"] + location.serveArguments
            let first = try RunningProcess(serve + ["--ledger-time-zone", "Europe/Berlin"])
            defer { first.stop() }
            _ = try await ServeProcessTests.started(first)
            first.signal(SIGTERM)
            _ = try await first.wait(timeout: .seconds(30))

            let other = try await AgentryProcess.run(serve + ["--ledger-time-zone", "UTC"])
            #expect(other.status != 0, "an instance counting days in another zone started")
            #expect(
                other.stderr.contains("ledger.time_zone") && other.stderr.contains("Europe/Berlin"), "\(other.stderr)")
            let unset = try RunningProcess(serve)
            defer { unset.stop() }
            _ = try await ServeProcessTests.started(unset)
            unset.signal(SIGTERM)
            let ended = try await unset.wait(timeout: .seconds(30))
            #expect(ended.stderr.contains("ledger.time_zone_from_store"), "\(ended.stderr)")

            let shown = try await AgentryProcess.run(["ledger", "time-zone"] + location.serveArguments)
            #expect(shown.status == 0 && shown.stdout.contains("Europe/Berlin"), "\(shown.stdout) \(shown.stderr)")
            let bad = try await AgentryProcess.run(["ledger", "time-zone", "Mars/Olympus"] + location.serveArguments)
            #expect(bad.status == 64 && bad.stderr.contains("Mars/Olympus"), "\(bad.stderr)")
            let changed = try await AgentryProcess.run(["ledger", "time-zone", "UTC"] + location.serveArguments)
            #expect(changed.status == 0, "\(changed.stderr)")
            // The same zone again (by another name) changes nothing and records nothing.
            let again = try await AgentryProcess.run(["ledger", "time-zone", "Etc/UTC"] + location.serveArguments)
            #expect(again.status == 0 && again.stdout.contains("counted in UTC"), "\(again.stdout) \(again.stderr)")
            let now = try RunningProcess(serve + ["--ledger-time-zone", "UTC"])
            defer { now.stop() }
            _ = try await ServeProcessTests.started(now)
            now.signal(SIGTERM)
            _ = try await now.wait(timeout: .seconds(30))
            let store = try await StoreFixture.open(location)
            // What a running instance's drainer does 10 s after the change: append it from the outbox.
            _ = try await AuditOutboxDrainer(
                store: store.audit, log: AuditLog(store: store.audit, clock: { 0 }), grace: 0,
                clock: { Int64(Date().timeIntervalSince1970 * 1000) + 1 }
            ).drain()
            let recorded = try await store.audit.records(
                matching: AuditFilter(kind: .ledgerTimeZoneChanged), from: 0, count: 10)
            try await store.close()
            #expect(recorded.count == 1, "the change was not recorded: \(recorded.count)")
        }
    }
}

import AgentryAudit
import AgentryLedger
import AgentryTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// `/api/v1/caps`: roles, exact dollar parsing, bad input, and a `cap.changed` record per change.
@Suite("Caps API")
struct CapsAPITests {
    @Test(arguments: TestBackend.allCases)
    func capsAreSetListedRemovedAndRecorded(_ backend: TestBackend) async throws {
        try await ServerFixture.with(backend) { fixture in
            let (_, finance) = try await fixture.member("fin@example.com", roles: [.finance])
            let (_, auditor) = try await fixture.member("aud@example.com", roles: [.auditor])
            let (_, member) = try await fixture.member("m@example.com")
            try await fixture.application().test(.router) { client in
                let set = try await client.call(
                    .put, "/api/v1/caps/team:finance/day", token: finance, body: #"{"limit":"50"}"#)
                #expect(set.status == .ok, "\(set.text)")
                #expect(set.json["limit"] as? String == "$50.00" && set.json["limit_micros"] as? Int == 50_000_000)
                _ = try await client.call(
                    .put, "/api/v1/caps/run:run_1/run", token: fixture.adminToken, body: #"{"limit":"0.12"}"#)
                let listed = try await client.call(.get, "/api/v1/caps", token: auditor)
                #expect(
                    listed.items.map { "\($0["scope"]!)/\($0["window"]!)=\($0["limit"]!)" } == [
                        "run:run_1/run=$0.12", "team:finance/day=$50.00",
                    ])
                expectError(
                    try await client.call(.put, "/api/v1/caps/org/day", token: auditor, body: #"{"limit":"1"}"#),
                    .forbidden, "forbidden")
                expectError(try await client.call(.get, "/api/v1/caps", token: member), .forbidden, "forbidden")
                let bad: [(String, String, String)] = [
                    ("/api/v1/caps/team:finance/day", #"{"limit":"-1"}"#, "invalid_field"),
                    ("/api/v1/caps/team:finance/day", #"{"limit":"1e3"}"#, "invalid_field"),
                    ("/api/v1/caps/team:finance/day", #"{"limit":"0.0000001"}"#, "invalid_field"),
                    ("/api/v1/caps/team:finance/day", #"{"limit":50}"#, "invalid_field"),
                    ("/api/v1/caps/team:finance/day", #"{"limit":"5","extra":1}"#, "unknown_field"),
                    ("/api/v1/caps/team:finance/day", #"{"limit":"99999999999999"}"#, "invalid_field"),
                    ("/api/v1/caps/galaxy:x/day", #"{"limit":"5"}"#, "invalid_scope"),
                    ("/api/v1/caps/team:has%20space/day", #"{"limit":"5"}"#, "invalid_scope"),
                    ("/api/v1/caps/team:finance/week", #"{"limit":"5"}"#, "invalid_query"),
                    ("/api/v1/caps/run:r/day", #"{"limit":"5"}"#, "invalid_request"),
                    ("/api/v1/caps/team:finance/run", #"{"limit":"5"}"#, "invalid_request"),
                ]
                for (path, body, code) in bad {
                    let reply = try await client.call(.put, path, token: fixture.adminToken, body: body)
                    #expect(reply.status == .badRequest && reply.errorCode == code, "\(path) \(body): \(reply.text)")
                }
                let removed = try await client.call(.delete, "/api/v1/caps/team:finance/day", token: finance)
                #expect(removed.status == .noContent)
                let after = try await client.call(.get, "/api/v1/caps", token: fixture.adminToken)
                #expect(after.items.count == 1)
                // Several windows of one scope at once: all or none.
                let both = try await client.call(
                    .put, "/api/v1/caps/agent:helper", token: finance, body: #"{"day":"5","month":"100.5"}"#)
                #expect(both.status == .ok, "\(both.text)")
                #expect(both.items.map { "\($0["window"]!)=\($0["limit"]!)" } == ["day=$5.00", "month=$100.50"])
                for (body, code) in [
                    (#"{"day":"5","run":"1"}"#, "invalid_request"), (#"{"day":"5","month":"x"}"#, "invalid_field"),
                    ("{}", "invalid_field"), (#"{"week":"5"}"#, "unknown_field"),
                ] {
                    let refused = try await client.call(
                        .put, "/api/v1/caps/team:ops", token: finance, body: body)
                    #expect(refused.status == .badRequest && refused.errorCode == code, "\(body): \(refused.text)")
                }
                let listed2 = try await client.call(.get, "/api/v1/caps", token: fixture.adminToken)
                #expect(listed2.items.count == 3, "a refused change of several windows stored some: \(listed2.text)")
            }
            let changes = try await fixture.store.audit.records(
                matching: AuditFilter(kind: .capChanged), from: 0, count: 10
            ).map { try $0.event() }
            #expect(
                changes.map(\.subject) == [
                    "team:finance/day", "run:run_1/run", "team:finance/day", "agent:helper/day", "agent:helper/month",
                ])
            #expect(changes.map(\.outcome) == ["set", "set", "removed", "set", "set"])
            #expect(changes.map(\.costMicrodollars) == [50_000_000, 120_000, nil, 5_000_000, 100_500_000])
            #expect(try await fixture.store.ledger.caps().count == 3, "a refused change was stored")
        }
    }

    @Test(arguments: TestBackend.allCases)
    func spendIsListedPerScopeAndWindowWithInFlightApart(_ backend: TestBackend) async throws {
        try await ServerFixture.with(backend) { fixture in
            let ledger = Ledger(store: fixture.store.ledger, clock: { Date() })
            let team = try LedgerScope(parsing: "team:finance")
            let agent = try LedgerScope(parsing: "agent:helper")
            _ = try await ledger.reserve(
                ReservationRequest(
                    id: "s1", amount: Microdollars(500_000), scopes: [team, agent], expiresAt: Date() + 60,
                    attribution: SpendAttribution(model: "gpt-test", zone: "sandbox")))
            _ = try await ledger.settle(id: "s1", actual: Microdollars(120_000))
            _ = try await ledger.reserve(
                ReservationRequest(id: "s2", amount: Microdollars(300_000), scopes: [team], expiresAt: Date() + 60))
            let (_, member) = try await fixture.member("m@example.com")
            try await fixture.application().test(.router) { client in
                let teams = try await client.call(.get, "/api/v1/spend?window=day&kind=team", token: fixture.adminToken)
                #expect(teams.status == .ok, "\(teams.text)")
                #expect(teams.items.count == 1)
                #expect(teams.items.first?["settled"] as? String == "$0.12")
                #expect(teams.items.first?["in_flight_micros"] as? Int == 300_000)
                #expect(teams.items.first?["window_start"] is String)
                let one = try await client.call(
                    .get, "/api/v1/spend?window=month&scope=agent:helper", token: fixture.adminToken)
                #expect(one.items.map { $0["scope"] as? String } == ["agent:helper"])
                #expect(one.items.first?["in_flight"] as? String == "$0.00")
                let all = try await client.call(.get, "/api/v1/spend?window=day", token: fixture.adminToken)
                #expect(all.items.count == 2)
                expectError(
                    try await client.call(.get, "/api/v1/spend?window=day", token: member), .forbidden, "forbidden")
                for query in ["", "window=week", "window=day&kind=galaxy", "window=day&since=-1", "window=day&limit=0"]
                {
                    expectError(
                        try await client.call(.get, "/api/v1/spend?\(query)", token: fixture.adminToken), .badRequest,
                        "invalid_query")
                }
                expectError(
                    try await client.call(.get, "/api/v1/spend?window=day&scope=bad", token: fixture.adminToken),
                    .badRequest, "invalid_scope")
                let models = try await client.call(.get, "/api/v1/spend/by/model", token: fixture.adminToken)
                #expect(models.status == .ok, "\(models.text)")
                #expect(
                    models.items.map { "\($0["key"] ?? "-")=\($0["settled"]!)+\($0["in_flight"]!)" } == [
                        "gpt-test=$0.12+$0.00", "-=$0.00+$0.30",
                    ], "\(models.text)")
                let daily = try await client.call(.get, "/api/v1/spend/by/model?per=day", token: fixture.adminToken)
                #expect(
                    daily.items.count == 2 && daily.items.allSatisfy { $0["window_start"] is String }, "\(daily.text)")
                let none = try await client.call(
                    .get, "/api/v1/spend/by/zone?since=0&until=1", token: fixture.adminToken)
                #expect(none.items.isEmpty)
                for bad in [
                    "/api/v1/spend/by/colour", "/api/v1/spend/by/model?since=x", "/api/v1/spend/by/model?until=-4",
                    "/api/v1/spend/by/model?per=run", "/api/v1/spend/by/model?per=week",
                ] {
                    expectError(
                        try await client.call(.get, bad, token: fixture.adminToken), .badRequest, "invalid_query")
                }
                expectError(
                    try await client.call(.get, "/api/v1/spend/by/model", token: member), .forbidden, "forbidden")
            }
        }
    }
}

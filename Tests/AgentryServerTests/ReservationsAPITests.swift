import AgentryLedger
import AgentryTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// `/api/v1/reservations`: the two phases over HTTP, idempotent repeats, caps that refuse, roles,
/// and bad input that changes nothing.
@Suite("Reservations API")
struct ReservationsAPITests {
    @Test(arguments: TestBackend.allCases)
    func reservationsAreHeldSettledReleasedAndRepeatedSafely(_ backend: TestBackend) async throws {
        try await ServerFixture.with(backend) { fixture in
            let (_, finance) = try await fixture.member("fin@example.com", roles: [.finance])
            let admin = fixture.adminToken
            try await fixture.application().test(.router) { client in
                _ = try await client.call(.put, "/api/v1/caps/team:finance/day", token: admin, body: #"{"limit":"1"}"#)
                let body =
                    #"{"id":"rsv_1","amount":"0.60","scopes":["org","team:finance"],"ttl_seconds":60,"model":"gpt-test"}"#
                let made = try await client.call(.post, "/api/v1/reservations", token: admin, body: body)
                #expect(made.status == .created, "\(made.text)")
                #expect(made.json["state"] as? String == "pending" && made.json["amount_micros"] as? Int == 600_000)
                #expect((made.json["accounts"] as? [String])?.count == 4)
                let again = try await client.call(.post, "/api/v1/reservations", token: admin, body: body)
                #expect(again.status == .ok && again.json["repeated"] as? Bool == true, "\(again.text)")
                expectError(
                    try await client.call(
                        .post, "/api/v1/reservations", token: admin,
                        body: #"{"id":"rsv_1","amount":"0.61","scopes":["org","team:finance"]}"#),
                    .conflict, "exists_with_different_amount")
                let refused = try await client.call(
                    .post, "/api/v1/reservations", token: admin,
                    body: #"{"id":"rsv_2","amount":"0.50","scopes":["team:finance"]}"#)
                expectError(refused, .tooManyRequests, "cap_exceeded")
                #expect(refused.text.contains("team:finance") && refused.text.contains("$0.40"), "\(refused.text)")
                let settled = try await client.call(
                    .post, "/api/v1/reservations/rsv_1/settle", token: admin, body: #"{"actual":"0.25"}"#)
                #expect(settled.status == .ok && settled.json["settled"] as? String == "$0.25", "\(settled.text)")
                let resettled = try await client.call(
                    .post, "/api/v1/reservations/rsv_1/settle", token: admin, body: #"{"actual":"0.25"}"#)
                #expect(resettled.json["repeated"] as? Bool == true)
                expectError(
                    try await client.call(
                        .post, "/api/v1/reservations/rsv_1/settle", token: admin, body: #"{"actual":"0.30"}"#),
                    .conflict, "exists_with_different_amount")
                expectError(
                    try await client.call(.post, "/api/v1/reservations/rsv_1/release", token: admin),
                    .conflict, "already_resolved")
                _ = try await client.call(
                    .post, "/api/v1/reservations", token: admin,
                    body: #"{"id":"rsv_3","amount":"0.70","scopes":["team:finance"]}"#)
                expectError(
                    try await client.call(
                        .post, "/api/v1/reservations/rsv_3/settle", token: admin, body: #"{"actual":"0.71"}"#),
                    .badRequest, "settle_exceeds_reserved")
                let released = try await client.call(.post, "/api/v1/reservations/rsv_3/release", token: admin)
                #expect(released.json["state"] as? String == "released", "\(released.text)")
                let shown = try await client.call(.get, "/api/v1/reservations/rsv_1", token: finance)
                #expect(shown.json["state"] as? String == "settled" && shown.json["settled_micros"] as? Int == 250_000)
                #expect((shown.json["created_at"] as? String)?.hasSuffix("Z") == true, "\(shown.text)")
                // An id a path cannot carry as it is travels percent-encoded.
                _ = try await client.call(
                    .post, "/api/v1/reservations", token: admin,
                    body: #"{"id":"call/7?x","amount":"0.01","scopes":["org"]}"#)
                let encoded = try await client.call(.post, "/api/v1/reservations/call%2F7%3Fx/release", token: admin)
                #expect(encoded.status == .ok && encoded.json["id"] as? String == "call/7?x", "\(encoded.text)")
                expectError(
                    try await client.call(.get, "/api/v1/reservations/nope", token: finance), .notFound,
                    "reservation_not_found")
                expectError(
                    try await client.call(.post, "/api/v1/reservations/nope/release", token: admin), .notFound,
                    "reservation_not_found")
                expectError(
                    try await client.call(.post, "/api/v1/reservations", token: finance, body: body), .forbidden,
                    "forbidden")
            }
            let day = try await fixture.store.ledger.spend(
                SpendQuery(window: .day, scope: try LedgerScope(parsing: "team:finance")))
            #expect(day.map(\.1) == [Balance(reserved: .zero, settled: Microdollars(250_000))])
            let ledger = Ledger(store: fixture.store.ledger, clock: { Date() })
            #expect(try await ledger.drift().isEmpty)
        }
    }

    @Test func badReservationsAreRefusedAndChangeNothing() async throws {
        try await ServerFixture.with(.sqlite) { fixture in
            try await fixture.application().test(.router) { client in
                let bad: [(String, String)] = [
                    (#"{"id":"a","amount":"0","scopes":["org"]}"#, "invalid_amount"),
                    (#"{"id":"a","amount":"-1","scopes":["org"]}"#, "invalid_field"),
                    (#"{"id":"a","amount":"1e2","scopes":["org"]}"#, "invalid_field"),
                    (#"{"id":"a","amount":"2000000000","scopes":["org"]}"#, "invalid_amount"),
                    (#"{"id":"a","amount":0.5,"scopes":["org"]}"#, "invalid_field"),
                    (#"{"id":"a","amount":"1","scopes":[]}"#, "invalid_field"),
                    (#"{"id":"a","amount":"1","scopes":["org","org"]}"#, "invalid_request"),
                    (#"{"id":"a","amount":"1","scopes":["galaxy:x"]}"#, "invalid_scope"),
                    (#"{"id":"a b","amount":"1","scopes":["org"]}"#, "invalid_request"),
                    (#"{"id":"","amount":"1","scopes":["org"]}"#, "invalid_request"),
                    (#"{"id":"a","amount":"1","scopes":["org"],"ttl_seconds":0}"#, "invalid_field"),
                    (#"{"id":"a","amount":"1","scopes":["org"],"ttl_seconds":86401}"#, "invalid_field"),
                    (#"{"id":"a","amount":"1","scopes":["org"],"model":"bad\u0000model"}"#, "invalid_request"),
                    (#"{"id":"a","amount":"1","scopes":["org"],"cost":"1"}"#, "unknown_field"),
                    (#"{"amount":"1","scopes":["org"]}"#, "invalid_field"),
                ]
                for (body, code) in bad {
                    let reply = try await client.call(
                        .post, "/api/v1/reservations", token: fixture.adminToken, body: body)
                    #expect(reply.status == .badRequest && reply.errorCode == code, "\(body): \(reply.text)")
                }
                expectError(
                    try await client.call(
                        .post, "/api/v1/reservations/a/settle", token: fixture.adminToken, body: #"{"actual":"-0.1"}"#),
                    .badRequest, "invalid_field")
            }
            #expect(try await fixture.store.ledger.balances().isEmpty, "a refused reservation changed an account")
            #expect(try await fixture.store.ledger.reservation(id: "a") == nil)
        }
    }
}

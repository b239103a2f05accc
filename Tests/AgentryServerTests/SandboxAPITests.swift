import AgentryLedger
import AgentryTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import AgentryServer

/// Personal Sandboxes and IT's Sandbox policy over HTTP: a Sandbox on first use with the policy's
/// caps, a key that works with the gateway within the policy, and policy changes that are
/// checked, versioned, audited and carried to every Sandbox's caps.
@Suite("Sandboxes")
struct SandboxAPITests {
    static let chat = #"{"model":"sim/openai-small","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}"#

    @Test(arguments: TestBackend.allCases)
    func aSandboxAppearsOnFirstUseWithThePolicysLimits(_ backend: TestBackend) async throws {
        try await ServerFixture.with(backend) { fixture in
            let (user, member) = try await fixture.member("builder@example.com")
            try await fixture.application().test(.live) { client in
                let sandbox = try await client.call(.get, "/api/v1/sandbox", token: member)
                #expect(sandbox.status == .ok, "\(sandbox.text)")
                #expect(sandbox.json["user_id"] as? String == user.id)
                #expect(sandbox.json["policy_revision"] as? Int == 0)
                #expect(sandbox.json["max_data_classification"] as? String == "internal")
                #expect(sandbox.json["run_cap"] as? String == "1.00")
                let models = try #require(sandbox.json["models"] as? [String])
                #expect(models.contains("sim/openai-small") && models.allSatisfy { $0.hasPrefix("sim/") })
                let windows = try #require(sandbox.json["caps"] as? [[String: Any]])
                #expect(windows.map { $0["cap"] as? String } == ["5.00", "50.00"])
                #expect(windows.map { $0["remaining"] as? String } == ["5.00", "50.00"])
                // The caps are real ledger caps on the user's scope, each one audited.
                let caps = try await fixture.store.ledger.caps()
                let scope = try LedgerScope(.user, id: user.id)
                #expect(caps[CapKey(scope: scope, window: .day)] == Microdollars(5_000_000))
                #expect(caps[CapKey(scope: scope, window: .month)] == Microdollars(50_000_000))
                let again = try await client.call(.get, "/api/v1/sandbox", token: member)
                #expect(again.json["created_at"] as? String == sandbox.json["created_at"] as? String)
                let created = try await client.call(
                    .get, "/api/v1/audit/records?kind=sandbox.created", token: fixture.adminToken)
                #expect(created.items.count == 1, "created once, however often it is read")
                let capped = try await client.call(
                    .get, "/api/v1/audit/records?kind=cap.changed&subject=user:\(user.id)/day",
                    token: fixture.adminToken)
                #expect(capped.items.count == 1)

                let issued = try await client.call(
                    .post, "/api/v1/sandbox/keys", token: member, body: #"{"name":"laptop"}"#)
                #expect(issued.status == .created, "\(issued.text)")
                let key = try #require(issued.json["token"] as? String)
                #expect((issued.json["record"] as? [String: Any])?["kind"] as? String == "sandbox")
                let listed = try await client.call(.get, "/api/v1/sandbox", token: member)
                #expect((listed.json["keys"] as? [[String: Any]])?.map { $0["name"] as? String } == ["laptop"])
                #expect(!listed.text.contains(key), "a key's secret is shown once")
                let call = try await client.call(.post, "/v1/chat/completions", token: key, body: Self.chat)
                #expect(call.status == .ok, "\(call.text)")
                let spent = try await client.call(.get, "/api/v1/sandbox", token: member)
                let day = try #require((spent.json["caps"] as? [[String: Any]])?.first)
                #expect(day["settled"] as? String != "0", "\(spent.text)")
            }
        }
    }

    @Test func aSandboxKeyIsHeldToThePolicy() async throws {
        try await ServerFixture.with(.sqlite) { fixture in
            let (_, member) = try await fixture.member("builder@example.com")
            try await fixture.application().test(.live) { client in
                let issued = try await client.call(.post, "/api/v1/sandbox/keys", token: member, body: "{}")
                let key = try #require(issued.json["token"] as? String)
                let set = try await client.call(
                    .put, "/api/v1/sandbox/policy", token: fixture.adminToken,
                    body: json([
                        "yaml":
                            "models: [sim/anthropic-small]\nmax_data_classification: public\ncaps: {day: '0.000001'}",
                        "expected_revision": 0,
                    ]))
                #expect(set.status == .ok, "\(set.text)")
                #expect(set.json["revision"] as? Int == 1)
                // Another model than the approved one: the vendor's own error shape, 403.
                let refused = try await client.call(.post, "/v1/chat/completions", token: key, body: Self.chat)
                #expect(refused.status == .forbidden, "\(refused.text)")
                #expect(
                    ((refused.json["error"] as? [String: Any])?["message"] as? String)?.contains("Sandbox policy")
                        == true)
                let publicData: HTTPFields = [HTTPField.Name("agentry-data-classification")!: "public"]
                let models = try await client.call(.get, "/v1/models", token: key, headers: publicData)
                #expect(
                    ((models.json["data"] as? [[String: Any]]) ?? []).map { $0["id"] as? String } == [
                        "sim/anthropic-small"
                    ])
                // Internal data is above what the policy now allows.
                let claude =
                    #"{"model":"sim/anthropic-small","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}"#
                let classified = try await client.call(.post, "/v1/messages", token: key, body: claude)
                #expect(classified.status == .forbidden, "\(classified.text)")
                #expect(classified.text.contains("classification_not_allowed") || classified.text.contains("Sandbox"))
                // Public data, approved model, but the new default day cap ($0.000001) refuses the call.
                let capped = try await client.call(
                    .post, "/v1/messages", token: key, body: claude, headers: publicData)
                #expect(capped.status == .tooManyRequests || capped.status.code == 402, "\(capped.text)")
                #expect(capped.text.contains("daily cap of user:"), "\(capped.text)")
            }
        }
    }

    @Test(arguments: TestBackend.allCases)
    func policyChangesAreCheckedVersionedAndCarriedToCaps(_ backend: TestBackend) async throws {
        try await ServerFixture.with(backend) { fixture in
            let (follower, followerToken) = try await fixture.member("follower@example.com")
            let (custom, customToken) = try await fixture.member("custom@example.com")
            let (_, reviewer) = try await fixture.member("reviewer@example.com", roles: [.reviewer])
            try await fixture.application().test(.router) { client in
                _ = try await client.call(.get, "/api/v1/sandbox", token: followerToken)
                _ = try await client.call(.get, "/api/v1/sandbox", token: customToken)
                // Finance raises one user's day cap by hand: a policy change must not undo it.
                let raised = try await client.call(
                    .put, "/api/v1/caps/user:\(custom.id)/day", token: fixture.adminToken, body: #"{"limit":"20"}"#)
                #expect(raised.status == .ok, "\(raised.text)")

                let yaml =
                    "models: ['*']\ntools: [slack]\nmax_data_classification: confidential\ncaps: {day: '7', run: '2'}"
                expectError(
                    try await client.call(.put, "/api/v1/sandbox/policy", token: reviewer, body: json(["yaml": yaml])),
                    .forbidden, "forbidden")
                for (bad, path) in [
                    ("models: [", "(file)"),
                    ("models: []\nmax_data_classification: secret\ncaps: {}", "max_data_classification"),
                    ("max_data_classification: internal\ncaps: {}", "models"),
                    ("models: [a]\nmax_data_classification: internal\ncaps: {day: 1.5.2}", "caps.day"),
                ] {
                    let refused = try await client.call(
                        .put, "/api/v1/sandbox/policy", token: fixture.adminToken, body: json(["yaml": bad]))
                    expectError(refused, .badRequest, "invalid_policy")
                    #expect(refused.errorMessage.contains(path), "\(refused.text)")
                }
                expectError(
                    try await client.call(
                        .put, "/api/v1/sandbox/policy", token: fixture.adminToken, body: #"{"yaml":"x","extra":1}"#),
                    .badRequest, "unknown_field")
                expectError(
                    try await client.call(
                        .put, "/api/v1/sandbox/policy", token: fixture.adminToken,
                        body: json(["yaml": yaml, "expected_revision": 3])),
                    .conflict, "revision_conflict")
                let set = try await client.call(
                    .put, "/api/v1/sandbox/policy", token: fixture.adminToken,
                    body: json(["yaml": yaml, "expected_revision": 0]))
                #expect(set.status == .ok, "\(set.text)")
                #expect(set.json["source"] as? String == "admin" && set.json["revision"] as? Int == 1)
                #expect((set.json["caps"] as? [String: Any])?["month"] is NSNull)

                let caps = try await fixture.store.ledger.caps()
                func cap(_ id: String, _ window: CapWindow) throws -> Microdollars? {
                    caps[CapKey(scope: try LedgerScope(.user, id: id), window: window)]
                }
                #expect(try cap(follower.id, .day) == Microdollars(7_000_000), "follows the new default")
                #expect(try cap(follower.id, .month) == nil, "the new policy has no month cap")
                #expect(try cap(custom.id, .day) == Microdollars(20_000_000), "a hand-set cap stays")
                #expect(try cap(custom.id, .month) == nil)

                let shown = try await client.call(.get, "/api/v1/sandbox/policy", token: followerToken)
                #expect(shown.json["revision"] as? Int == 1 && shown.json["yaml"] as? String == yaml)
                let reset = try await client.call(.delete, "/api/v1/sandbox/policy", token: fixture.adminToken)
                #expect(reset.json["revision"] as? Int == 2 && reset.json["source"] as? String == "admin")
                #expect(
                    try await fixture.store.ledger.caps()[
                        CapKey(scope: try LedgerScope(.user, id: follower.id), window: .month)]
                        == Microdollars(50_000_000))

                expectError(
                    try await client.call(.get, "/api/v1/sandbox/policy/revisions", token: followerToken),
                    .forbidden, "forbidden")
                let first = try await client.call(
                    .get, "/api/v1/sandbox/policy/revisions?limit=1", token: fixture.adminToken)
                #expect(first.items.map { $0["revision"] as? Int } == [2])
                let next = try #require(first.json["next_after"] as? String)
                let second = try await client.call(
                    .get, "/api/v1/sandbox/policy/revisions?limit=5&after=\(next)", token: fixture.adminToken)
                #expect(second.items.map { $0["revision"] as? Int } == [1])
                #expect(second.json["next_after"] is NSNull)
                expectError(
                    try await client.call(
                        .get, "/api/v1/sandbox/policy/revisions?after=x", token: fixture.adminToken),
                    .badRequest, "invalid_query")
                let audited = try await client.call(
                    .get, "/api/v1/audit/records?kind=sandbox_policy.changed", token: fixture.adminToken)
                #expect(audited.items.count == 2)
            }
        }
    }

    @Test func nobodySeesAnothersSandbox() async throws {
        try await ServerFixture.with(.sqlite) { fixture in
            let (alice, aliceToken) = try await fixture.member("alice@example.com")
            let (_, bobToken) = try await fixture.member("bob@example.com")
            try await fixture.application().test(.router) { client in
                _ = try await client.call(.post, "/api/v1/sandbox/keys", token: aliceToken, body: #"{"name":"a"}"#)
                let bob = try await client.call(.get, "/api/v1/sandbox?user_id=\(alice.id)", token: bobToken)
                #expect(bob.json["user_id"] as? String != alice.id)
                #expect((bob.json["keys"] as? [Any])?.isEmpty == true)
                expectError(try await client.call(.get, "/api/v1/sandbox"), .unauthorized, "unauthenticated")
                expectError(
                    try await client.call(.post, "/api/v1/sandbox/keys", token: bobToken, body: #"{"name":5}"#),
                    .badRequest, "invalid_field")
            }
        }
    }
}

import AgentryRegistry
import AgentryTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import AgentryServer

/// The whole path from Sandbox to Catalog over HTTP: push, submit, checklist, thread, changes
/// requested, a new version, approval with grants, publication; an update that needs two
/// reviewers retires the version before it; criteria that fail block approval.
@Suite("Review flow")
struct ReviewFlowTests {
    /// A declarative package of `name` at `version`, optionally requesting a tool and a run frequency.
    static func package(_ name: String, _ version: String, tool: String? = nil, runsPerDay: Int = 10) -> [UInt8] {
        templatePackage(
            name, version: version,
            replacing: [("runs: 10, per: day", "runs: \(runsPerDay), per: day")]
                + (tool.map { [requesting($0, scope: "notes.write")] } ?? []))
    }

    @Test(arguments: TestBackend.allCases)
    func fromSandboxToCatalogAndAnUpdate(_ backend: TestBackend) async throws {
        try await ServerFixture.with(backend) { fixture in
            let (alice, builder) = try await fixture.member("alice@example.com")
            let (_, bystander) = try await fixture.member("bob@example.com")
            let (carol, reviewer) = try await fixture.member("carol@example.com", roles: [.reviewer])
            let admin = fixture.adminToken
            try await fixture.application().test(.router) { client in
                func submit(_ version: String, token: String = builder) async throws -> JSONReply {
                    try await client.call(
                        .post, "/api/v1/agents/notes-summarizer/versions/\(version)/submit", token: token,
                        body: #"{"purpose":"Summaries of weekly meetings for the operations team"}"#)
                }
                func decide(_ id: String, _ decision: String, token: String, grants: [String: Any]? = nil)
                    async throws -> JSONReply
                {
                    var body: [String: Any] = ["decision": decision, "reason": "Checked the prompt and the caps"]
                    if let grants { body["grants"] = grants }
                    return try await client.call(
                        .post, "/api/v1/submissions/\(id)/decision", token: token, body: json(body))
                }
                #expect(
                    try await client.push(Self.package("notes-summarizer", "0.1.0"), token: builder).status == .created)
                let first = try await submit("0.1.0")
                #expect(first.status == .created, "\(first.text)")
                let id = try #require(first.json["id"] as? String)
                #expect(first.json["state"] as? String == "open" && first.json["checklist_result"] as? String == "pass")
                #expect(
                    (first.json["checklist"] as? [[String: Any]])?.map { $0["result"] as? String } == [
                        "not_applicable", "pass", "pass", "pass",
                    ])
                expectError(try await submit("0.1.0"), .conflict, "invalid_transition")
                expectError(try await submit("0.1.0", token: bystander), .notFound, "agent_not_found")
                expectError(
                    try await client.push(Self.package("notes-summarizer", "0.1.0"), token: builder), .conflict,
                    "version_immutable")

                // The queue, the thread, and who may do what.
                let queue = try await client.call(.get, "/api/v1/submissions?state=open", token: reviewer)
                #expect(queue.items.map { $0["id"] as? String } == [id])
                #expect(try await client.call(.get, "/api/v1/submissions", token: bystander).items.isEmpty)
                expectError(
                    try await client.call(.get, "/api/v1/submissions/\(id)", token: bystander), .notFound,
                    "submission_not_found")
                expectError(try await decide(id, "approve", token: bystander), .forbidden, "forbidden")
                expectError(try await decide(id, "approve", token: builder), .forbidden, "forbidden")
                expectError(try await decide(id, "maybe", token: reviewer), .badRequest, "invalid_field")
                let asked = try await client.call(
                    .post, "/api/v1/submissions/\(id)/comments", token: reviewer,
                    body: #"{"body":"Which team runs it?"}"#)
                #expect(asked.status == .created, "\(asked.text)")
                _ = try await client.call(
                    .post, "/api/v1/submissions/\(id)/comments", token: builder,
                    body: #"{"body":"Operations, weekly."}"#)
                expectError(
                    try await client.call(
                        .post, "/api/v1/submissions/\(id)/comments", token: bystander, body: #"{"body":"hi"}"#),
                    .notFound, "submission_not_found")
                expectError(
                    try await client.call(
                        .post, "/api/v1/submissions/\(id)/comments", token: reviewer, body: #"{"body":"  "}"#),
                    .badRequest, "invalid_field")
                let sentBack = try await decide(id, "request_changes", token: reviewer)
                #expect(sentBack.json["state"] as? String == "changes_requested", "\(sentBack.text)")
                #expect(
                    (sentBack.json["thread"] as? [[String: Any]])?.map { $0["kind"] as? String } == [
                        "comment", "comment", "request_changes",
                    ])
                expectError(try await decide(id, "approve", token: reviewer), .conflict, "submission_decided")

                // The builder answers with a new version; the reviewer approves it with less than requested.
                #expect(
                    try await client.push(Self.package("notes-summarizer", "0.2.0"), token: builder).status == .created)
                let second = try #require(try await submit("0.2.0").json["id"] as? String)
                expectError(
                    try await decide(
                        second, "approve", token: reviewer,
                        grants: ["models": ["sim/openai-small"], "tools": [:], "caps": ["run": "5"]]),
                    .badRequest, "invalid_grants")
                expectError(
                    try await decide(
                        second, "reject", token: reviewer, grants: ["models": [], "tools": [:], "caps": ["run": "1"]]),
                    .badRequest, "invalid_field")
                let approved = try await decide(
                    second, "approve", token: reviewer,
                    grants: [
                        "models": ["sim/openai-small"], "tools": [:],
                        "caps": ["run": "0.02", "day": "0.5", "month": "10"],
                    ])
                #expect(approved.json["state"] as? String == "approved", "\(approved.text)")
                #expect(
                    (approved.json["grants"] as? [String: Any])?["caps"] as? [String: String] == [
                        "run": "0.02", "day": "0.50", "month": "10.00",
                    ])
                expectError(
                    try await decide(
                        second, "approve", token: reviewer,
                        grants: ["models": ["sim/openai-small"], "tools": [:], "caps": ["run": "0.02"], "extra": 1]),
                    .badRequest, "unknown_field")
                let published = try await client.call(.get, "/api/v1/agents/notes-summarizer", token: bystander)
                #expect((published.json["agent"] as? [String: Any])?["published_version"] as? String == "0.2.0")
                #expect((published.json["versions"] as? [[String: Any]])?.map { $0["version"] as? String } == ["0.2.0"])

                // An update that touches the CRM needs two reviewers; the one before is retired.
                #expect(
                    try await client.push(Self.package("notes-summarizer", "0.3.0", tool: "hubspot"), token: builder)
                        .status == .created)
                let third = try await submit("0.3.0")
                let update = try #require(third.json["id"] as? String)
                #expect(
                    third.json["approvals_required"] as? Int == 2 && third.json["checklist_result"] as? String == "warn"
                )
                // The first reviewer grants a lower run cap and the second everything: only what both
                // granted is given.
                let lower: [String: Any] = [
                    "models": ["sim/openai-small"], "tools": ["hubspot": ["notes.write"]],
                    "caps": ["run": "0.02", "day": "1", "month": "10"],
                ]
                let firstApproval = try await decide(update, "approve", token: reviewer, grants: lower)
                #expect(firstApproval.json["state"] as? String == "open", "\(firstApproval.text)")
                let granted = (firstApproval.json["thread"] as? [[String: Any]])?.last?["grants"] as? [String: Any]
                #expect((granted?["caps"] as? [String: Any])?["run"] as? String == "0.02", "\(firstApproval.text)")
                let twice = try await decide(update, "approve", token: reviewer)
                #expect(
                    twice.json["state"] as? String == "open" && twice.json["approved_by"] as? [String] == [carol.id])
                let done = try await decide(update, "approve", token: admin)
                #expect(done.json["state"] as? String == "approved", "\(done.text)")
                let both = done.json["grants"] as? [String: Any]
                #expect((both?["caps"] as? [String: Any])?["run"] as? String == "0.02", "\(done.text)")
                #expect(both?["tools"] as? [String: [String]] == ["hubspot": ["notes.write"]], "\(done.text)")
                let versions = try await client.call(.get, "/api/v1/agents/notes-summarizer", token: builder)
                #expect(
                    (versions.json["versions"] as? [[String: Any]])?.map { $0["state"] as? String } == [
                        "changes_requested", "retired", "published",
                    ])

                // Criteria that fail block approval; the owner can withdraw and keep building.
                #expect(
                    try await client.push(Self.package("notes-summarizer", "0.4.0", runsPerDay: 1000), token: builder)
                        .status == .created)
                let failing = try await submit("0.4.0")
                let blocked = try #require(failing.json["id"] as? String)
                #expect(failing.json["checklist_result"] as? String == "fail", "\(failing.text)")
                expectError(try await decide(blocked, "approve", token: reviewer), .conflict, "checklist_failed")
                expectError(
                    try await client.call(.post, "/api/v1/submissions/\(blocked)/withdraw", token: reviewer),
                    .forbidden, "not_owner")
                let withdrawn = try await client.call(.post, "/api/v1/submissions/\(blocked)/withdraw", token: builder)
                #expect(withdrawn.json["state"] as? String == "withdrawn", "\(withdrawn.text)")
                expectError(
                    try await client.push(Self.package("notes-summarizer", "0.4.0"), token: builder), .conflict,
                    "version_immutable")

                // A reviewer's own agent is someone else's to decide.
                #expect(
                    try await client.push(Self.package("carols-agent", "1.0.0"), token: reviewer).status == .created)
                let own = try #require(
                    try await client.call(
                        .post, "/api/v1/agents/carols-agent/versions/1.0.0/submit", token: reviewer,
                        body: #"{"purpose":"Mine"}"#
                    ).json["id"] as? String)
                expectError(try await decide(own, "approve", token: reviewer), .forbidden, "own_submission")

                let kinds = try await client.call(.get, "/api/v1/audit/records?kind=agent.published", token: admin)
                #expect(
                    kinds.items.compactMap { ($0["event"] as? [String: Any])?["agent_version"] as? String } == [
                        "0.2.0", "0.3.0",
                    ])
                _ = alice
            }
        }
    }

    @Test func thePolicyCanApproveWhenEveryCriterionPasses() async throws {
        try await ServerFixture.with(.sqlite) { fixture in
            let (_, builder) = try await fixture.member("alice@example.com")
            try await fixture.application().test(.router) { client in
                let shipped = try await client.call(.get, "/api/v1/review/policy", token: builder)
                #expect(
                    shipped.json["source"] as? String == "shipped" && shipped.json["auto_approve"] as? String == "never"
                )
                expectError(
                    try await client.call(
                        .put, "/api/v1/review/policy", token: builder, body: json(["yaml": "rules: []"])),
                    .forbidden, "forbidden")
                expectError(
                    try await client.call(
                        .put, "/api/v1/review/policy", token: fixture.adminToken,
                        body: json(["yaml": "rules: [{id: x}]"])),
                    .badRequest, "invalid_policy")
                let set = try await client.call(
                    .put, "/api/v1/review/policy", token: fixture.adminToken,
                    body: json([
                        "yaml": "rules:\n  - {id: cap, kind: max_run_cap, limit: '1'}\nauto_approve: when_all_pass"
                    ]))
                #expect(set.json["revision"] as? Int == 1, "\(set.text)")
                #expect(try await client.push(Self.package("quick-agent", "1.0.0"), token: builder).status == .created)
                let submitted = try await client.call(
                    .post, "/api/v1/agents/quick-agent/versions/1.0.0/submit", token: builder,
                    body: #"{"purpose":"Quick"}"#)
                #expect(submitted.json["state"] as? String == "approved", "\(submitted.text)")
                #expect(submitted.json["policy_revision"] as? Int == 1)
                #expect((submitted.json["thread"] as? [[String: Any]])?.first?["kind"] as? String == "auto_approve")
                let agent = try await client.call(.get, "/api/v1/agents/quick-agent", token: builder)
                #expect((agent.json["agent"] as? [String: Any])?["published_version"] as? String == "1.0.0")
            }
        }
    }

    @Test func onlyRiskRaisingUpdatesReachAHuman() async throws {
        try await ServerFixture.with(.sqlite) { fixture in
            let (_, builder) = try await fixture.member("alice@example.com")
            let (_, reviewer) = try await fixture.member("carol@example.com", roles: [.reviewer])
            try await fixture.application().test(.router) { client in
                let set = try await client.call(
                    .put, "/api/v1/review/policy", token: fixture.adminToken,
                    body: json(["yaml": "rules: []\nauto_approve_updates: when_risk_unchanged"]))
                #expect(set.status == .ok, "\(set.text)")
                func submit(_ version: String) async throws -> JSONReply {
                    try await client.call(
                        .post, "/api/v1/agents/notes-summarizer/versions/\(version)/submit", token: builder,
                        body: #"{"purpose":"Notes"}"#)
                }
                _ = try await client.push(Self.package("notes-summarizer", "1.0.0"), token: builder)
                let first = try #require(try await submit("1.0.0").json["id"] as? String)
                let approved = try await client.call(
                    .post, "/api/v1/submissions/\(first)/decision", token: reviewer,
                    body: json([
                        "decision": "approve", "reason": "fine",
                        "grants": [
                            "models": ["sim/openai-small"], "tools": [:],
                            "caps": ["run": "0.01", "day": "1", "month": "10"],
                        ],
                    ]))
                #expect(approved.json["state"] as? String == "approved", "a first version always needs a human")

                // A prompt edit raises no risk: approved at once, keeping the grants the reviewer gave.
                let edited = templatePackage(
                    "notes-summarizer", version: "1.1.0",
                    replacing: [("Keep names as written", "Keep every name as written")])
                _ = try await client.push(edited, token: builder)
                let quiet = try await submit("1.1.0")
                #expect(quiet.json["state"] as? String == "approved", "\(quiet.text)")
                #expect(
                    (quiet.json["grants"] as? [String: Any])?["caps"] as? [String: String] == [
                        "run": "0.01", "day": "1.00", "month": "10.00",
                    ])
                #expect(
                    ((quiet.json["delta"] as? [String: Any])?["prompt_diff"] as? [String])?.contains {
                        $0.hasPrefix("+ ")
                    } == true)

                // Adding a tool raises the risk: a reviewer decides.
                _ = try await client.push(Self.package("notes-summarizer", "1.2.0", tool: "slack"), token: builder)
                let risky = try await submit("1.2.0")
                #expect(risky.json["state"] as? String == "open", "\(risky.text)")
                #expect(
                    ((risky.json["delta"] as? [String: Any])?["risks"] as? [String]) == ["adds tools or scopes: slack"])
            }
        }
    }
}

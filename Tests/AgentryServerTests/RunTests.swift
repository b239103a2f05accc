import AgentryAudit
import AgentryLedger
import AgentryRegistry
import AgentryRuntime
import AgentryTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import AgentryServer

/// Runs over loopback HTTP: a declarative agent's loop through the model and tool gateways, with
/// its audit trail and event stream; bad inputs; fifty users running one Catalog agent at once;
/// and the kill switch refusing new runs.
@Suite("Runs")
struct RunTests {
    /// A declarative agent that may post to Slack, published through auto-approval.
    static func publishSlackAgent(
        _ client: some TestClientProtocol, builder: String, admin: String, runCap: String = "0.05"
    )
        async throws
    {
        let set = try await client.call(
            .put, "/api/v1/review/policy", token: admin, body: json(["yaml": "rules: []\nauto_approve: when_all_pass"]))
        #expect(set.status == .ok, "\(set.text)")
        let package = templatePackage(
            "slack-notifier",
            replacing: [
                requesting("sim-slack", scope: "\"chat:write\""),
                ("  tools: []\n  max_steps", "  tools: [sim-slack]\n  max_steps"),
                ("  run: \"0.05\"", "  run: \"\(runCap)\""),
            ])
        let pushed = try await client.push(package, token: builder)
        #expect(pushed.status == .created, "\(pushed.text)")
        let submitted = try await client.call(
            .post, "/api/v1/agents/slack-notifier/versions/0.1.0/submit", token: builder, body: #"{"purpose":"Post"}"#)
        #expect(submitted.json["state"] as? String == "approved", "\(submitted.text)")
    }

    /// Polls the run until it ends (at most `seconds`) and returns it.
    static func finished(_ client: some TestClientProtocol, _ id: String, token: String, seconds: Int = 60)
        async throws -> [String: Any]
    {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while true {
            let run = try await client.call(.get, "/api/v1/runs/\(id)", token: token).json
            if let status = run["status"] as? String, !["queued", "running"].contains(status) { return run }
            guard ContinuousClock.now < deadline else {
                throw ExpectationFailure("run \(id) did not end within \(seconds) s: \(run)")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    static let postToSlack =
        #"call sim-slack__post_message with {"channel": "C0GENERAL01", "text": "the weekly numbers are in"}"#

    @Test(arguments: TestBackend.allCases)
    func aDeclarativeAgentCallsAModelThenSlackThenAnswers(_ backend: TestBackend) async throws {
        try await ServerFixture.with(backend) { fixture in
            let (_, builder) = try await fixture.member("builder@example.com")
            let (runner, runnerToken) = try await fixture.member("runner@example.com")
            let (_, stranger) = try await fixture.member("stranger@example.com")
            try await fixture.application().test(.live) { client in
                try await Self.publishSlackAgent(client, builder: builder, admin: fixture.adminToken)
                let started = try await client.call(
                    .post, "/api/v1/agents/slack-notifier/runs", token: runnerToken,
                    body: json(["inputs": ["notes": Self.postToSlack, "tone": "friendly"]]))
                #expect(started.status == .accepted, "\(started.text)")
                let id = try #require(started.json["id"] as? String)
                #expect(started.json["zone"] as? String == "catalog" && started.json["invoker"] as? String == runner.id)
                let run = try await Self.finished(client, id, token: runnerToken)
                #expect(run["status"] as? String == "succeeded", "\(run)")
                let output = try #require(run["output"] as? [String: Any])
                #expect((output["text"] as? String)?.contains("tool") == true, "\(output)")
                let calls = try #require(run["calls"] as? [[String: Any]])
                #expect(calls.map { $0["kind"] as? String } == ["model.call", "tool.call", "model.call"], "\(calls)")
                try #require(calls.count == 3)
                #expect(
                    calls[1]["tool"] as? String == "sim-slack.post_message" && calls[1]["outcome"] as? String == "ok")
                let charged = calls.compactMap { ($0["cost_usd"] as? String).flatMap(Double.init) }.reduce(0, +)
                #expect(charged > 0 && abs(charged - (Double(run["cost_usd"] as? String ?? "") ?? -1)) < 1e-9, "\(run)")

                // The audit log tells the same story: started, model, tool, model, finished. The
                // run's end reaches the log through the outbox, so it may trail the status a moment.
                var records = try await fixture.store.audit.records(matching: AuditFilter(run: id), from: 0, count: 20)
                let deadline = ContinuousClock.now + .seconds(15)
                while try records.last?.event().kind != .runFinished, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(100))
                    records = try await fixture.store.audit.records(matching: AuditFilter(run: id), from: 0, count: 20)
                }
                let kinds = try records.map { try $0.event().kind.rawValue }
                #expect(kinds == ["run.started", "model.call", "tool.call", "model.call", "run.finished"], "\(kinds)")
                let actors = try records.map { try $0.event() }.filter {
                    $0.actor != runner.id || $0.agent != "slack-notifier"
                }
                #expect(actors.isEmpty, "every record of the run names its invoker and agent")

                // The events stream as server-sent events and end with the final status.
                let events = try await client.call(.get, "/api/v1/runs/\(id)/events", token: runnerToken)
                #expect(events.headers[.contentType] == "text/event-stream")
                #expect(events.text.contains("event: tool.call") && events.text.contains(#""status":"succeeded""#))
                let resumed = try await client.call(
                    .get, "/api/v1/runs/\(id)/events", token: runnerToken,
                    headers: [HTTPField.Name("Last-Event-ID")!: "3"])
                #expect(!resumed.text.contains("id: 3\n") && resumed.text.contains("id: 4\n"), "\(resumed.text)")

                // Others see nothing of it; the owner sees it; a finished run cannot be cancelled.
                let hidden = try await client.call(.get, "/api/v1/runs/\(id)", token: stranger)
                expectError(hidden, .notFound, "run_not_found")
                #expect(try await client.call(.get, "/api/v1/runs", token: stranger).items.isEmpty)
                #expect(try await client.call(.get, "/api/v1/runs/\(id)", token: builder).status == .ok)
                #expect(
                    try await client.call(.get, "/api/v1/runs?agent=slack-notifier", token: builder).items.count == 1)
                // The Catalog entry counts its runs.
                let entry = try await client.call(.get, "/api/v1/catalog/slack-notifier", token: stranger).json
                let usage = try #require(entry["usage"] as? [String: Any], "\(entry)")
                #expect(usage["runs"] as? Int == 1 && usage["runners"] as? Int == 1, "\(usage)")
                #expect((usage["by_status"] as? [String: Int]) == ["succeeded": 1] && usage["last_run_at"] is String)
                expectError(
                    try await client.call(.post, "/api/v1/runs/\(id)/cancel", token: runnerToken), .conflict,
                    "run_finished")

                // Bad input: refused whole, nothing created.
                let cases: [(String, String, HTTPResponse.Status, String)] = [
                    ("slack-notifier", json(["inputs": [:] as [String: Any]]), .badRequest, "invalid_inputs"),
                    (
                        "slack-notifier", json(["inputs": ["notes": "x", "colour": "red"]]), .badRequest,
                        "invalid_inputs"
                    ),
                    (
                        "slack-notifier", json(["inputs": ["notes": "x", "tone": "angry"]]), .badRequest,
                        "invalid_inputs"
                    ),
                    ("slack-notifier", json(["inputs": ["notes": 7]]), .badRequest, "invalid_inputs"),
                    ("slack-notifier", json(["inputs": "notes"]), .badRequest, "invalid_field"),
                    (
                        "slack-notifier", json(["inputs": ["notes": "x"], "version": "one"]), .badRequest,
                        "invalid_field"
                    ),
                    (
                        "slack-notifier", json(["inputs": ["notes": "x"], "version": "9.9.9"]), .notFound,
                        "version_not_found"
                    ),
                    ("slack-notifier", #"{"inputs": {"notes": "x"}, "when": "now"}"#, .badRequest, "unknown_field"),
                    ("slack-notifier", "{", .badRequest, "invalid_json"),
                    ("no-such-agent", json(["inputs": ["notes": "x"]]), .notFound, "agent_not_found"),
                ]
                for (agent, body, status, code) in cases {
                    let refused = try await client.call(
                        .post, "/api/v1/agents/\(agent)/runs", token: runnerToken, body: body)
                    expectError(refused, status, code)
                }
                let missing = try await client.call(
                    .post, "/api/v1/agents/slack-notifier/runs", token: runnerToken,
                    body: json(["inputs": ["tone": "x"]]))
                #expect(missing.text.contains("inputs.notes: required") && missing.text.contains("inputs.tone"))
                #expect(try await client.call(.get, "/api/v1/runs?mine=true", token: runnerToken).items.count == 1)
                expectError(
                    try await client.call(.get, "/api/v1/runs?status=done", token: runnerToken), .badRequest,
                    "invalid_query")
            }
        }
    }

    @Test func aRunThatMeetsItsCapEndsCapExceededWithinIt() async throws {
        try await ServerFixture.with(.sqlite) { fixture in
            let (_, builder) = try await fixture.member("builder@example.com")
            let (_, runner) = try await fixture.member("runner@example.com")
            try await fixture.application().test(.live) { client in
                // A hundredth of a cent a run: the tool's price alone is all of it.
                try await Self.publishSlackAgent(client, builder: builder, admin: fixture.adminToken, runCap: "0.0001")
                let started = try await client.call(
                    .post, "/api/v1/agents/slack-notifier/runs", token: runner,
                    body: json(["inputs": ["notes": Self.postToSlack]]))
                let id = try #require(started.json["id"] as? String)
                let run = try await Self.finished(client, id, token: runner)
                #expect(run["status"] as? String == "cap_exceeded", "\(run)")
                #expect((run["error"] as? String)?.contains("cap") == true)
                #expect((Double(run["cost_usd"] as? String ?? "") ?? 1) <= 0.0001, "\(run)")
                let scope = try LedgerScope(.run, id: id)
                let balance = try await fixture.store.ledger.spend(
                    SpendQuery(window: .run, scope: scope, since: 0, until: 1))
                #expect((balance.first?.1.settled.value ?? 0) <= 100 && (balance.first?.1.reserved.value ?? 0) == 0)
            }
        }
    }

    @Test func fiftyUsersRunOneCatalogAgentAtOnceEachAttributed() async throws {
        try await ServerFixture.with(.sqlite) { fixture in
            let (_, builder) = try await fixture.member("builder@example.com")
            var members: [(String, String)] = []
            for index in 0..<50 {
                let (user, token) = try await fixture.member("user\(index)@example.com")
                members.append((user.id, token))
            }
            let users = members
            let runtime = RuntimeSetup(concurrency: RunConcurrency(overall: 8, perAgent: 6, perUser: 2, queued: 100))
            try await fixture.application(runtime: runtime).test(.live) {
                client in
                try await Self.publishSlackAgent(client, builder: builder, admin: fixture.adminToken)
                let ids = try await withThrowingTaskGroup(of: (String, String).self) { group in
                    for (user, token) in users {
                        group.addTask {
                            let started = try await client.call(
                                .post, "/api/v1/agents/slack-notifier/runs", token: token,
                                body: json(["inputs": ["notes": "Summarize: revenue up, costs flat"]]))
                            return (user, try #require(started.json["id"] as? String, "\(started.text)"))
                        }
                    }
                    return try await group.reduce(into: [:]) { $0[$1.1] = $1.0 }
                }
                #expect(ids.count == 50)
                var total = 0.0
                for (id, user) in ids {
                    let token = try #require(users.first { $0.0 == user }?.1)
                    let run = try await Self.finished(client, id, token: token, seconds: 120)
                    #expect(run["status"] as? String == "succeeded" && run["invoker"] as? String == user, "\(run)")
                    total += Double(run["cost_usd"] as? String ?? "") ?? 0
                    let started = try await fixture.store.audit.records(
                        matching: AuditFilter(kind: .runStarted, run: id), from: 0, count: 2)
                    #expect(try started.count == 1 && started[0].event().actor == user)
                }
                // What the runs report adds up to what the ledger charged the agent.
                let scope = try LedgerScope(.agent, id: "slack-notifier")
                let charged = try await fixture.store.ledger.spend(
                    SpendQuery(window: .day, scope: scope, since: 0, until: Int64.max))
                let settled = Double(charged.map(\.1.settled.value).reduce(0, +)) / 1_000_000
                #expect(total > 0 && abs(total - settled) < 1e-9, "runs \(total), ledger \(settled)")
            }
        }
    }

    @Test func aSuspendedAgentsRunsAreRefused() async throws {
        try await ServerFixture.with(.sqlite) { fixture in
            let (_, builder) = try await fixture.member("builder@example.com")
            let (_, runner) = try await fixture.member("runner@example.com")
            try await fixture.application().test(.live) { client in
                try await Self.publishSlackAgent(client, builder: builder, admin: fixture.adminToken)
                let suspended = try await client.call(
                    .post, "/api/v1/agents/slack-notifier/suspend", token: fixture.adminToken,
                    body: json(["reason": "Posting to the wrong channel"]))
                #expect(suspended.status == .ok, "\(suspended.text)")
                let refused = try await client.call(
                    .post, "/api/v1/agents/slack-notifier/runs", token: runner, body: json(["inputs": ["notes": "x"]]))
                expectError(refused, .conflict, "agent_suspended")
            }
        }
    }
}

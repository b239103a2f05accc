import AgentryRegistry
import AgentryTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import AgentryServer

/// The Catalog over HTTP: published agents found by words, department and tool, with facets and
/// pages; each entry's detail and A2A card; the kill switch and deprecation.
@Suite("Catalog")
struct CatalogAPITests {
    /// A declarative package with the given identity fields.
    static func package(
        _ name: String, title: String, description: String, department: String, tool: String?,
        version: String = "0.1.0"
    ) -> [UInt8] {
        templatePackage(
            name, version: version,
            replacing: [
                ("title: Meeting notes summarizer", "title: \(title)"),
                ("  Turns raw meeting notes into a short summary with decisions and action items.", "  \(description)"),
                ("department: Operations", "department: \(department)"),
            ] + (tool.map { [requesting($0)] } ?? []))
    }

    /// Publishes three agents through the policy's auto-approval.
    static func publishThree(_ client: some TestClientProtocol, builder: String, admin: String) async throws {
        let set = try await client.call(
            .put, "/api/v1/review/policy", token: admin, body: json(["yaml": "rules: []\nauto_approve: when_all_pass"]))
        #expect(set.status == .ok)
        for (name, title, description, department, tool) in [
            (
                "invoice-checker", "Invoice checker", "Checks supplier invoices against purchase orders.", "Finance",
                "drive"
            ),
            (
                "expense-summarizer", "Expense summarizer", "Summarizes monthly expenses per cost center.", "Finance",
                "slack"
            ),
            ("ticket-triage", "Ticket triage", "Sorts support tickets and drafts first replies.", "Support", "slack"),
        ] {
            let pushed = try await client.push(
                package(name, title: title, description: description, department: department, tool: tool),
                token: builder)
            #expect(pushed.status == .created, "\(pushed.text)")
            let submitted = try await client.call(
                .post, "/api/v1/agents/\(name)/versions/0.1.0/submit", token: builder, body: #"{"purpose":"Useful"}"#)
            #expect(submitted.json["state"] as? String == "approved", "\(submitted.text)")
        }
    }

    @Test(arguments: TestBackend.allCases)
    func publishedAgentsAreFoundByWordsFiltersAndFacets(_ backend: TestBackend) async throws {
        try await ServerFixture.with(backend) { fixture in
            let (_, builder) = try await fixture.member("alice@example.com")
            let (_, reader) = try await fixture.member("bob@example.com")
            try await fixture.application().test(.router) { client in
                #expect(try await client.call(.get, "/api/v1/catalog", token: reader).json["total"] as? Int == 0)
                try await Self.publishThree(client, builder: builder, admin: fixture.adminToken)
                func names(_ query: String) async throws -> [String] {
                    try await client.call(.get, "/api/v1/catalog\(query)", token: reader).items.compactMap {
                        $0["name"] as? String
                    }
                }
                #expect(try await names("?q=expen") == ["expense-summarizer"], "a prefix of a title word")
                #expect(try await names("?q=summ").count == 3, "a prefix of a skill word")
                #expect(try await names("?q=supplier%20invoices") == ["invoice-checker"], "every word must match")
                #expect(try await names("?q=meeting%20notes").count == 3, "skills are searched too")
                #expect(try await names("?department=finance") == ["expense-summarizer", "invoice-checker"])
                #expect(try await names("?tool=slack") == ["expense-summarizer", "ticket-triage"])
                #expect(try await names("?q=cost%20center&department=support").isEmpty)
                #expect(try await names("?q=summarize&department=support") == ["ticket-triage"])
                let everything = try await client.call(.get, "/api/v1/catalog?limit=2", token: reader)
                #expect(everything.json["total"] as? Int == 3 && everything.items.count == 2)
                #expect(everything.json["next_offset"] as? Int == 2)
                let facets = try #require(everything.json["facets"] as? [String: [[String: Any]]])
                #expect(facets["departments"]?.map { "\($0["value"]!)=\($0["count"]!)" } == ["Finance=2", "Support=1"])
                #expect(facets["tools"]?.map { "\($0["value"]!)=\($0["count"]!)" } == ["slack=2", "drive=1"])
                let last = try await client.call(.get, "/api/v1/catalog?limit=2&offset=2", token: reader)
                #expect(last.items.count == 1 && last.json["next_offset"] is NSNull)
                // Search syntax is never passed through: quotes, operators and stars are just separators.
                for hostile in ["%22", "*", "NEAR(a%20b)", "a%20OR%20b", "%27%3B%20DROP%20TABLE%20agents", "%E2%80%AE"]
                {
                    let reply = try await client.call(.get, "/api/v1/catalog?q=\(hostile)", token: reader)
                    #expect(reply.status == .ok, "\(hostile): \(reply.text)")
                }
                expectError(
                    try await client.call(.get, "/api/v1/catalog?limit=0", token: reader), .badRequest, "invalid_query")
                expectError(
                    try await client.call(
                        .get, "/api/v1/catalog?q=\(String(repeating: "a", count: 501))", token: reader),
                    .badRequest, "invalid_query")
                expectError(try await client.call(.get, "/api/v1/catalog"), .unauthorized, "unauthenticated")

                let detail = try await client.call(.get, "/api/v1/catalog/invoice-checker", token: reader)
                #expect((detail.json["owner"] as? [String: Any])?["email"] as? String == "alice@example.com")
                #expect(
                    (detail.json["versions"] as? [[String: String]]) == [["version": "0.1.0", "state": "published"]])
                #expect(
                    (detail.json["grants"] as? [String: Any])?["tools"] as? [String: [String]] == ["drive": ["read"]])
                #expect((detail.json["spend"] as? [[String: Any]])?.count == 2)
                expectError(
                    try await client.call(.get, "/api/v1/catalog/nobody", token: reader), .notFound, "agent_not_found")
            }
        }
    }

    @Test func theKillSwitchAndDeprecation() async throws {
        try await ServerFixture.with(.sqlite) { fixture in
            let (_, builder) = try await fixture.member("alice@example.com")
            let (_, reader) = try await fixture.member("bob@example.com")
            try await fixture.application().test(.router) { client in
                try await Self.publishThree(client, builder: builder, admin: fixture.adminToken)
                let reason = #"{"reason":"Leaking data to the wrong channel"}"#
                expectError(
                    try await client.call(.post, "/api/v1/agents/ticket-triage/suspend", token: builder, body: reason),
                    .forbidden, "forbidden")
                expectError(
                    try await client.call(
                        .post, "/api/v1/agents/ticket-triage/suspend", token: fixture.adminToken,
                        body: #"{"reason":""}"#),
                    .badRequest, "invalid_field")
                // Two admins pull the switch at once: one suspension, the other told what it found.
                async let first = client.call(
                    .post, "/api/v1/agents/ticket-triage/suspend", token: fixture.adminToken, body: reason)
                async let second = client.call(
                    .post, "/api/v1/agents/ticket-triage/suspend", token: fixture.adminToken, body: reason)
                let both = try await [first, second]
                let suspended = try #require(both.first { $0.status == .ok }, "\(both.map(\.text))")
                #expect(both.filter { $0.status == .conflict }.count == 1, "\(both.map(\.text))")
                #expect(suspended.json["state"] as? String == "suspended", "\(suspended.text)")
                let change = try #require(suspended.json["state_change"] as? [String: Any], "\(suspended.text)")
                #expect(change["reason"] as? String == "Leaking data to the wrong channel")
                #expect(change["state"] as? String == "suspended" && change["sequence"] as? Int == 1)
                #expect(try await client.call(.get, "/api/v1/catalog?tool=slack", token: reader).items.count == 1)
                expectError(
                    try await client.call(.get, "/api/v1/catalog/ticket-triage", token: reader), .notFound,
                    "agent_not_found")
                let admin = try await client.call(.get, "/api/v1/catalog?suspended=include", token: fixture.adminToken)
                #expect(admin.json["total"] as? Int == 3)
                expectError(
                    try await client.push(
                        Self.package("ticket-triage", title: "T", description: "D", department: "Support", tool: nil),
                        token: builder),
                    .conflict, "agent_suspended")
                expectError(
                    try await client.call(
                        .post, "/api/v1/agents/ticket-triage/deprecate", token: builder, body: #"{"reason":"Mine"}"#),
                    .conflict, "invalid_transition")
                let resumed = try await client.call(
                    .post, "/api/v1/agents/ticket-triage/resume", token: fixture.adminToken,
                    body: #"{"reason":"Fixed"}"#)
                #expect(resumed.json["state"] as? String == "active")
                expectError(
                    try await client.call(
                        .post, "/api/v1/agents/ticket-triage/resume", token: fixture.adminToken,
                        body: #"{"reason":"Again"}"#),
                    .conflict, "invalid_transition")
                let deprecated = try await client.call(
                    .post, "/api/v1/agents/invoice-checker/deprecate", token: builder,
                    body: #"{"reason":"Use the new one"}"#)
                #expect(deprecated.json["state"] as? String == "deprecated", "\(deprecated.text)")
                let found = try await client.call(.get, "/api/v1/catalog?q=invoice", token: reader)
                #expect(found.items.first?["state"] as? String == "deprecated")
                let audited = try await client.call(
                    .get, "/api/v1/audit/records?kind=agent.suspended", token: fixture.adminToken)
                #expect(audited.items.count == 1)
                let event = audited.items.first?["event"] as? [String: Any]
                let payloads = try #require(event?["payloads"] as? [[String: Any]], "\(audited.text)")
                #expect(payloads.map { $0["name"] as? String } == ["reason"])
                // The agent keeps its history of changes, each with its reason.
                let history = try await client.call(.get, "/api/v1/agents/ticket-triage", token: builder)
                let changes = try #require(history.json["state_changes"] as? [[String: Any]], "\(history.text)")
                #expect(changes.map { $0["state"] as? String } == ["suspended", "active"])
                #expect(changes.map { $0["reason"] as? String } == ["Leaking data to the wrong channel", "Fixed"])
                // Why it was suspended stays with its owner and those who govern it.
                let outside = try await client.call(.get, "/api/v1/catalog/ticket-triage", token: reader)
                #expect((outside.json["state_changes"] as? [Any])?.isEmpty == true, "\(outside.text)")
                let entry = try await client.call(.get, "/api/v1/catalog/invoice-checker", token: reader)
                let notes = try #require(entry.json["state_changes"] as? [[String: Any]], "\(entry.text)")
                #expect(notes.map { $0["reason"] as? String } == ["Use the new one"])
            }
        }
    }

    @Test func theAgentCardIsReadByTheOfficialA2ASDK() async throws {
        try await ServerFixture.with(.sqlite) { fixture in
            let (_, builder) = try await fixture.member("alice@example.com")
            try await fixture.application().test(.live) { client in
                try await Self.publishThree(client, builder: builder, admin: fixture.adminToken)
                let port = try #require(client.port)
                let seen = try await VendorSDK.run(
                    "a2a_card_check.py",
                    ["http://127.0.0.1:\(port)", "/api/v1/catalog/ticket-triage/agent-card", builder])
                #expect(seen["name"] as? String == "Ticket triage" && seen["version"] as? String == "0.1.0", "\(seen)")
                #expect(seen["skills"] as? [String] == ["summarize-notes"])
                #expect(seen["schemes"] as? [String] == ["agentry"])
                let interface = try #require((seen["interfaces"] as? [[Any]])?.first)
                #expect(interface[0] as? String == "http://127.0.0.1:\(port)/api/v1/agents/ticket-triage")
            }
        }
    }
}

import AgentryIdentity
import AgentryTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// Ownership transfers over HTTP: asked by the owner, decided by a reviewer who is none of the
/// parties, taking effect on the agent, its pushes and its Catalog entry at once; bad requests
/// refused with nothing written.
@Suite("Ownership transfers")
struct TransfersAPITests {
    @Test(arguments: TestBackend.allCases)
    func anOwnerHandsAnAgentOnThroughReview(_ backend: TestBackend) async throws {
        try await ServerFixture.with(backend) { fixture in
            let (alice, builder) = try await fixture.member("alice@example.com")
            let (bob, heir) = try await fixture.member("bob@example.com")
            let (_, stranger) = try await fixture.member("dave@example.com")
            let (_, reviewer) = try await fixture.member("carol@example.com", roles: [.reviewer])
            try await fixture.application().test(.router) { client in
                try await CatalogAPITests.publishThree(client, builder: builder, admin: fixture.adminToken)
                func ask(_ agent: String, _ body: String, token: String) async throws -> JSONReply {
                    try await client.call(.post, "/api/v1/agents/\(agent)/transfers", token: token, body: body)
                }
                let toBob = #"{"to":"bob@example.com","reason":"Alice moves to the platform team"}"#
                // Bad requests: none of them opens a transfer.
                expectError(try await ask("ticket-triage", toBob, token: heir), .forbidden, "not_owner")
                expectError(try await ask("no-such-agent", toBob, token: builder), .notFound, "agent_not_found")
                for (body, code) in [
                    (#"{"to":"nobody@example.com","reason":"r"}"#, "invalid_field"),
                    (#"{"to":"alice@example.com","reason":"r"}"#, "invalid_field"),
                    (#"{"to":"not an address","reason":"r"}"#, "invalid_field"),
                    (#"{"to":"bob@example.com","reason":"   "}"#, "invalid_field"),
                    (#"{"to":"bob@example.com"}"#, "invalid_field"),
                    (#"{"to":"bob@example.com","reason":"r","owner":"x"}"#, "unknown_field"),
                    (#"{"to":"bob@example.com","reason":"#, "invalid_json"),
                ] {
                    expectError(try await ask("ticket-triage", body, token: builder), .badRequest, code)
                }
                #expect(try await client.call(.get, "/api/v1/transfers", token: reviewer).items.isEmpty)

                let asked = try await ask("ticket-triage", toBob, token: builder)
                #expect(asked.status == .created, "\(asked.text)")
                let id = try #require(asked.json["id"] as? String)
                #expect(asked.json["state"] as? String == "open")
                #expect(asked.json["from_owner_id"] as? String == alice.id)
                #expect(asked.json["to_owner_id"] as? String == bob.id)
                expectError(try await ask("ticket-triage", toBob, token: builder), .conflict, "transfer_open")

                // Who sees it: the parties and the overseers; nobody else, even by id.
                #expect(try await client.call(.get, "/api/v1/transfers", token: heir).items.count == 1)
                #expect(try await client.call(.get, "/api/v1/transfers?state=open", token: reviewer).items.count == 1)
                #expect(try await client.call(.get, "/api/v1/transfers", token: stranger).items.isEmpty)
                expectError(
                    try await client.call(.get, "/api/v1/transfers/\(id)", token: stranger), .notFound,
                    "transfer_not_found")
                expectError(
                    try await client.call(.get, "/api/v1/transfers?state=maybe", token: reviewer), .badRequest,
                    "invalid_query")

                // Who decides: a reviewer who is no party to it, with a reason.
                func decide(_ decision: String, token: String, reason: String = "Confirmed with both managers")
                    async throws -> JSONReply
                {
                    try await client.call(
                        .post, "/api/v1/transfers/\(id)/decision", token: token,
                        body: #"{"decision":"\#(decision)","reason":"\#(reason)"}"#)
                }
                expectError(try await decide("approve", token: heir), .forbidden, "forbidden")
                expectError(try await decide("approve", token: builder), .forbidden, "forbidden")
                expectError(try await decide("maybe", token: reviewer), .badRequest, "invalid_field")
                expectError(try await decide("approve", token: reviewer, reason: ""), .badRequest, "invalid_field")
                #expect(
                    try await client.call(.get, "/api/v1/agents/ticket-triage", token: builder)
                        .json["agent"].flatMap { ($0 as? [String: Any])?["owner_id"] as? String } == alice.id)

                let approved = try await decide("approve", token: reviewer)
                #expect(approved.status == .ok, "\(approved.text)")
                #expect(approved.json["state"] as? String == "approved")
                #expect(approved.json["decision_reason"] as? String == "Confirmed with both managers")
                expectError(try await decide("reject", token: reviewer), .conflict, "transfer_decided")

                // It took effect everywhere at once: the agent, its pushes and its Catalog entry.
                let agent = try await client.call(.get, "/api/v1/agents/ticket-triage", token: heir)
                #expect((agent.json["agent"] as? [String: Any])?["owner_id"] as? String == bob.id, "\(agent.text)")
                let entry = try await client.call(.get, "/api/v1/catalog/ticket-triage", token: stranger)
                #expect((entry.json["owner"] as? [String: Any])?["id"] as? String == bob.id, "\(entry.text)")
                let package = CatalogAPITests.package(
                    "ticket-triage", title: "Ticket triage", description: "Sorts tickets.", department: "Support",
                    tool: "slack", version: "0.2.0")
                expectError(try await client.push(package, token: builder), .forbidden, "not_owner")
                #expect(try await client.push(package, token: heir).status == .created)

                // The new owner may hand it back, and take the request back again.
                let back = try await ask(
                    "ticket-triage", #"{"to":"alice@example.com","reason":"Changed my mind"}"#, token: heir)
                let backID = try #require(back.json["id"] as? String, "\(back.text)")
                expectError(
                    try await client.call(.post, "/api/v1/transfers/\(backID)/withdraw", token: stranger), .notFound,
                    "transfer_not_found")
                expectError(
                    try await client.call(.post, "/api/v1/transfers/\(backID)/withdraw", token: reviewer),
                    .forbidden, "not_requester")
                let withdrawn = try await client.call(.post, "/api/v1/transfers/\(backID)/withdraw", token: heir)
                #expect(withdrawn.json["state"] as? String == "withdrawn", "\(withdrawn.text)")
                expectError(
                    try await client.call(.post, "/api/v1/transfers/\(backID)/withdraw", token: heir), .conflict,
                    "transfer_decided")

                // A reviewer who would receive the agent cannot approve it.
                let toCarol = try await ask(
                    "invoice-checker", #"{"to":"carol@example.com","reason":"Carol runs finance tooling now"}"#,
                    token: builder)
                let carolID = try #require(toCarol.json["id"] as? String, "\(toCarol.text)")
                expectError(
                    try await client.call(
                        .post, "/api/v1/transfers/\(carolID)/decision", token: reviewer,
                        body: #"{"decision":"approve","reason":"Mine now"}"#),
                    .forbidden, "own_transfer")
                let rejected = try await client.call(
                    .post, "/api/v1/transfers/\(carolID)/decision", token: fixture.adminToken,
                    body: #"{"decision":"reject","reason":"Finance keeps it"}"#)
                #expect(rejected.json["state"] as? String == "rejected", "\(rejected.text)")

                // Every step is in the audit log, its reason an erasable payload.
                for (kind, count) in [
                    ("agent.transfer_requested", 3), ("agent.transfer_decided", 2), ("agent.transfer_withdrawn", 1),
                ] {
                    let records = try await client.call(
                        .get, "/api/v1/audit/records?kind=\(kind)", token: fixture.adminToken)
                    #expect(records.items.count == count, "\(kind): \(records.text)")
                    #expect(
                        records.items.allSatisfy {
                            (($0["event"] as? [String: Any])?["payloads"] as? [[String: Any]])?.map {
                                $0["name"] as? String
                            } == ["reason"]
                        })
                }
            }
        }
    }
}

import AgentryGateway
import AgentryTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import AgentryServer

/// The tool gateway over loopback HTTP: Sandbox keys call the built-in Slack simulator and an
/// admin-declared REST tool within the scopes the tool catalog and the Sandbox policy give them;
/// what is refused never leaves Agentry; the org credential reaches the tool and nothing else;
/// priced calls are capped; every call is audited with its arguments and result.
@Suite("Tool gateway")
struct ToolGatewayTests {
    /// The org's key for the REST tool in these tests; it must reach the tool and nothing else.
    static let secret = "tk-tickets-91c4-never-echo"

    /// A ticket system on a loopback port that records every request it receives (path, query
    /// and credential), answering `GET /tickets/{id}` and failing `GET /broken/{id}`.
    static func tickets(_ body: @escaping @Sendable (Int, TextLog) async throws -> Void) async throws {
        let seen = TextLog()
        let router = Router()
        router.get("tickets/{id}") { request, context -> Response in
            seen.append("\(request.uri) \(request.headers[.authorization] ?? "-")")
            let id = try context.parameters.require("id")
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: #"{"id":"\#(id)","state":"open"}"#)))
        }
        router.get("broken/{id}") { request, _ -> Response in
            seen.append("\(request.uri) \(request.headers[.authorization] ?? "-")")
            return Response(status: .internalServerError)
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in try await body(try #require(client.port), seen) }
    }

    @Test(arguments: TestBackend.allCases)
    func sandboxKeysCallToolsWithinTheirScope(_ backend: TestBackend) async throws {
        try await ServerFixture.with(backend) { fixture in
            let (user, member) = try await fixture.member("builder@example.com")
            let key = try await fixture.sandboxKey(for: user.id)
            let vault = CredentialVault(key: VaultKey.generate().key)
            let bodies = TextLog()
            try await Self.tickets { port, seen in
                try await fixture.application(vault: vault).test(.live) { client in
                    func call(
                        _ method: HTTPRequest.Method, _ path: String, token: String?, body: String? = nil,
                        headers: HTTPFields = [:]
                    ) async throws -> JSONReply {
                        let reply = try await client.call(method, path, token: token, body: body, headers: headers)
                        bodies.append(reply.text)
                        return reply
                    }
                    func code(_ reply: JSONReply) -> String? {
                        (reply.json["error"] as? [String: Any])?["code"] as? String
                    }
                    func tool(_ path: String, _ body: String = "{}", headers: HTTPFields = [:]) async throws
                        -> JSONReply
                    {
                        try await call(.post, "/v1/tools/\(path)", token: key, body: body, headers: headers)
                    }

                    // A Sandbox policy with no tools closes them all; the shipped one opens the simulators.
                    func sandboxPolicy(tools: String) async throws {
                        let policy =
                            "models: [sim/*]\ntools: \(tools)\nmax_data_classification: internal\ncaps: {run: '1', day: '5', month: '50'}\n"
                        let set = try await call(
                            .put, "/api/v1/sandbox/policy", token: fixture.adminToken, body: json(["yaml": policy]))
                        #expect(set.status == .ok, "\(set.text)")
                    }
                    #expect(((try await call(.get, "/v1/tools", token: key).json["data"] as? [Any])?.count ?? 0) == 5)
                    try await sandboxPolicy(tools: "[]")
                    let closed = try await tool("sim-slack/list_channels")
                    #expect(closed.status == .forbidden && code(closed) == "tool_not_allowed", "\(closed.text)")
                    #expect((try await call(.get, "/v1/tools", token: key).json["data"] as? [Any])?.isEmpty == true)
                    try await sandboxPolicy(tools: "[sim-*, tickets]")

                    // The built-in Slack simulator: list, post, read back; each call priced and audited.
                    let channels = try await tool("sim-slack/list_channels", #"{"limit": 2}"#)
                    #expect(channels.status == .ok, "\(channels.text)")
                    let result = channels.json["result"] as? [String: Any]
                    #expect(
                        (result?["channels"] as? [[String: Any]])?.map { $0["name"] as? String } == [
                            "general", "support",
                        ])
                    #expect(channels.headers[HTTPField.Name("agentry-cost-usd")!] == "0.0001")
                    let posted = try await tool(
                        "sim-slack/post_message", #"{"channel": "C0SUPPORT01", "text": "Ticket 4521 answered"}"#)
                    #expect((posted.json["result"] as? [String: Any])?["ok"] as? Bool == true, "\(posted.text)")
                    func latest() async throws -> String? {
                        let read = try await tool("sim-slack/read_history", #"{"channel": "C0SUPPORT01", "limit": 1}"#)
                        return ((read.json["result"] as? [String: Any])?["messages"] as? [[String: Any]])?.first?[
                            "text"]
                            as? String
                    }
                    #expect(try await latest() == "Ticket 4521 answered")
                    let missing = try await tool("sim-slack/post_message", #"{"channel": "C0NOWHERE", "text": "x"}"#)
                    #expect(missing.status == .badRequest && code(missing) == "upstream_rejected", "\(missing.text)")
                    #expect(
                        (missing.json["error"] as? [String: Any])?["message"] as? String
                            == "Slack refused the call: channel_not_found")
                    let limited = try await tool("sim-slack/read_history", #"{"channel": "CRATELIMIT"}"#)
                    #expect(limited.status == .tooManyRequests && code(limited) == "upstream_rate_limited")

                    // The admin narrows what Sandboxes may do with Slack, and declares the ticket tool.
                    let catalog = """
                        tools:
                          - name: sim-slack
                            kind: slack
                            base_url: builtin
                            data_classifications: [public, internal]
                            sandbox_scopes: ["channels:read", "channels:history"]
                          - name: tickets
                            kind: rest
                            base_url: http://127.0.0.1:\(port)
                            credential: tickets-key
                            price: "0.25"
                            data_classifications: [internal]
                            sandbox_scopes: [tickets.read]
                            operations:
                              - {name: get_ticket, method: GET, path: "/tickets/{id}", scope: tickets.read}
                              - {name: broken, method: GET, path: "/broken/{id}", scope: tickets.read}
                              - {name: close_ticket, method: POST, path: "/tickets/{id}/close", scope: tickets.write}
                        """
                    expectError(
                        try await client.call(
                            .put, "/api/v1/tools/catalog", token: member, body: json(["yaml": catalog])),
                        .forbidden, "forbidden")
                    expectError(
                        try await client.call(.get, "/api/v1/tools/catalog", token: member), .forbidden, "forbidden")
                    let broken = try await client.call(
                        .put, "/api/v1/tools/catalog", token: fixture.adminToken,
                        body: json(["yaml": catalog.replacingOccurrences(of: "scope: tickets.write", with: "scoop: x")])
                    )
                    #expect(
                        broken.status == .badRequest && broken.text.contains("tools[1].operations[2].scoop"),
                        "\(broken.text)")
                    let set = try await client.call(
                        .put, "/api/v1/tools/catalog", token: fixture.adminToken, body: json(["yaml": catalog]))
                    #expect(set.status == .ok && set.json["revision"] as? Int == 1, "\(set.text)")

                    // Outside the scopes Sandboxes are given: refused, and nothing reaches Slack.
                    let refused = try await tool(
                        "sim-slack/post_message", #"{"channel": "C0SUPPORT01", "text": "should never arrive"}"#)
                    #expect(refused.status == .forbidden && code(refused) == "scope_not_granted", "\(refused.text)")
                    #expect(try await latest() == "Ticket 4521 answered")
                    let closing = try await tool("tickets/close_ticket", #"{"id": "42"}"#)
                    #expect(code(closing) == "scope_not_granted")
                    let listed = try await call(.get, "/v1/tools", token: key)
                    let names = (listed.json["data"] as? [[String: Any]])?.map { $0["name"] as? String }
                    #expect(names == ["sim-slack", "tickets"], "\(listed.text)")

                    // The REST tool needs its credential; once stored, it reaches the tool and nothing else.
                    let noCredential = try await tool("tickets/get_ticket", #"{"id": "42"}"#)
                    #expect(code(noCredential) == "credential_missing", "\(noCredential.text)")
                    let stored = try await client.call(
                        .put, "/api/v1/credentials/tickets-key", token: fixture.adminToken,
                        body: json(["secret": Self.secret]))
                    #expect(stored.status == .ok, "\(stored.text)")
                    let ticket = try await tool(
                        "tickets/get_ticket", #"{"id": "42", "expand": true, "fields": "a b&c"}"#)
                    #expect(ticket.status == .ok, "\(ticket.text)")
                    #expect((ticket.json["result"] as? [String: Any])?["id"] as? String == "42")
                    #expect(ticket.headers[HTTPField.Name("agentry-cost-usd")!] == "0.25")
                    #expect(
                        seen.values == ["/tickets/42?expand=true&fields=a%20b%26c Bearer \(Self.secret)"],
                        "\(seen.values)")

                    // Hostile and malformed arguments are refused before anything is sent.
                    for (body, param) in [
                        (#"{"id": "../admin"}"#, "id"), (#"{"id": "42%2F..%2Fadmin"}"#, "id"), (#"{"id": ".."}"#, "id"),
                        (#"{"id": "a/b"}"#, "id"), (#"{"id": {"x": 1}}"#, "id"), ("{}", "id"),
                        (#"{"id": "42", "nested": {"a": 1}}"#, "nested"),
                    ] {
                        let bad = try await tool("tickets/get_ticket", body)
                        #expect(bad.status == .badRequest, "\(body): \(bad.text)")
                        #expect(
                            (bad.json["error"] as? [String: Any])?["param"] as? String == param, "\(body): \(bad.text)")
                    }
                    for body in ["[1, 2]", "\"text\"", "{\"id\": ", "null"] {
                        #expect(try await tool("tickets/get_ticket", body).status == .badRequest, "\(body)")
                    }
                    let huge = try await tool(
                        "tickets/get_ticket", #"{"id": "1", "pad": "\#(String(repeating: "x", count: 1_100_000))"}"#)
                    #expect(huge.status == .contentTooLarge, "\(huge.status)")
                    #expect(code(try await tool("nothing/get_ticket")) == "tool_not_found")
                    #expect(code(try await tool("tickets/delete_everything")) == "operation_not_found")
                    let anonymous = try await call(
                        .post, "/v1/tools/tickets/get_ticket", token: nil, body: #"{"id":"1"}"#)
                    #expect(anonymous.status == .unauthorized)
                    let secretData = try await tool(
                        "tickets/get_ticket", #"{"id": "42"}"#,
                        headers: [HTTPField.Name("agentry-data-classification")!: "public"])
                    #expect(code(secretData) == "classification_not_allowed", "\(secretData.text)")
                    #expect(seen.values.count == 1, "refused calls reached the tool: \(seen.values)")

                    // A failing tool: a clear error, and its reservation released (nothing spent).
                    let failed = try await tool("tickets/broken", #"{"id": "7"}"#)
                    #expect(failed.status == .badGateway && code(failed) == "upstream_error", "\(failed.text)")
                    // Three priced Slack calls before the catalog changed, and one ticket.
                    let sandbox = try await call(.get, "/api/v1/sandbox", token: member)
                    let day = (sandbox.json["caps"] as? [[String: Any]])?.first { $0["window"] as? String == "day" }
                    #expect(
                        day?["settled"] as? String == "0.2503" && day?["in_flight"] as? String == "0.00",
                        "\(sandbox.text)")

                    // A cap the price does not fit: refused before the tool is called.
                    let capped = try await client.call(
                        .put, "/api/v1/caps/user:\(user.id)", token: fixture.adminToken,
                        body: #"{"day":"0.30"}"#)
                    #expect(capped.status == .ok, "\(capped.text)")
                    let over = try await tool("tickets/get_ticket", #"{"id": "43"}"#)
                    #expect(over.status == .tooManyRequests && code(over) == "cap_exceeded", "\(over.text)")
                    #expect(seen.values.count == 2, "\(seen.values)")

                    // Every call is audited with its arguments and result; the secret is nowhere.
                    let audited = try await client.call(
                        .get, "/api/v1/audit/records?kind=tool.call&limit=100", token: fixture.adminToken)
                    let events = audited.items.compactMap { $0["event"] as? [String: Any] }
                    let outcomes = events.compactMap { $0["outcome"] as? String }
                    #expect(
                        outcomes.contains("ok") && outcomes.contains("scope_not_granted")
                            && outcomes.contains("cap_exceeded"), "\(outcomes)")
                    let ok = try #require(
                        events.first {
                            $0["tool"] as? String == "tickets.get_ticket" && $0["outcome"] as? String == "ok"
                        })
                    #expect(
                        (ok["payloads"] as? [[String: Any]])?.compactMap { $0["name"] as? String } == [
                            "arguments", "result",
                        ])
                    #expect(ok["cost_microdollars"] as? Int == 250_000, "\(ok)")
                    bodies.append(audited.text)
                    for text in bodies.values + fixture.logs.lines {
                        #expect(!text.contains(Self.secret), "the tool's credential leaked: \(text.prefix(300))")
                    }
                }
            }
        }
    }

    @Test(arguments: TestBackend.allCases)
    func builtInConnectorsSpeakToTheirSimulators(_ backend: TestBackend) async throws {
        try await ServerFixture.with(backend) { fixture in
            let (user, member) = try await fixture.member("builder@example.com")
            let key = try await fixture.sandboxKey(for: user.id)
            let vault = CredentialVault(key: VaultKey.generate().key)
            try await fixture.application(vault: vault).test(.live) { client in
                let root = "http://127.0.0.1:\(try #require(client.port))/_simulators"
                func tool(_ path: String, _ body: String = "{}") async throws -> JSONReply {
                    try await client.call(.post, "/v1/tools/\(path)", token: key, body: body)
                }
                func code(_ reply: JSONReply) -> String? { (reply.json["error"] as? [String: Any])?["code"] as? String }
                func result(_ reply: JSONReply) -> [String: Any]? { reply.json["result"] as? [String: Any] }
                let policy =
                    "models: [sim/*]\ntools: [sim-*, hook, sf-wrong]\nmax_data_classification: internal\ncaps: {day: '5'}\n"
                #expect(
                    try await client.call(
                        .put, "/api/v1/sandbox/policy", token: fixture.adminToken, body: json(["yaml": policy])
                    ).status == .ok)

                // Google Drive: search, metadata, export of a Doc, download of a file; Drive's refusals.
                let found = try await tool("sim-drive/list_files", #"{"q": "name contains 'budget'"}"#)
                #expect(
                    (result(found)?["files"] as? [[String: Any]])?.first?["id"] as? String == "1AbcDocQ4Budget",
                    "\(found.text)")
                let exported = try await tool(
                    "sim-drive/export_file", #"{"fileId": "1AbcDocQ4Budget", "mimeType": "text/plain"}"#)
                #expect((exported.json["result"] as? String)?.hasPrefix("Q4 budget") == true, "\(exported.text)")
                #expect(exported.json["content_type"] as? String == "text/plain")
                let downloaded = try await tool("sim-drive/download_file", #"{"fileId": "1AbcTxtReadme"}"#)
                #expect(
                    downloaded.json["result"] as? String == "Shared drive for the finance team.\n", "\(downloaded.text)"
                )
                let notDownloadable = try await tool("sim-drive/download_file", #"{"fileId": "1AbcDocQ4Budget"}"#)
                #expect(
                    notDownloadable.status == .forbidden && code(notDownloadable) == "upstream_forbidden",
                    "\(notDownloadable.text)")
                let overridden = try await tool(
                    "sim-drive/download_file", #"{"fileId": "1AbcTxtReadme", "alt": "json"}"#)
                #expect(overridden.status == .badRequest, "\(overridden.text)")
                let missing = try await tool("sim-drive/get_file", #"{"fileId": "nothing"}"#)
                #expect(missing.status == .notFound && code(missing) == "upstream_not_found", "\(missing.text)")
                let failing = try await tool("sim-drive/get_file", #"{"fileId": "FAIL500"}"#)
                #expect(failing.status == .badGateway && code(failing) == "upstream_error", "\(failing.text)")
                let limited = try await tool("sim-drive/get_file", #"{"fileId": "RATELIMIT"}"#)
                #expect(
                    limited.status == .tooManyRequests && code(limited) == "upstream_rate_limited", "\(limited.text)")
                #expect(limited.headers[.retryAfter] == "1", "\(limited.headers)")

                // HubSpot: search contacts, read one, create a note.
                let search = try await tool(
                    "sim-hubspot/search_objects",
                    #"{"objectType": "contacts", "filterGroups": [{"filters": [{"propertyName": "company", "operator": "EQ", "value": "Analytical"}]}]}"#
                )
                #expect(result(search)?["total"] as? Int == 2, "\(search.text)")
                let contact = try await tool(
                    "sim-hubspot/read_object", #"{"objectType": "contacts", "objectId": "102"}"#)
                #expect((result(contact)?["properties"] as? [String: Any])?["email"] as? String == "grace@example.com")
                let note = try await tool(
                    "sim-hubspot/create_note", #"{"properties": {"hs_note_body": "Renewal call"}}"#)
                #expect(note.json["status"] as? Int == 201, "\(note.text)")

                // Salesforce over OAuth client credentials; a token that expires is renewed.
                let catalog = """
                    tools:
                      - {name: sim-salesforce, kind: salesforce, base_url: builtin, auth: oauth2_client_credentials,
                         token_url: builtin, client_id: "agentry-sim@2s", data_classifications: [internal],
                         sandbox_scopes: [records.read, records.write]}
                      - {name: sf-wrong, kind: salesforce, base_url: "\(root)/salesforce", credential: sf-secret,
                         auth: oauth2_client_credentials, token_url: "\(root)/salesforce/services/oauth2/token",
                         client_id: agentry, data_classifications: [internal], sandbox_scopes: [records.read]}
                      - {name: sim-webhook, kind: webhook, base_url: builtin, data_classifications: [internal],
                         sandbox_scopes: [webhook.send]}
                      - {name: sim-hubspot, kind: hubspot, base_url: builtin, price: "0.0001", timeout_seconds: 1,
                         data_classifications: [internal], sandbox_scopes: [crm.objects.read]}
                      - {name: hook, kind: webhook, base_url: "\(root)/webhooks/receive", credential: hook-secret,
                         data_classifications: [internal], sandbox_scopes: [webhook.send]}
                    """
                let set = try await client.call(
                    .put, "/api/v1/tools/catalog", token: fixture.adminToken, body: json(["yaml": catalog]))
                #expect(set.status == .ok, "\(set.text)")
                func issued() async throws -> Int? {
                    try await client.call(.get, "/_simulators/salesforce/_stats").json["tokens_issued"] as? Int
                }
                let before = try await issued() ?? 0
                let soql = #"{"q": "SELECT Id, Name FROM Account WHERE Rating = 'Hot'"}"#
                let start = ContinuousClock.now
                let hot = try await tool("sim-salesforce/soql_query", soql)
                #expect(
                    (result(hot)?["records"] as? [[String: Any]])?.first?["Name"] as? String == "Analytical Engines",
                    "\(hot.text)")
                #expect(try await tool("sim-salesforce/soql_query", soql).status == .ok)
                // Within the token's two seconds the second call reuses it (a slow machine may pass them).
                if ContinuousClock.now - start < .seconds(1) {
                    #expect(try await issued() == before + 1, "a fresh token was fetched for each call")
                }
                let held = try await issued() ?? 0
                try await Task.sleep(for: .milliseconds(2_500))
                let renewed = try await tool("sim-salesforce/soql_query", soql)
                #expect(renewed.status == .ok, "\(renewed.text)")
                #expect((try await issued() ?? 0) > held, "the expired token was not renewed")
                let updated = try await tool(
                    "sim-salesforce/update_record",
                    #"{"sobject": "Account", "recordId": "001A000001XyzUVW", "Rating": "Hot"}"#)
                #expect(updated.json["status"] as? Int == 204, "\(updated.text)")
                let badField = try await tool(
                    "sim-salesforce/update_record",
                    #"{"sobject": "Account", "recordId": "001A000001XyzUVW", "Nope": "x"}"#)
                #expect(
                    code(badField) == "upstream_rejected" && badField.text.contains("No such column"),
                    "\(badField.text)")
                #expect(
                    try await client.call(
                        .put, "/api/v1/credentials/sf-secret", token: fixture.adminToken,
                        body: json(["secret": "sf-client-secret-5d1e-never-echo"])
                    ).status == .ok)
                let refused = try await tool("sf-wrong/soql_query", soql)
                #expect(code(refused) == "upstream_credential_refused", "\(refused.text)")

                // Webhooks: signed with the shared secret; a receiver with another secret refuses.
                let sent = try await tool("sim-webhook/send", #"{"event": "ticket.closed", "ticket": 42}"#)
                #expect(result(sent)?["received"] as? Bool == true, "\(sent.text)")
                #expect(
                    try await client.call(
                        .put, "/api/v1/credentials/hook-secret", token: fixture.adminToken,
                        body: json(["secret": "hook-secret-77aa-never-echo"])
                    ).status == .ok)
                let unsigned = try await tool("hook/send", #"{"event": "x"}"#)
                #expect(code(unsigned) == "upstream_credential_refused", "\(unsigned.text)")
                // A tool slower than its timeout: a clear 504, and its reservation released.
                let slow = try await tool(
                    "sim-hubspot/read_object", #"{"objectType": "contacts", "objectId": "101~2500ms"}"#)
                #expect(slow.status == .gatewayTimeout && code(slow) == "upstream_timeout", "\(slow.text)")
                let sandbox = try await client.call(.get, "/api/v1/sandbox", token: member)
                let day = (sandbox.json["caps"] as? [[String: Any]])?.first { $0["window"] as? String == "day" }
                #expect(day?["in_flight"] as? String == "0.00", "\(sandbox.text)")
                let deliveries = try await client.call(.get, "/_simulators/webhooks/deliveries")
                let verified = (deliveries.json["deliveries"] as? [[String: Any]])?.map { $0["verified"] as? Bool }
                #expect(verified == [true, false], "\(deliveries.text)")
                #expect(deliveries.text.contains("ticket.closed"))
                // Neither the OAuth client secret nor the webhook's signing secret shows anywhere.
                let audit = try await client.call(
                    .get, "/api/v1/audit/records?kind=tool.call&limit=100", token: fixture.adminToken)
                for text in [audit.text, refused.text, unsigned.text, deliveries.text] + fixture.logs.lines {
                    #expect(!text.contains("never-echo"), "a tool secret leaked: \(text.prefix(300))")
                }
            }
        }
    }

}

import AgentryGateway
import AgentryTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import AgentryServer

/// Agentry's MCP endpoint with the official `mcp` Python SDK, callers kept apart, and upstream MCP
/// servers registered as tools.
@Suite("MCP endpoint")
struct MCPEndpointTests {
    @Test func theOfficialMCPSDKListsAndCallsOnlyWhatTheKeyMay() async throws {
        try await ServerFixture.with(.sqlite) { fixture in
            let (user, _) = try await fixture.member("builder@example.com")
            let key = try await fixture.sandboxKey(for: user.id)
            let vault = CredentialVault(key: VaultKey.generate().key)
            try await fixture.application(vault: vault).test(.live) { client in
                // Sandboxes may read Slack here, not post to it.
                let catalog = """
                    tools:
                      - {name: sim-slack, kind: slack, base_url: builtin, price: "0.0001",
                         data_classifications: [internal], sandbox_scopes: ["channels:read", "channels:history"]}
                      - {name: sim-drive, kind: google_drive, base_url: builtin, data_classifications: [internal]}
                    """
                let set = try await client.call(
                    .put, "/api/v1/tools/catalog", token: fixture.adminToken, body: json(["yaml": catalog]))
                #expect(set.status == .ok, "\(set.text)")
                let url = "http://127.0.0.1:\(try #require(client.port))/mcp"
                let seen = try await VendorSDK.run("mcp_check.py", [url, key])
                #expect(seen["server"] as? String == "agentry", "\(seen)")
                #expect(
                    seen["tools"] as? [String] == ["sim-slack__list_channels", "sim-slack__read_history"], "\(seen)")
                #expect(seen["called_error"] as? Bool == false, "\(seen)")
                #expect((seen["called_text"] as? String)?.contains("general") == true, "\(seen)")
                #expect(seen["refused_error"] as? Bool == true, "\(seen)")
                #expect((seen["refused_text"] as? String)?.hasPrefix("scope_not_granted") == true, "\(seen)")
                #expect(seen["unknown_error"] as? Bool == true, "\(seen)")
                // The MCP calls are tool calls like any other: audited, the refusal too.
                let audited = try await client.call(
                    .get, "/api/v1/audit/records?kind=tool.call", token: fixture.adminToken)
                let outcomes = audited.items.compactMap { ($0["event"] as? [String: Any])?["outcome"] as? String }
                #expect(outcomes.contains("ok") && outcomes.contains("scope_not_granted"), "\(outcomes)")
                // Without a key the endpoint answers 401 before any JSON-RPC is read; GET is 405.
                let anonymous = try await client.call(
                    .post, "/mcp", token: nil,
                    body: #"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#,
                    headers: [.accept: "application/json, text/event-stream"])
                #expect(anonymous.status == .unauthorized, "\(anonymous.text)")
                let stream = try await client.call(.get, "/mcp", token: key, headers: [.accept: "text/event-stream"])
                #expect(stream.status == .methodNotAllowed, "\(stream.status)")
                // Every method but POST is 405 Allow: POST, with or without a key.
                for method in [HTTPRequest.Method.get, .delete, .put, .patch, .options] {
                    let refused = try await client.call(method, "/mcp", token: nil)
                    #expect(refused.status == .methodNotAllowed, "\(method): \(refused.text)")
                    #expect(refused.headers[.allow] == "POST", "\(method): \(refused.headers)")
                }

                // Two callers sending the same JSON-RPC id at the same moment each get their own answer.
                let (second, _) = try await fixture.member("second@example.com")
                let secondKey = try await fixture.sandboxKey(for: second.id)
                func rpc(_ token: String, limit: Int) async throws -> Int? {
                    let reply = try await client.call(
                        .post, "/mcp", token: token,
                        body:
                            #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"sim-slack__list_channels","arguments":{"limit":\#(limit)}}}"#,
                        headers: [.accept: "application/json, text/event-stream"])
                    let result = reply.json["result"] as? [String: Any]
                    let structured = (result?["structuredContent"] as? [String: Any])?["result"] as? [String: Any]
                    return (structured?["channels"] as? [Any])?.count
                }
                for _ in 0..<10 {
                    async let one = rpc(key, limit: 1)
                    async let three = rpc(secondKey, limit: 3)
                    let (a, b) = try await (one, three)
                    #expect(a == 1 && b == 3, "answers crossed: \(String(describing: a)) \(String(describing: b))")
                }

                // An upstream MCP server registered as a tool (here Agentry's own endpoint, reached
                // with another user's key): its tools scoped, called and audited like any other.
                let (other, _) = try await fixture.member("service@example.com")
                let upstreamKey = try await fixture.sandboxKey(for: other.id)
                #expect(
                    try await client.call(
                        .put, "/api/v1/credentials/upstream-key", token: fixture.adminToken,
                        body: json(["secret": upstreamKey])
                    ).status == .ok)
                let withUpstream =
                    catalog + """

                          - {name: upstream, kind: mcp, base_url: "\(url)", credential: upstream-key,
                             data_classifications: [internal], sandbox_scopes: [mcp.read],
                             operations: [{name: sim-slack__list_channels, scope: mcp.read},
                                          {name: sim-slack__post_message, scope: mcp.write},
                                          {name: nothing__here, scope: mcp.read}]}
                        """
                let added = try await client.call(
                    .put, "/api/v1/tools/catalog", token: fixture.adminToken, body: json(["yaml": withUpstream]))
                #expect(added.status == .ok, "\(added.text)")
                let policy =
                    "models: [sim/*]\ntools: [sim-*, upstream]\nmax_data_classification: internal\ncaps: {day: '5'}\n"
                #expect(
                    try await client.call(
                        .put, "/api/v1/sandbox/policy", token: fixture.adminToken, body: json(["yaml": policy])
                    ).status == .ok)
                func tool(_ path: String, _ body: String) async throws -> JSONReply {
                    try await client.call(.post, "/v1/tools/\(path)", token: key, body: body)
                }
                let listed = try await tool("upstream/sim-slack__list_channels", #"{"limit": 1}"#)
                #expect(listed.status == .ok, "\(listed.text)")
                let structured = (listed.json["result"] as? [String: Any])?["structuredContent"] as? [String: Any]
                let channels = (structured?["result"] as? [String: Any])?["channels"] as? [[String: Any]]
                #expect(channels?.map { $0["name"] as? String } == ["general"], "\(listed.text)")
                let posting = try await tool(
                    "upstream/sim-slack__post_message", #"{"channel": "C0GENERAL01", "text": "x"}"#)
                #expect(posting.status == .forbidden, "\(posting.text)")
                let nothing = try await tool("upstream/nothing__here", "{}")
                #expect(nothing.status == .badRequest && nothing.text.contains("upstream_rejected"), "\(nothing.text)")
                let records = try await client.call(
                    .get, "/api/v1/audit/records?kind=tool.call&limit=100", token: fixture.adminToken)
                let calls = records.items.compactMap { $0["event"] as? [String: Any] }.map {
                    "\($0["actor"] as? String ?? "") \($0["tool"] as? String ?? "-") \($0["outcome"] as? String ?? "")"
                }
                #expect(calls.contains("\(user.id) upstream.sim-slack__list_channels ok"), "\(calls)")
                #expect(calls.contains("\(other.id) sim-slack.list_channels ok"), "\(calls)")
            }
        }
    }
}

import AgentryGateway
import AgentryTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import AgentryServer

/// Upstreams that quote the credential they were sent back in their answers ("Incorrect API key
/// provided: sk-…"): the gateways take it out before the answer reaches the caller, an error
/// message or the audit log.
@Suite("Secrets echoed by upstreams")
struct SecretEchoTests {
    /// The org's key for the echoing tool.
    static let toolSecret = "tk-echo-4b1d-never-echo"

    @Test func secretRedactionTakesOutEveryFormOfASecret() {
        let secret = "sk-a/b+c=d-7f3c9e1d"
        let text = #"key sk-a/b+c=d-7f3c9e1d, escaped sk-a\/b+c=d-7f3c9e1d, encoded sk-a%2Fb%2Bc%3Dd-7f3c9e1d."#
        let redacted = SecretRedaction.redact(text, secrets: [secret])
        #expect(redacted == "key [redacted], escaped [redacted], encoded [redacted].")
        #expect(SecretRedaction.redact("nothing here", secrets: [secret]) == "nothing here")
        // A secret too short to search for safely, and no secret at all, leave the text alone.
        #expect(SecretRedaction.redact("a short key", secrets: ["short"]) == "a short key")
        #expect(SecretRedaction.redact(Array("x".utf8), secrets: []) == Array("x".utf8))
        // Overlapping and adjacent occurrences are all taken out.
        #expect(SecretRedaction.redact("aaaaaaaaaaaaaaaa", secrets: ["aaaaaaaa"]) == "[redacted][redacted]")
    }

    /// A provider refusing with 400, 404, 429 and 500 and quoting the key: the caller gets the
    /// vendor's message without it, and neither the audit log nor the server's log holds it.
    @Test(arguments: TestBackend.allCases)
    func aProviderQuotingItsKeyIsRedacted(_ backend: TestBackend) async throws {
        try await ServerFixture.with(backend) { fixture in
            let (user, _) = try await fixture.member("echo@example.com")
            let key = try await fixture.sandboxKey(for: user.id)
            let seen = TextLog()
            try await TestUpstream.serve { upstream in
                try await fixture.application(gateway: upstream.setup).test(.live) { client in
                    for (model, status) in [("test/echo400", 400), ("test/echo404", 502), ("test/echo429", 429)]
                        + [("test/echo500", 502)]
                    {
                        let body = #"{"model":"\#(model)","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}"#
                        let reply = try await client.call(.post, "/v1/chat/completions", token: key, body: body)
                        seen.append(reply.text)
                        #expect(reply.status.code == status, "\(model): \(reply.text)")
                        #expect(reply.text.contains("Incorrect API key provided: Bearer [redacted]"), "\(reply.text)")
                    }
                    #expect(upstream.keysSeen.contains("Bearer \(TestUpstream.secret)"))
                    let audited = try await client.call(
                        .get, "/api/v1/audit/records?kind=model.call&limit=100", token: fixture.adminToken)
                    seen.append(audited.text)
                }
            }
            for text in seen.values + fixture.logs.lines {
                #expect(!text.contains(TestUpstream.secret), "the provider's key leaked: \(text.prefix(300))")
            }
        }
    }

    /// A REST tool and an MCP server that quote the key in refusals and in results: the caller's
    /// reply, the error and the audited result hold `[redacted]` instead.
    @Test func aToolQuotingItsKeyIsRedacted() async throws {
        try await ServerFixture.with(.sqlite) { fixture in
            let (user, _) = try await fixture.member("tool-echo@example.com")
            let key = try await fixture.sandboxKey(for: user.id)
            let router = Router()
            router.post("echo/{status}") { request, context -> Response in
                let status = Int(try context.parameters.require("status")) ?? 500
                let quoted = request.headers[HTTPField.Name("x-api-key")!] ?? "-"
                return Response(
                    status: .init(code: status), headers: [.contentType: "application/json"],
                    body: ResponseBody(
                        byteBuffer: ByteBuffer(string: #"{"message":"Incorrect API key provided: \#(quoted)"}"#)))
            }
            let echo = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
            try await echo.test(.live) { upstream in
                let port = try #require(upstream.port)
                try await fixture.application(vault: CredentialVault(key: VaultKey.generate().key)).test(.live) {
                    client in
                    var seen: [String] = []
                    let stored = try await client.call(
                        .put, "/api/v1/credentials/echo-key", token: fixture.adminToken,
                        body: json(["secret": Self.toolSecret]))
                    #expect(stored.status == .ok || stored.status == .created, "\(stored.text)")
                    let catalog = """
                        tools:
                          - name: echo
                            kind: rest
                            base_url: http://127.0.0.1:\(port)
                            credential: echo-key
                            auth: "header:x-api-key"
                            data_classifications: [public, internal]
                            sandbox_scopes: [echo.call]
                            operations:
                              - {name: ok, method: POST, path: "/echo/200", scope: echo.call}
                              - {name: refused, method: POST, path: "/echo/401", scope: echo.call}
                              - {name: failed, method: POST, path: "/echo/500", scope: echo.call}
                        """
                    let set = try await client.call(
                        .put, "/api/v1/tools/catalog", token: fixture.adminToken, body: json(["yaml": catalog]))
                    #expect(set.status == .ok, "\(set.text)")
                    let policy =
                        "models: [sim/*]\ntools: [echo]\nmax_data_classification: internal\ncaps: {run: '1', day: '5', month: '50'}\n"
                    let opened = try await client.call(
                        .put, "/api/v1/sandbox/policy", token: fixture.adminToken, body: json(["yaml": policy]))
                    #expect(opened.status == .ok, "\(opened.text)")
                    for (operation, status) in [("ok", 200), ("refused", 502), ("failed", 502)] {
                        let reply = try await client.call(.post, "/v1/tools/echo/\(operation)", token: key, body: "{}")
                        seen.append(reply.text)
                        #expect(reply.status.code == status, "\(operation): \(reply.text)")
                        #expect(reply.text.contains("Incorrect API key provided: [redacted]"), "\(reply.text)")
                    }
                    let audited = try await client.call(
                        .get, "/api/v1/audit/records?kind=tool.call&limit=10", token: fixture.adminToken)
                    let records = audited.items.compactMap { $0["index"] as? Int }
                    #expect(records.count == 3, "\(audited.text)")
                    for record in records {
                        let result = try await client.call(
                            .get, "/api/v1/audit/records/\(record)/payloads/result", token: fixture.adminToken)
                        seen.append(result.text)
                        if result.status == .ok, let encoded = result.json["content"] as? String,
                            let bytes = Data(base64Encoded: encoded)
                        {
                            seen.append(String(decoding: bytes, as: UTF8.self))
                        }
                    }
                    for text in seen + fixture.logs.lines {
                        #expect(!text.contains(Self.toolSecret), "the tool's key leaked: \(text.prefix(300))")
                    }
                }
            }
        }
    }
}

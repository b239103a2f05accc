import AgentryAudit
import AgentryGateway
import AgentryLedger
import AgentrySimulators
import AgentryTesting
import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing

@testable import AgentryServer

/// Provider credentials and the catalog, set by admins over the API: sealed at rest, injected only
/// into upstream requests, never shown; the catalog checked before it takes effect.
@Suite("Gateway administration", .serialized)
struct GatewayAdminTests {
    static let secret = "sk-stored-4b1d-never-shown"

    @Test(arguments: TestBackend.allCases)
    func storedCredentialsReachOnlyTheProvider(backend: TestBackend) async throws {
        try await ServerFixture.with(backend) { fixture in
            let (user, member) = try await fixture.member("builder@example.com")
            let key = try await fixture.sandboxKey(for: user.id)
            let vault = CredentialVault(key: VaultKey.generate().key)
            let bodies = TextLog()
            try await TestUpstream.serve { upstream in
                // No test credentials: the provider's key must come from the store.
                var setup = GatewaySetup(catalog: upstream.setup.catalog)
                setup.sandboxDefaults = upstream.setup.sandboxDefaults
                try await fixture.application(gateway: setup, vault: vault).test(.live) { client in
                    func call(_ method: HTTPRequest.Method, _ path: String, token: String, body: String? = nil)
                        async throws -> JSONReply
                    {
                        let reply = try await client.call(method, path, token: token, body: body)
                        bodies.append(reply.text)
                        return reply
                    }
                    let chat = #"{"model":"test/chat","messages":[{"role":"user","content":"hi"}]}"#
                    let missing = try await call(.post, "/v1/chat/completions", token: key, body: chat)
                    #expect(missing.status == .internalServerError)
                    #expect((missing.json["error"] as? [String: Any])?["code"] as? String == "credential_missing")
                    let set = try await call(
                        .put, "/api/v1/credentials/upstream-key", token: fixture.adminToken,
                        body: json(["secret": Self.secret]))
                    #expect(set.status == .ok, "\(set.text)")
                    #expect(set.json["key_id"] as? String == vault.keyID)
                    let answered = try await call(.post, "/v1/chat/completions", token: key, body: chat)
                    #expect(answered.status == .ok, "\(answered.text)")
                    #expect(upstream.keysSeen.contains("Bearer \(Self.secret)"))
                    let listed = try await call(.get, "/api/v1/credentials", token: fixture.adminToken)
                    #expect(listed.items.map { $0["name"] as? String } == ["upstream-key"])
                    expectError(
                        try await call(.get, "/api/v1/credentials", token: member), .forbidden, "forbidden")
                    expectError(
                        try await call(
                            .put, "/api/v1/credentials/upstream-key", token: member, body: json(["secret": "x"])),
                        .forbidden, "forbidden")
                    for (name, body) in [
                        ("Upper", json(["secret": "x"])), ("-dash", json(["secret": "x"])),
                        (String(repeating: "a", count: 65), json(["secret": "x"])), ("ok", json(["secret": ""])),
                        ("ok", json(["secret": "a\u{0}b"])), ("ok", #"{"secret":"x","note":"y"}"#),
                    ] {
                        let refused = try await call(
                            .put, "/api/v1/credentials/\(name)", token: fixture.adminToken, body: body)
                        #expect(refused.status == .badRequest, "\(name) \(body): \(refused.text)")
                    }
                    let deleted = try await call(.delete, "/api/v1/credentials/upstream-key", token: fixture.adminToken)
                    #expect(deleted.status == .noContent)
                    expectError(
                        try await call(.delete, "/api/v1/credentials/upstream-key", token: fixture.adminToken),
                        .notFound, "credential_not_found")
                    let gone = try await call(.post, "/v1/chat/completions", token: key, body: chat)
                    #expect((gone.json["error"] as? [String: Any])?["code"] as? String == "credential_missing")
                }
            }
            // Without a master key nothing can be stored.
            try await fixture.application().test(.router) { client in
                expectError(
                    try await client.call(
                        .put, "/api/v1/credentials/other", token: fixture.adminToken, body: json(["secret": "x"])),
                    .serviceUnavailable, "vault_not_configured")
            }
            let changes = try await fixture.store.audit.records(
                matching: AuditFilter(kind: .credentialChanged), from: 0, count: 10
            ).map { try $0.event() }
            #expect(changes.map(\.outcome) == ["set", "deleted"])
            #expect(changes.allSatisfy { $0.subject == "upstream-key" })
            let audit = try await fixture.store.audit.records(from: 0, count: 10_000).map {
                String(decoding: $0.leaf, as: UTF8.self)
            }
            let payloads = try await fixture.store.audit.payloads(from: 0, count: 10_000).map {
                String(decoding: $0.payload.bytes, as: UTF8.self)
            }
            for text in bodies.values + fixture.logs.lines + audit + payloads {
                #expect(!text.contains(Self.secret), "the stored key leaked: \(text.prefix(200))")
            }
        }
    }

    @Test func theCatalogIsCheckedThenTakesEffect() async throws {
        try await ServerFixture.with(.sqlite) { fixture in
            let (user, member) = try await fixture.member("builder@example.com")
            let key = try await fixture.sandboxKey(for: user.id)
            try await fixture.application().test(.live) { client in
                let shipped = try await client.call(.get, "/api/v1/gateway/catalog", token: fixture.adminToken)
                #expect(shipped.json["source"] as? String == "shipped")
                #expect((shipped.json["models"] as? [String])?.contains("sim/openai-small") == true)
                for (yaml, path) in [
                    ("models: []\nproviders: [", "(file)"),
                    ("models:\n  - name: x\n", "models[0]"),
                    (
                        "providers:\n  - { name: p, api: openai, base_url: builtin }\nmodels:\n  - { name: 'a b', provider: p }",
                        "models[0]"
                    ),
                ] {
                    let refused = try await client.call(
                        .put, "/api/v1/gateway/catalog", token: fixture.adminToken, body: json(["yaml": yaml]))
                    expectError(refused, .badRequest, "invalid_catalog")
                    #expect(refused.errorMessage.contains(path), "\(refused.text)")
                }
                expectError(
                    try await client.call(
                        .put, "/api/v1/gateway/catalog", token: member, body: json(["yaml": DefaultModelCatalog.yaml])),
                    .forbidden, "forbidden")
                let yaml = """
                    providers:
                      - { name: sims, api: openai, base_url: builtin }
                    models:
                      - name: acme/house-model
                        provider: sims
                        upstream: sim-gpt-small
                        prices: { input: "1", cached_input: "1", output: "2" }
                        context_window: 4096
                        max_output_tokens: 512
                        data_classifications: [internal]
                        zones: [sandbox]
                    """
                let set = try await client.call(
                    .put, "/api/v1/gateway/catalog", token: fixture.adminToken, body: json(["yaml": yaml]))
                #expect(set.status == .ok, "\(set.text)")
                #expect(set.json["source"] as? String == "admin")
                // A model in the catalog is offered to Sandboxes only once the Sandbox policy approves it.
                let unapproved = try await client.call(
                    .post, "/v1/chat/completions", token: key,
                    body: #"{"model":"acme/house-model","messages":[{"role":"user","content":"hi"}]}"#)
                #expect(
                    unapproved.status == .forbidden && unapproved.text.contains("Sandbox policy"), "\(unapproved.text)")
                let approved = try await client.call(
                    .put, "/api/v1/sandbox/policy", token: fixture.adminToken,
                    body: json(["yaml": "models: [acme/*, sim/*]\nmax_data_classification: internal\ncaps: {}"]))
                #expect(approved.status == .ok, "\(approved.text)")
                let models = try await client.call(.get, "/v1/models", token: key)
                #expect(
                    ((models.json["data"] as? [[String: Any]]) ?? []).map { $0["id"] as? String } == [
                        "acme/house-model"
                    ])
                let chat = try await client.call(
                    .post, "/v1/chat/completions", token: key,
                    body: #"{"model":"acme/house-model","messages":[{"role":"user","content":"hi"}]}"#)
                #expect(chat.status == .ok, "\(chat.text)")
                let old = try await client.call(
                    .post, "/v1/chat/completions", token: key,
                    body: #"{"model":"sim/openai-small","messages":[{"role":"user","content":"hi"}]}"#)
                #expect(old.status == .notFound)
                let reset = try await client.call(.delete, "/api/v1/gateway/catalog", token: fixture.adminToken)
                #expect(reset.json["source"] as? String == "shipped")
                let back = try await client.call(
                    .post, "/v1/chat/completions", token: key,
                    body: #"{"model":"sim/openai-small","messages":[{"role":"user","content":"hi"}]}"#)
                #expect(back.status == .ok)
            }
            let changes = try await fixture.store.audit.records(
                matching: AuditFilter(kind: .catalogChanged), from: 0, count: 10
            ).map { try $0.event() }
            #expect(changes.map(\.outcome) == ["set", "reset"])
        }
    }
}

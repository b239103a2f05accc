import AgentryServer
import AgentryTesting
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("Tokens API")
struct TokensAPITests {
    @Test(arguments: TestBackend.allCases)
    func tokensAreShownOnceListedWithoutSecretsAndRevocable(_ backend: TestBackend) async throws {
        try await ServerFixture.with(backend) { fixture in
            let (member, memberToken) = try await fixture.member("m@example.com")
            try await fixture.application().test(.router) { client in
                let created = try await client.call(
                    .post, "/api/v1/tokens", token: memberToken, body: #"{"name":"laptop","expires_in_days":30}"#)
                #expect(created.status == .created)
                let secret = try #require(created.json["token"] as? String)
                #expect(secret.hasPrefix("agt_pat_"))
                let record = try #require(created.json["record"] as? [String: Any])
                let id = try #require(record["id"] as? String)
                #expect(record["expires_at"] != nil)
                #expect(record["user_id"] as? String == member.id)
                let listed = try await client.call(.get, "/api/v1/tokens", token: secret)
                #expect(listed.items.count == 2)
                #expect(!listed.text.contains(secret))
                #expect(!listed.text.contains("secret_hash"))
                expectError(
                    try await client.call(.delete, "/api/v1/tokens/\(id)", token: fixture.adminToken + "0"),
                    .unauthorized, "invalid_token")
                let (_, strangerToken) = try await fixture.member("s@example.com")
                expectError(
                    try await client.call(.delete, "/api/v1/tokens/\(id)", token: strangerToken), .notFound,
                    "token_not_found")
                let revoked = try await client.call(.delete, "/api/v1/tokens/\(id)", token: memberToken)
                #expect(revoked.json["revoked_at"] != nil)
                let again = try await client.call(.delete, "/api/v1/tokens/\(id)", token: memberToken)
                #expect(again.json["revoked_at"] as? String == revoked.json["revoked_at"] as? String)
                expectError(
                    try await client.call(.get, "/api/v1/users/me", token: secret), .unauthorized, "token_revoked")
                let adminView = try await client.call(
                    .get, "/api/v1/tokens?user_id=\(member.id)", token: fixture.adminToken)
                #expect(adminView.items.count == 2)
            }
        }
    }

    @Test func lifetimesOutOfRangeAreRefused() async throws {
        try await ServerFixture.with(.sqlite) { fixture in
            try await fixture.application().test(.router) { client in
                for days in ["0", "-5", "1827", "1.5", "\"30\"", "99999999999999999999"] {
                    let reply = try await client.call(
                        .post, "/api/v1/tokens", token: fixture.adminToken,
                        body: #"{"name":"x","expires_in_days":\#(days)}"#)
                    expectError(reply, .badRequest, "invalid_field")
                }
                expectError(
                    try await client.call(
                        .post, "/api/v1/tokens", token: fixture.adminToken, body: #"{"name":"x","colour":"red"}"#),
                    .badRequest, "unknown_field")
                for kind in ["run", "admin", "SANDBOX"] {
                    expectError(
                        try await client.call(
                            .post, "/api/v1/tokens", token: fixture.adminToken, body: #"{"name":"x","kind":"\#(kind)"}"#
                        ),
                        .badRequest, "invalid_field")
                }
                #expect(try await client.call(.get, "/api/v1/tokens", token: fixture.adminToken).items.count == 1)
                // A Sandbox key is a token of its own kind: listed with the others, refused by the registry API.
                let sandbox = try await client.call(
                    .post, "/api/v1/tokens", token: fixture.adminToken, body: #"{"name":"sb","kind":"sandbox"}"#)
                #expect(sandbox.status == .created)
                let secret = try #require(sandbox.json["token"] as? String)
                #expect(secret.hasPrefix("agt_sandbox_"))
                #expect((sandbox.json["record"] as? [String: Any])?["kind"] as? String == "sandbox")
                expectError(
                    try await client.call(.get, "/api/v1/users/me", token: secret), .unauthorized, "wrong_token_kind")
            }
        }
    }
}

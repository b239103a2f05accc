import AgentryServer
import AgentryTesting
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// No token secret may appear in a log line or in any response but the one that created it.
@Suite("Secret hygiene")
struct SecretHygieneTests {
    @Test(arguments: TestBackend.allCases)
    func secretsNeverReachLogsOrOtherResponses(_ backend: TestBackend) async throws {
        try await ServerFixture.with(backend) { fixture in
            let (secret, bodies) = try await fixture.application().test(.live) { client in
                var bodies: [String] = []
                let created = try await client.call(
                    .post, "/api/v1/tokens", token: fixture.adminToken, body: #"{"name":"ci"}"#)
                let secret = try #require(created.json["token"] as? String)
                for path in ["/api/v1/users/me", "/api/v1/tokens", "/api/v1/users", "/metrics", "/readyz"] {
                    bodies.append(try await client.call(.get, path, token: secret).text)
                }
                let tokens = try await client.call(.get, "/api/v1/tokens", token: secret)
                for item in tokens.items {
                    _ = try await client.call(.delete, "/api/v1/tokens/\(item["id"] as? String ?? "")", token: secret)
                }
                bodies.append(try await client.call(.get, "/api/v1/users/me", token: secret).text)
                bodies.append(try await client.call(.get, "/api/v1/users/me", token: secret + "tampered").text)
                bodies.append(try await client.call(.post, "/api/v1/teams", token: secret, body: "{" + secret).text)
                return (secret, bodies)
            }
            let secrets = [fixture.adminToken, secret]
            let logText = fixture.logs.lines.joined(separator: "\n")
            #expect(!logText.isEmpty)
            for secret in secrets {
                #expect(!logText.contains(secret), "a token secret was logged")
                #expect(!logText.contains(String(secret.dropFirst(8).prefix(20))), "part of a token secret was logged")
                for body in bodies {
                    #expect(!body.contains(String(secret.dropFirst(8).prefix(20))), "a secret was echoed: \(body)")
                }
            }
        }
    }
}

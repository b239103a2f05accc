import AgentryGateway
import AgentryTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import AgentryServer

/// What hostile or careless clients send: huge values (a message quotes at most 2,000 characters of
/// them and says how much it left out), malformed JSON, encoded path segments, HEAD requests.
@Suite("Hostile input")
struct HostileInputTests {
    /// Path segments mean the same encoded or not, on every route; HEAD is answered where GET is.
    @Test func encodedPathsAndHeadAreUnderstood() async throws {
        try await ServerFixture.with(.sqlite) { fixture in
            try await fixture.application().test(.live) { client in
                let created = try await client.call(
                    .post, "/api/v1/teams", token: fixture.adminToken,
                    body: #"{"name":"finance","department":"Finance"}"#)
                #expect(created.status == .created, "\(created.text)")
                let id = try #require(created.json["id"] as? String)
                let plain = try await client.call(.get, "/api/v1/teams/\(id)", token: fixture.adminToken)
                let encoded = try await client.call(
                    .get, "/api/v1/teams/" + id.map { "%" + String($0.asciiValue!, radix: 16) }.joined(),
                    token: fixture.adminToken)
                #expect(plain.status == .ok && encoded.status == .ok, "\(encoded.text)")
                #expect(encoded.json["id"] as? String == id)
                let capped = try await client.call(
                    .put, "/api/v1/caps/team%3Afinance/day", token: fixture.adminToken, body: #"{"limit":"5"}"#)
                #expect(capped.status == .ok, "\(capped.text)")
                for path in ["/healthz", "/readyz", "/api/v1/users/me"] {
                    let head = try await client.call(.head, path, token: fixture.adminToken)
                    #expect(head.status == .ok, "\(path): \(head.status)")
                    #expect(head.text.isEmpty, "\(path): \(head.text)")
                }
            }
        }
    }

    @Test func longMessagesAreCutAndSaySo() {
        let cut = GatewayError.bounded(String(repeating: "x", count: 5000))
        #expect(cut.hasPrefix(String(repeating: "x", count: 2000) + "… (3000 more characters)"))
        #expect(GatewayError.bounded("short") == "short")
        #expect(APIError(.badRequest, "x", String(repeating: "y", count: 10_000)).message.count < 2100)
    }

    /// A body the gateway cannot read is 400 with what is wrong and where, on every route.
    @Test func malformedGatewayBodiesSayWhatIsWrong() async throws {
        try await ServerFixture.with(.sqlite) { fixture in
            let (user, _) = try await fixture.member("malformed@example.com")
            let key = try await fixture.sandboxKey(for: user.id)
            try await fixture.application(configuration: ServerFixture.configuration).test(.live) { client in
                let cases: [(String, String)] = [
                    (#"{"model":"a","model":"b"}"#, "duplicate"),
                    ("{\"model\": \"sim/openai-small\"\n  \"messages\": []}", "line 2, column 3"),
                    (
                        #"{"model":"sim/openai-small","max_tokens":1e400,"messages":[]}"#,
                        "number out of range at line 1, column 42"
                    ),
                    (
                        #"{"model":"sim/openai-small","messages":[{"role":"user","content":"\ud800"}]}"#,
                        "unpaired surrogate"
                    ),
                    (String(repeating: "[", count: 5000), "deep"),
                ]
                for route in ["/v1/chat/completions", "/v1/embeddings", "/v1/messages/count_tokens"] {
                    for (body, expected) in cases {
                        let reply = try await client.call(.post, route, token: key, body: body)
                        #expect(reply.status == .badRequest, "\(route) \(body.prefix(40)): \(reply.text)")
                        #expect(reply.text.contains(expected), "\(route) \(body.prefix(40)): \(reply.text)")
                    }
                }
            }
        }
    }

    /// Registry bodies: an unpaired surrogate escape or a number beyond range is placed by line
    /// and column; a whole number too large for its field names the field.
    @Test func registryNumbersAndSurrogatesSayWhereAndWhat() async throws {
        try await ServerFixture.with(.sqlite) { fixture in
            try await fixture.application().test(.live) { client in
                let surrogate = try await client.call(
                    .post, "/api/v1/teams", token: fixture.adminToken, body: #"{"name":"abc","department":"\ud800"}"#)
                #expect(surrogate.status == .badRequest)
                #expect(surrogate.text.contains("unpaired surrogate escape"), "\(surrogate.text)")
                #expect(surrogate.text.contains("line 1, column 29"), "\(surrogate.text)")
                let reversed = try await client.call(
                    .patch, "/api/v1/users/me", token: fixture.adminToken,
                    body: #"{"display_name":"\udc00\ud800"}"#)
                #expect(reversed.text.contains("unpaired surrogate escape"), "\(reversed.text)")
                let paired = try await client.call(
                    .patch, "/api/v1/users/me", token: fixture.adminToken, body: #"{"display_name":"Ada \ud83d\ude00"}"#
                )
                #expect(paired.status == .ok, "\(paired.text)")
                let huge = try await client.call(
                    .post, "/api/v1/tokens", token: fixture.adminToken, body: #"{"name":"x","expires_in_days":1e400}"#)
                #expect(huge.text.contains("number out of range at line 1, column 31"), "\(huge.text)")
                let wide = try await client.call(
                    .post, "/api/v1/tokens", token: fixture.adminToken,
                    body: #"{"name":"x","expires_in_days":18446744073709551616}"#)
                #expect(wide.status == .badRequest)
                #expect(wide.text.contains("expires_in_days"), "\(wide.text)")
            }
        }
    }

    @Test func aHugeModelNameIsNotEchoedWhole() async throws {
        try await ServerFixture.with(.sqlite) { fixture in
            let (user, _) = try await fixture.member("echo-limit@example.com")
            let key = try await fixture.sandboxKey(for: user.id)
            try await fixture.application(configuration: ServerFixture.configuration).test(.live) { client in
                let name = String(repeating: "m", count: 1_000_000)
                let body = #"{"model":"\#(name)","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}"#
                let reply = try await client.call(.post, "/v1/chat/completions", token: key, body: body)
                #expect(reply.status == .notFound, "\(reply.text.prefix(300))")
                #expect(reply.text.utf8.count < 4000, "the error echoed \(reply.text.utf8.count) bytes")
                #expect(reply.text.contains("more characters"))
                // One model by its name, the slash as is or encoded; another name is OpenAI's 404.
                for path in ["/v1/models/sim/openai-small", "/v1/models/sim%2Fopenai-small"] {
                    let found = try await client.call(.get, path, token: key)
                    #expect(found.status == .ok, "\(path): \(found.text)")
                    #expect(found.json["id"] as? String == "sim/openai-small")
                }
                let missing = try await client.call(.get, "/v1/models/no-such-model", token: key)
                #expect(missing.status == .notFound)
                #expect((missing.json["error"] as? [String: Any])?["code"] as? String == "model_not_found")
                let anthropic = try await client.call(
                    .get, "/v1/models/no-such-model", token: key,
                    headers: [HTTPField.Name("anthropic-version")!: "2023-06-01"])
                #expect(anthropic.json["type"] as? String == "error", "\(anthropic.text)")
                let anonymous = try await client.call(.get, "/v1/models/sim/openai-small", token: nil)
                #expect(anonymous.status == .unauthorized)
            }
        }
    }
}

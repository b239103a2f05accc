import AgentrySimulators
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// The OpenAI simulator against the official `openai` Python SDK (pinned in Tests/sdk): if the SDK
/// reads every reply and raises its own exception for every error, the simulator speaks the wire
/// format, and the gateway's tests against it test the real thing.
@Suite("OpenAI simulator")
struct OpenAISimulatorTests {
    @Test func theOfficialSDKReadsEveryReplyAndError() async throws {
        let seen = try await SDKCheck.run(
            "openai_check.py", model: "sim-gpt-small", path: "/v1"
        ) { OpenAISimulator().register(on: $0) }
        #expect(seen["models"] as? [String] == ["sim-gpt-small", "sim-embed"])
        let chat = try #require(seen["chat"] as? [String: Any])
        #expect(chat["content"] as? String == "Simulated reply to: hello there")
        #expect(chat["finish_reason"] as? String == "stop")
        // System "be brief" (2 words + 3) + user "hello there" (2 + 3) + 3 for the reply's priming.
        #expect(chat["prompt_tokens"] as? Int == 13 && chat["completion_tokens"] as? Int == 5)
        #expect(chat["total_tokens"] as? Int == 18)
        let short = try #require(seen["short"] as? [String: Any])
        #expect(short["content"] as? String == "Simulated reply" && short["finish_reason"] as? String == "length")
        let stream = try #require(seen["stream"] as? [String: Any])
        #expect(stream["content"] as? String == "Simulated reply to: stream please")
        #expect(stream["finish_reason"] as? String == "stop")
        #expect((stream["usage"] as? [String: Any])?["completion_tokens"] as? Int == 5, "\(stream)")
        let tool = try #require(seen["tool"] as? [String: Any])
        #expect(tool["finish_reason"] as? String == "tool_calls" && tool["name"] as? String == "lookup")
        #expect((tool["arguments"] as? [String: Any])?["query"] as? String == "please call the tool")
        #expect((seen["json_mode"] as? [String: Any])?["reply"] as? String == "Simulated reply to: json please")
        let embeddings = try #require(seen["embeddings"] as? [String: Any])
        #expect(embeddings["count"] as? Int == 2 && embeddings["dimensions"] as? Int == 8)
        #expect(embeddings["prompt_tokens"] as? Int == 3)
        let errors = try #require(seen["errors"] as? [String: Any])
        for (name, status) in [
            ("not_found", 404), ("rate_limited", 429), ("server_error", 500), ("bad_request", 400), ("no_key", 401),
        ] {
            #expect(
                (errors[name] as? [String: Any])?["status"] as? Int == status,
                "\(name): \(String(describing: errors[name]))")
        }
    }

    @Test func malformedRequestsGetOpenAIErrorBodies() async throws {
        let router = Router()
        OpenAISimulator().register(on: router)
        let app = Application(router: router)
        try await app.test(.router) { client in
            let auth: HTTPFields = [.authorization: "Bearer sk-test", .contentType: "application/json"]
            for (body, param) in [
                ("not json", "body"), (#"{"messages":[{"role":"user","content":"x"}]}"#, "model"),
                (#"{"model":"m","messages":[]}"#, "messages"), (#"{"model":"m","messages":"x"}"#, "messages"),
            ] {
                try await client.execute(
                    uri: "/v1/chat/completions", method: .post, headers: auth, body: ByteBuffer(string: body)
                ) { response in
                    #expect(response.status == .badRequest, "\(body)")
                    let object = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]
                    let error = object?["error"] as? [String: Any]
                    #expect(error?["type"] as? String == "invalid_request_error" && error?["param"] as? String == param)
                }
            }
            try await client.execute(
                uri: "/v1/embeddings", method: .post, headers: auth,
                body: ByteBuffer(string: #"{"model":"e","input":[]}"#)
            ) { response in #expect(response.status == .badRequest) }
        }
    }
}

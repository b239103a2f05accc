import AgentrySimulators
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// Mistral's SDK calls `/v1/chat/completions` and `/v1/embeddings`: the OpenAI simulator must
/// satisfy the official `mistralai` SDK (pinned in Tests/sdk) as well.
@Suite("Mistral SDK on the OpenAI simulator")
struct MistralSDKTests {
    @Test func theOfficialSDKReadsChatsStreamsEmbeddingsAndErrors() async throws {
        let seen = try await SDKCheck.run(
            "mistral_check.py", model: "sim-mistral-small"
        ) { OpenAISimulator().register(on: $0) }
        let chat = try #require(seen["chat"] as? [String: Any])
        #expect(chat["content"] as? String == "Simulated reply to: hello there")
        #expect(chat["finish_reason"] as? String == "stop")
        #expect(chat["prompt_tokens"] as? Int == 8 && chat["completion_tokens"] as? Int == 5)
        let stream = try #require(seen["stream"] as? [String: Any])
        #expect(stream["content"] as? String == "Simulated reply to: stream please", "\(stream)")
        #expect(stream["finish_reason"] as? String == "stop")
        let embeddings = try #require(seen["embeddings"] as? [String: Any])
        #expect(embeddings["count"] as? Int == 2 && embeddings["dimensions"] as? Int == 8)
        let errors = try #require(seen["errors"] as? [String: Any])
        for (name, status) in [("not_found", 404), ("server_error", 500)] {
            #expect(
                (errors[name] as? [String: Any])?["status"] as? Int == status,
                "\(name): \(String(describing: errors[name]))")
        }
    }
}

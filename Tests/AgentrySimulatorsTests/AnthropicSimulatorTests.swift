import AgentrySimulators
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// The Anthropic simulator against the official `anthropic` Python SDK (pinned in Tests/sdk).
@Suite("Anthropic simulator")
struct AnthropicSimulatorTests {
    @Test func theOfficialSDKReadsEveryReplyEventAndError() async throws {
        let seen = try await SDKCheck.run(
            "anthropic_check.py", model: "sim-claude-small"
        ) { AnthropicSimulator().register(on: $0) }
        let message = try #require(seen["message"] as? [String: Any])
        #expect(message["text"] as? String == "Simulated reply to: hello there")
        #expect(message["stop_reason"] as? String == "end_turn")
        // System "be brief" (2 words) + user "hello there" (2 + 3).
        #expect(message["input_tokens"] as? Int == 7 && message["output_tokens"] as? Int == 5)
        let short = try #require(seen["short"] as? [String: Any])
        #expect(short["text"] as? String == "Simulated reply" && short["stop_reason"] as? String == "max_tokens")
        let stream = try #require(seen["stream"] as? [String: Any])
        #expect(stream["text"] as? String == "Simulated reply to: stream please", "\(stream)")
        #expect(stream["stop_reason"] as? String == "end_turn" && stream["output_tokens"] as? Int == 5)
        #expect(stream["input_tokens"] as? Int == 5)
        let tool = try #require(seen["tool"] as? [String: Any])
        #expect(tool["stop_reason"] as? String == "tool_use" && tool["type"] as? String == "tool_use")
        #expect(tool["name"] as? String == "lookup")
        #expect((tool["input"] as? [String: Any])?["query"] as? String == "please call the tool")
        let streamed = try #require(seen["tool_stream"] as? [String: Any])
        #expect(streamed["stop_reason"] as? String == "tool_use")
        #expect((streamed["input"] as? [String: Any])?["query"] as? String == "call it streaming", "\(streamed)")
        #expect(seen["count_tokens"] as? Int == 7)
        let errors = try #require(seen["errors"] as? [String: Any])
        for (name, status, type) in [
            ("not_found", 404, "not_found_error"), ("rate_limited", 429, "rate_limit_error"),
            ("server_error", 500, "api_error"), ("overloaded", 529, "overloaded_error"),
            ("bad_request", 400, "invalid_request_error"), ("no_key", 401, "authentication_error"),
        ] {
            let error = errors[name] as? [String: Any]
            #expect(
                error?["status"] as? Int == status && error?["type"] as? String == type,
                "\(name): \(String(describing: errors[name]))")
        }
    }
}

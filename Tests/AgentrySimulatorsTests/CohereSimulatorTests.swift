import AgentrySimulators
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// The Cohere simulator against the official `cohere` Python SDK (pinned in Tests/sdk).
@Suite("Cohere simulator")
struct CohereSimulatorTests {
    @Test func theOfficialSDKReadsEveryReplyAndError() async throws {
        let seen = try await SDKCheck.run("cohere_check.py", model: "sim-command-r") {
            CohereSimulator().register(on: $0)
        }
        let chat = try #require(seen["chat"] as? [String: Any])
        #expect(chat["text"] as? String == "Simulated reply to: hello there")
        #expect(chat["finish_reason"] as? String == "COMPLETE")
        // "be brief" (2 + 3) and "hello there" (2 + 3).
        #expect(chat["input_tokens"] as? Double == 10 && chat["output_tokens"] as? Double == 5)
        let short = try #require(seen["short"] as? [String: Any])
        #expect(short["text"] as? String == "Simulated reply" && short["finish_reason"] as? String == "MAX_TOKENS")
        let stream = try #require(seen["stream"] as? [String: Any])
        #expect(stream["text"] as? String == "Simulated reply to: stream please", "\(stream)")
        #expect(stream["finish_reason"] as? String == "COMPLETE" && stream["output_tokens"] as? Double == 5)
        let tool = try #require(seen["tool"] as? [String: Any])
        #expect(tool["name"] as? String == "lookup" && tool["finish_reason"] as? String == "TOOL_CALL")
        #expect((tool["arguments"] as? [String: Any])?["query"] as? String == "please call the tool")
        #expect((seen["tool_stream"] as? [String: Any])?["query"] as? String == "please call the tool")
        let errors = try #require(seen["errors"] as? [String: Any])
        for (name, status, type) in [
            ("not_found", 404, "NotFoundError"), ("rate_limited", 429, "TooManyRequestsError"),
            ("server_error", 500, "InternalServerError"),
        ] {
            let error = errors[name] as? [String: Any]
            #expect(
                error?["status"] as? Int == status && error?["class"] as? String == type,
                "\(name): \(String(describing: errors[name]))")
        }
        #expect(
            (errors["no_key"] as? [String: Any])?["status"] as? Int == 401, "\(String(describing: errors["no_key"]))")
    }
}

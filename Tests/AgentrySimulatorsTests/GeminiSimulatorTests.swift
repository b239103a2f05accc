import AgentrySimulators
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// The Gemini simulator against the official `google-genai` Python SDK (pinned in Tests/sdk).
@Suite("Gemini simulator")
struct GeminiSimulatorTests {
    @Test func theOfficialSDKReadsEveryReplyAndError() async throws {
        let seen = try await SDKCheck.run(
            "gemini_check.py", model: "sim-gemini-flash"
        ) { GeminiSimulator().register(on: $0) }
        let content = try #require(seen["content"] as? [String: Any])
        #expect(content["text"] as? String == "Simulated reply to: hello there")
        #expect(content["finish_reason"] as? String == "STOP")
        // System "be brief" (2 words) + "hello there" (2 + 3).
        #expect(content["prompt_tokens"] as? Int == 7 && content["output_tokens"] as? Int == 5)
        let short = try #require(seen["short"] as? [String: Any])
        #expect(short["text"] as? String == "Simulated reply" && short["finish_reason"] as? String == "MAX_TOKENS")
        let stream = try #require(seen["stream"] as? [String: Any])
        #expect(stream["text"] as? String == "Simulated reply to: stream please", "\(stream)")
        #expect(stream["chunks"] as? Int == 5 && stream["output_tokens"] as? Int == 5)
        let tool = try #require(seen["tool"] as? [String: Any])
        #expect(tool["name"] as? String == "lookup")
        #expect((tool["args"] as? [String: Any])?["query"] as? String == "please call the tool")
        #expect((seen["json_mode"] as? [String: Any])?["reply"] as? String == "Simulated reply to: json please")
        #expect(seen["count_tokens"] as? Int == 7)
        let errors = try #require(seen["errors"] as? [String: Any])
        for (name, code, status) in [
            ("not_found", 404, "NOT_FOUND"), ("rate_limited", 429, "RESOURCE_EXHAUSTED"),
            ("server_error", 500, "INTERNAL"),
        ] {
            let error = errors[name] as? [String: Any]
            #expect(
                error?["code"] as? Int == code && error?["status"] as? String == status,
                "\(name): \(String(describing: errors[name]))")
        }
        let noKey = errors["no_key"] as? [String: Any]
        #expect(
            noKey?["code"] as? Int == 403 || noKey?["refused_by_sdk"] != nil, "\(String(describing: noKey))")
    }

    @Test func aMissingKeyAndBadRequestsGetGoogleErrorBodies() async throws {
        let router = Router()
        GeminiSimulator().register(on: router)
        try await Application(router: router).test(.router) { client in
            let json: HTTPFields = [.contentType: "application/json"]
            try await client.execute(
                uri: "/v1/models/m:generateContent", method: .post, headers: json,
                body: ByteBuffer(string: #"{"contents":[{"parts":[{"text":"hi"}]}]}"#)
            ) { response in
                #expect(response.status == .forbidden)
                #expect(String(buffer: response.body).contains("PERMISSION_DENIED"))
            }
            for (path, body, status) in [
                ("/v1beta/models/m:generateContent?key=k", #"{"contents":[]}"#, HTTPResponse.Status.badRequest),
                ("/v1/models/m:generateContent?key=k", "nope", .badRequest),
                ("/v1/models/m:explode?key=k", "{}", .notFound),
                ("/v1/models/m?key=k", "{}", .notFound),
            ] {
                try await client.execute(uri: path, method: .post, headers: json, body: ByteBuffer(string: body)) {
                    response in
                    #expect(response.status == status, "\(path) \(body): \(String(buffer: response.body))")
                    let object = try? JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]
                    #expect((object?["error"] as? [String: Any])?["code"] as? Int == Int(status.code), "\(path)")
                }
            }
        }
    }
}

import AgentryRegistry
import AgentryRuntime
import AgentryTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import AgentryServer

/// A run token at the gateways: a published code agent's calls are held to what review granted
/// (tools and scopes, models), and its token dies with the run.
@Suite("Run tokens", .serialized)
struct RunTokenTests {
    @Test func aRunTokenCallsOnlyWhatWasGrantedAndDiesWithItsRun() async throws {
        try await ServerFixture.with(.sqlite) { fixture in
            let (_, builder) = try await fixture.member("builder@example.com")
            let (_, runner) = try await fixture.member("runner@example.com")
            let directory = try TemporaryDirectory(prefix: "agentry-runtime")
            defer { directory.remove() }
            _ = chmod(directory.path, 0o711)
            let runtime = RuntimeSetup(code: CodeRuntimeSettings(directory: directory.path))
            try await fixture.application(runtime: runtime).test(.live) { client in
                let main = #"""
                    import json, os, sys, urllib.request, urllib.error
                    json.load(sys.stdin)
                    def call(method, path, body=None):
                        request = urllib.request.Request(
                            os.environ["AGENTRY_GATEWAY_URL"] + path, method=method,
                            data=None if body is None else json.dumps(body).encode(),
                            headers={"Authorization": "Bearer " + os.environ["AGENTRY_RUN_TOKEN"],
                                     "Content-Type": "application/json"})
                        try:
                            with urllib.request.urlopen(request) as response:
                                return response.status, json.load(response)
                        except urllib.error.HTTPError as error:
                            return error.code, json.load(error)
                    posted = call("POST", "/v1/tools/sim-slack/post_message", {"channel": "C0GENERAL01", "text": "hi"})
                    listed = call("POST", "/v1/tools/sim-slack/list_channels", {})
                    drive = call("POST", "/v1/tools/sim-drive/list_files", {})
                    models = call("GET", "/v1/models")
                    other = call("POST", "/v1/chat/completions", {"model": "sim/anthropic-small", "max_tokens": 5,
                                 "messages": [{"role": "user", "content": "hi"}]})
                    json.dump({"posted": posted[0], "listed": [listed[0], listed[1]["error"]["code"]],
                               "drive": [drive[0], drive[1]["error"]["code"]],
                               "models": sorted(m["id"] for m in models[1]["data"]),
                               "other": [other[0], other[1]["error"]["code"]],
                               "token": os.environ["AGENTRY_RUN_TOKEN"]}, sys.stdout)
                    """#
                var package = CodeAgentRunTests.package("slack-coder", main: main)
                package = Self.requestingSlack(package)
                let set = try await client.call(
                    .put, "/api/v1/review/policy", token: fixture.adminToken,
                    body: json(["yaml": "rules: []\nauto_approve: when_all_pass"]))
                #expect(set.status == .ok)
                #expect(try await client.push(package, token: builder).status == .created)
                let submitted = try await client.call(
                    .post, "/api/v1/agents/slack-coder/versions/0.1.0/submit", token: builder,
                    body: #"{"purpose":"Post"}"#)
                #expect(submitted.json["state"] as? String == "approved", "\(submitted.text)")

                let run = try await CodeAgentRunTests.run(
                    client, token: runner, agent: "slack-coder", inputs: ["notes": "-"])
                #expect(run["status"] as? String == "succeeded" && run["zone"] as? String == "catalog", "\(run)")
                let output = try #require(run["output"] as? [String: Any])
                #expect(output["posted"] as? Int == 200, "a granted operation is called: \(output)")
                #expect(output["listed"] as? [AnyHashable] == [403, "scope_not_granted"], "\(output)")
                #expect(output["drive"] as? [AnyHashable] == [403, "scope_not_granted"], "\(output)")
                #expect(output["models"] as? [String] == ["sim/openai-small"], "only granted models are listed")
                #expect(output["other"] as? [AnyHashable] == [403, "model_not_allowed"], "\(output)")
                let calls = try #require(run["calls"] as? [[String: Any]])
                #expect(
                    calls.compactMap { $0["outcome"] as? String }.sorted()
                        == ["model_not_allowed", "ok", "scope_not_granted", "scope_not_granted"], "\(calls)")

                // The run is over: its token is refused everywhere.
                let token = try #require(output["token"] as? String)
                let after = try await client.call(
                    .post, "/v1/tools/sim-slack/post_message", token: token,
                    body: #"{"channel": "C0GENERAL01", "text": "again"}"#)
                #expect(after.status == .unauthorized, "\(after.text)")
                let chat = try await client.call(.get, "/v1/models", token: token)
                #expect(chat.status == .unauthorized, "\(chat.text)")
                // Nor is it a key for the registry API.
                #expect(try await client.call(.get, "/api/v1/users/me", token: token).status == .unauthorized)
            }
        }
    }

    /// The package with its manifest asking for Slack's `chat:write`.
    static func requestingSlack(_ zip: [UInt8]) -> [UInt8] {
        guard let files = try? ZipReader.files(of: zip, entriesMax: 10, unpackedBytesMax: 1 << 20) else { return zip }
        var writer = ZipWriter()
        for file in files {
            var bytes = file.bytes
            if file.path == "agent.yaml" {
                let (from, to) = requesting("sim-slack", scope: "\"chat:write\"")
                bytes = Array(String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: from, with: to).utf8)
            }
            writer.add(ZipWriter.Entry(path: file.path, bytes: bytes))
        }
        return writer.bytes()
    }
}

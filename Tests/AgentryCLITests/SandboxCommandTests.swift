import AgentryTesting
import Foundation
import Testing

/// `agentry sandbox` against a real server: a key that works with the gateway, and the policy
/// changed from a file, with clear refusals.
@Suite("agentry sandbox")
struct SandboxCommandTests {
    @Test func aBuilderGetsAKeyAndAnAdminChangesThePolicy() async throws {
        try await StoreFixture.withLocation(.sqlite) { location in
            let files = try TemporaryDirectory(prefix: "agentry-sandbox")
            defer { files.remove() }
            let server = try RunningProcess(["serve", "--port", "0"] + location.serveArguments)
            defer { server.stop() }
            let (url, token) = try await ServeProcessTests.started(server)
            let auth = ["--server", url, "--token", try #require(token)]

            let issued = try await AgentryProcess.run(["sandbox", "key", "--name", "laptop"] + auth)
            #expect(issued.status == 0, "stderr: \(issued.stderr)")
            #expect(issued.stdout.contains("OPENAI_BASE_URL=\(url)/v1"), "\(issued.stdout)")
            let key = try #require(
                issued.stdout.split(whereSeparator: \.isWhitespace).first { $0.hasPrefix("agt_sandbox_") }
                    .map(String.init))
            let chat = #"{"model":"sim/openai-small","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}"#
            let call = try await HTTP.send("POST", url + "/v1/chat/completions", token: key, json: chat)
            #expect(call.status == 200, "\(call.body)")
            let shown = try await AgentryProcess.run(["sandbox", "show"] + auth)
            #expect(shown.status == 0, "stderr: \(shown.stderr)")
            #expect(shown.stdout.contains("sim/openai-small") && shown.stdout.contains("laptop"), "\(shown.stdout)")
            #expect(shown.stdout.contains("$5.00"), "the shipped day cap: \(shown.stdout)")

            let bad = files.file("bad.yaml")
            try "models: [sim/*]\nmax_data_classification: secret\ncaps: {}\n".write(
                toFile: bad, atomically: false, encoding: .utf8)
            let refused = try await AgentryProcess.run(["sandbox", "policy", "set", bad] + auth)
            #expect(refused.status != 0)
            #expect(refused.stderr.contains("max_data_classification"), "\(refused.stderr)")
            let missing = try await AgentryProcess.run(["sandbox", "policy", "set", files.file("absent.yaml")] + auth)
            #expect(missing.status != 0 && missing.stderr.contains("cannot read"), "\(missing.stderr)")
            let good = files.file("policy.yaml")
            try "models: [sim/anthropic-*]\nmax_data_classification: internal\ncaps: {day: '3'}\n".write(
                toFile: good, atomically: false, encoding: .utf8)
            let stale = try await AgentryProcess.run(
                ["sandbox", "policy", "set", good, "--expected-revision", "4"] + auth)
            #expect(stale.status != 0 && stale.stderr.contains("revision"), "\(stale.stderr)")
            let applied = try await AgentryProcess.run(
                ["sandbox", "policy", "set", good, "--expected-revision", "0"] + auth)
            #expect(applied.status == 0 && applied.stdout.contains("revision 1"), "\(applied.stdout)\(applied.stderr)")
            let policy = try await AgentryProcess.run(["sandbox", "policy", "show"] + auth)
            #expect(policy.stdout.contains("# revision 1 (admin)") && policy.stdout.contains("sim/anthropic-*"))
            let history = try await AgentryProcess.run(["sandbox", "policy", "history"] + auth)
            #expect(history.status == 0 && history.stdout.contains("REVISION"), "\(history.stdout)")
            let refusedModel = try await HTTP.send("POST", url + "/v1/chat/completions", token: key, json: chat)
            #expect(refusedModel.status == 403, "\(refusedModel.body)")
            let after = try await AgentryProcess.run(["sandbox", "show"] + auth)
            #expect(after.stdout.contains("$3.00") && !after.stdout.contains("sim/openai-small"), "\(after.stdout)")

            server.signal(SIGTERM)
            _ = try await server.wait(timeout: .seconds(30))
            #expect(!server.stdout.contains(key) && !server.stderr.contains(key), "the Sandbox key was logged")
        }
    }
}

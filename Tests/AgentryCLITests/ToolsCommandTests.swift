import AgentryTesting
import Foundation
import Testing

/// `agentry tools` against a real server: the tool catalog from a file, and a Sandbox key
/// listing and calling the built-in Slack simulator, with clear refusals.
@Suite("agentry tools")
struct ToolsCommandTests {
    @Test func anAdminSetsTheCatalogAndABuilderCallsATool() async throws {
        try await StoreFixture.withLocation(.sqlite) { location in
            let files = try TemporaryDirectory(prefix: "agentry-tools")
            defer { files.remove() }
            let server = try RunningProcess(["serve", "--port", "0"] + location.serveArguments)
            defer { server.stop() }
            let (url, token) = try await ServeProcessTests.started(server)
            let auth = ["--server", url, "--token", try #require(token)]

            let shown = try await AgentryProcess.run(["tools", "catalog", "show"] + auth)
            #expect(shown.status == 0 && shown.stdout.contains("name: sim-slack"), "\(shown.stdout)\(shown.stderr)")
            let bad = files.file("bad.yaml")
            try "tools:\n  - {name: x, kind: rest, base_url: 'ftp://x', data_classifications: [public]}\n".write(
                toFile: bad, atomically: false, encoding: .utf8)
            let refused = try await AgentryProcess.run(["tools", "catalog", "set", bad] + auth)
            #expect(refused.status != 0 && refused.stderr.contains("tools[0].base_url"), "\(refused.stderr)")

            let policy = files.file("policy.yaml")
            try "models: [sim/*]\ntools: [sim-*]\nmax_data_classification: internal\ncaps: {day: '5'}\n".write(
                toFile: policy, atomically: false, encoding: .utf8)
            #expect(try await AgentryProcess.run(["sandbox", "policy", "set", policy] + auth).status == 0)
            let issued = try await AgentryProcess.run(["sandbox", "key", "--name", "tools"] + auth)
            let key = try #require(
                issued.stdout.split(whereSeparator: \.isWhitespace).first { $0.hasPrefix("agt_sandbox_") }
                    .map(String.init))
            let withKey = ["--server", url, "--token", key]
            let listed = try await AgentryProcess.run(["tools", "list"] + withKey)
            #expect(
                listed.stdout.contains("post_message") && listed.stdout.contains("chat:write"),
                "\(listed.stdout)\(listed.stderr)")
            let called = try await AgentryProcess.run(
                [
                    "tools", "call", "sim-slack", "post_message", "--arg", "channel=C0GENERAL01", "--arg",
                    "text=Hi there",
                ]
                    + withKey)
            #expect(called.status == 0 && called.stdout.contains(#""ok":true"#), "\(called.stdout)\(called.stderr)")
            let read = try await AgentryProcess.run(
                [
                    "tools", "call", "sim-slack", "read_history", "--arguments",
                    #"{"channel": "C0GENERAL01", "limit": 1}"#,
                ]
                    + withKey)
            #expect(read.stdout.contains("Hi there"), "\(read.stdout)\(read.stderr)")
            let unknown = try await AgentryProcess.run(["tools", "call", "nothing", "op"] + withKey)
            #expect(unknown.status != 0 && unknown.stderr.contains("tool_not_found"), "\(unknown.stderr)")
            let malformed = try await AgentryProcess.run(
                ["tools", "call", "sim-slack", "list_channels", "--arg", "x"] + withKey)
            #expect(malformed.status != 0 && malformed.stderr.contains("name=value"), "\(malformed.stderr)")
            let notJSON = try await AgentryProcess.run(
                ["tools", "call", "sim-slack", "list_channels", "--arguments", "[1]"] + withKey)
            #expect(notJSON.status != 0 && notJSON.stderr.contains("JSON object"), "\(notJSON.stderr)")
        }
    }
}
